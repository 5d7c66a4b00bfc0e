#include "watch.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "sys/syscalls.h"
#include "sys/wire.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace nsbox {
namespace {

// Owns the uv handles. It outlives the JavaScript wrapper if need be: handles are freed only
// in their close callbacks, and the wrapper is kept alive (strong reference) until exit.
struct State {
  uv_poll_t report_poll;
  uv_poll_t exit_poll;
  int pidfd;
  int report_fd;
  int open_handles = 0;
  bool finished = false;
  napi_env env;
  Napi::FunctionReference callback;
  Napi::ObjectReference self;
  Napi::AsyncContext* context = nullptr;
  struct State** owner_slot = nullptr;  // the wrapper's pointer to us, cleared by Finish
  // Held until both handles have closed: a worker's teardown waits for it, so the close callbacks
  // (code of this addon) run before the addon can be unloaded.
  napi_async_cleanup_hook_handle teardown = nullptr;
};

// A handle scope for libuv callbacks, by raw N-API (see Emit).
class CallbackScope {
 public:
  explicit CallbackScope(napi_env env) : env_(env) { napi_open_handle_scope(env, &scope_); }
  ~CallbackScope() {
    if (scope_) napi_close_handle_scope(env_, scope_);
  }

 private:
  napi_env env_;
  napi_handle_scope scope_ = nullptr;
};

// One event to JavaScript: onEvent(kind, ...numbers, text?). Raw N-API on purpose: these run from
// libuv callbacks, also while a worker is being terminated, when JavaScript cannot run and
// node-addon-api would turn the failure into a fatal error. A failure here only means nobody is
// listening any more. An exception thrown by the listener is reported as uncaught. The caller
// holds a HandleScope.
void Emit(State* s, const char* kind, std::initializer_list<double> numbers, const char* text = nullptr,
          size_t text_len = 0) {
  napi_env env = s->env;
  napi_value argv[8];
  size_t argc = 0;
  if (napi_create_string_utf8(env, kind, NAPI_AUTO_LENGTH, &argv[argc++]) != napi_ok) return;
  for (double n : numbers) {
    if (napi_create_double(env, n, &argv[argc++]) != napi_ok) return;
  }
  if (text && napi_create_string_utf8(env, text, text_len, &argv[argc++]) != napi_ok) return;
  napi_value recv, fn, result;
  if (napi_get_reference_value(env, s->self, &recv) != napi_ok || napi_get_reference_value(env, s->callback, &fn) != napi_ok) return;
  if (napi_make_callback(env, *s->context, recv, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
}

void OnClosed(uv_handle_t* handle) {
  State* s = static_cast<State*>(handle->data);
  if (--s->open_handles > 0) return;
  if (s->teardown) napi_remove_async_cleanup_hook(s->teardown);
  delete s;
}

// Stops watching for good: closes fds and handles, and lets the wrapper be collected.
void Finish(State* s) {
  if (s->finished) return;
  s->finished = true;
  if (s->owner_slot) *s->owner_slot = nullptr;
  if (s->pidfd >= 0) close(s->pidfd);
  if (s->report_fd >= 0) close(s->report_fd);
  s->pidfd = s->report_fd = -1;
  delete s->context;
  s->context = nullptr;
  s->callback.Reset();
  s->self.Reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&s->report_poll), OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->exit_poll), OnClosed);
}

// The environment is going away (a worker ending) with the sandbox still watched: stop watching;
// OnClosed tells Node we are done.
void TeardownHook(napi_async_cleanup_hook_handle, void* arg) { Finish(static_cast<State*>(arg)); }

// Reads and delivers every whole record waiting in the report pipe. Returns 1 at EOF, 0 when the
// pipe is empty for now, -1 when the JavaScript side closed the watch meanwhile. With
// `command_status`, an EXIT record is kept there for the exit event instead of sent on its own.
int DrainReports(State* s, bool* spawned, double* command_status = nullptr) {
  for (;;) {
    nsbox_report records[16];
    ssize_t n = read(s->report_fd, records, sizeof records);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    // Writes are whole records (atomic, under PIPE_BUF), so reads are too.
    for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof(nsbox_report)); i++) {
      const nsbox_report& r = records[i];
      if (r.type == NSBOX_REPORT_SPAWNED) *spawned = true;
      if (r.type == NSBOX_REPORT_EXIT && command_status) {
        *command_status = r.value;
        continue;
      }
      Emit(s, "report", {double(r.type), double(r.step), double(r.err), double(r.value)}, r.syscall,
           strnlen(r.syscall, sizeof r.syscall));
      if (s->finished) return -1;
    }
    if (n <= 0) return 1;  // EOF: the helper (and the command, without init) is done writing
  }
}

void OnExitReadable(uv_poll_t* handle, int status, int) {
  State* s = static_cast<State*>(handle->data);
  siginfo_t si = {};
  int rc = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(s->pidfd), &si,
                  WEXITED | WNOHANG | __WALL);
  if (rc == 0 && si.si_pid == 0 && status == 0) return;  // not yet a zombie
  uv_poll_stop(handle);
  CallbackScope scope(s->env);
  // What the init wrote before it exited (the command's status) is in the pipe by now.
  bool spawned = false;
  double command_status = -1;
  if (DrainReports(s, &spawned, &command_status) < 0) return;
  int code = rc == 0 ? si.si_code : 0;
  int value = rc == 0 ? si.si_status : -errno;
  close(s->pidfd);
  close(s->report_fd);
  s->pidfd = s->report_fd = -1;
  // One call into JavaScript for the exit, the command's status with it: each call runs the
  // microtask queue, and this is the hot path of every sandbox.
  Emit(s, "exit", {double(code), double(value), command_status});
  Finish(s);
}

// Reports come until the command runs: then, with init, the next thing to happen is the exit,
// and the status waiting in the pipe is read with it (one wakeup of the loop fewer per spawn).
void OnReportReadable(uv_poll_t* handle, int, int) {
  State* s = static_cast<State*>(handle->data);
  CallbackScope scope(s->env);
  bool spawned = false;
  int state = DrainReports(s, &spawned);
  if (state < 0 || (state == 0 && !spawned)) return;
  uv_poll_stop(handle);
  uv_poll_start(&s->exit_poll, UV_READABLE, OnExitReadable);
  if (state == 1) Emit(s, "eof", {});
}

class Watch : public Napi::ObjectWrap<Watch> {
 public:
  explicit Watch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watch>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "new Watch(pidfd, reportFd, onEvent)").ThrowAsJavaScriptException();
      return;
    }
    State* s = new State();
    s->env = env;
    s->pidfd = info[0].As<Napi::Number>().Int32Value();
    s->report_fd = info[1].As<Napi::Number>().Int32Value();
    s->callback = Napi::Persistent(info[2].As<Napi::Function>());
    s->self = Napi::Persistent(info.This().As<Napi::Object>());
    s->context = new Napi::AsyncContext(env, "nsbox:IsolatedProcess", info.This().As<Napi::Object>());
    uv_loop_t* loop = nullptr;
    int rc = napi_get_uv_event_loop(env, &loop) == napi_ok ? 0 : UV_EINVAL;
    if (rc == 0) rc = uv_poll_init(loop, &s->report_poll, s->report_fd);
    if (rc == 0) {
      rc = uv_poll_init(loop, &s->exit_poll, s->pidfd);
      if (rc != 0) {
        s->report_poll.data = s;
        s->open_handles = 1;
        uv_close(reinterpret_cast<uv_handle_t*>(&s->report_poll), OnClosed);
      }
    }
    if (rc != 0) {
      // Nobody will ever watch this sandbox: end it now rather than leak it.
      nsbox_pidfd_send_signal(s->pidfd, SIGKILL);
      siginfo_t si;
      waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(s->pidfd), &si, WEXITED | __WALL);
      close(s->pidfd);
      close(s->report_fd);
      delete s->context;
      s->callback.Reset();
      s->self.Reset();
      s->finished = true;
      if (s->open_handles == 0) delete s;  // else OnClosed frees it
      Napi::Error::New(env, uv_strerror(rc)).ThrowAsJavaScriptException();
      return;
    }
    s->report_poll.data = s->exit_poll.data = s;
    s->open_handles = 2;
    napi_add_async_cleanup_hook(env, TeardownHook, s, &s->teardown);
    uv_poll_start(&s->report_poll, UV_READABLE | UV_DISCONNECT, OnReportReadable);
    state_ = s;
    s->owner_slot = &state_;
  }

  // Only reached once Finish has dropped the strong reference: the State belongs to the
  // handles from then on.
  ~Watch() override = default;

  Napi::Value Kill(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int sig = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : SIGTERM;
    if (!Alive()) return Napi::Number::New(env, ESRCH);
    int rc = nsbox_pidfd_send_signal(state_->pidfd, sig);
    return Napi::Number::New(env, rc < 0 ? errno : 0);
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    SetRef(true);
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo& info) {
    SetRef(false);
    return info.Env().Undefined();
  }

  // Stops watching without waiting for the exit (the process keeps running, uncollected
  // until this process exits). For teardown paths only.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (Alive()) Finish(state_);
    return info.Env().Undefined();
  }

 private:
  bool Alive() const { return state_ != nullptr; }

  void SetRef(bool on) {
    if (!Alive()) return;
    auto set = on ? uv_ref : uv_unref;
    set(reinterpret_cast<uv_handle_t*>(&state_->report_poll));
    set(reinterpret_cast<uv_handle_t*>(&state_->exit_poll));
  }

  State* state_ = nullptr;
};

}  // namespace

Napi::Function WatchClass(Napi::Env env) {
  return Watch::DefineClass(env, "Watch",
                            {Watch::InstanceMethod<&Watch::Kill>("kill"),
                             Watch::InstanceMethod<&Watch::Ref>("ref"),
                             Watch::InstanceMethod<&Watch::Unref>("unref"),
                             Watch::InstanceMethod<&Watch::Close>("close")});
}

}  // namespace nsbox
