#include "watch.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "orphans.h"
#include "sys/syscalls.h"
#include "sys/wire.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace nsbox {
namespace {

struct Poller;

// One watched sandbox. Freed by its Poller once finished and no dispatch is using it.
struct State {
  Poller* poller = nullptr;
  int pidfd = -1;
  int report_fd = -1;
  bool finished = false;
  bool refed = true;
  // Raw N-API handles, not node-addon-api wrappers: at teardown they may belong to an addon
  // instance (napi_env) that is already gone, and must then be left alone, not deleted.
  napi_env env = nullptr;
  napi_ref callback = nullptr;
  napi_ref self = nullptr;  // strong until the exit: the wrapper is not collected before
  napi_async_context context = nullptr;
  struct State** owner_slot = nullptr;  // the wrapper's pointer to us, cleared by Finish
  State* prev = nullptr;                // the poller's list of live sandboxes
  State* next = nullptr;
};

// All sandboxes of one thread (the main thread, or a worker's) are watched through one epoll
// set, itself one uv_poll handle of that thread's loop. Per spawn this costs two
// epoll_ctl calls to add and two to remove, where a uv_poll per fd cost about ten syscalls and
// its handle bookkeeping, all on Node's thread. There is one poller per thread (per loop), not per
// load of the addon: jest, for one, loads it afresh for every test file in the same process.
struct Poller {
  uv_poll_t handle;
  int epfd = -1;
  int refs = 0;         // live sandboxes that keep the loop alive
  int dispatching = 0;  // > 0 while events are delivered: frees wait until then
  bool tearing_down = false;
  State* live = nullptr;
  State* finished = nullptr;  // finished, to be freed (linked through `next`)
  napi_async_cleanup_hook_handle teardown = nullptr;
};

// Events per loop iteration: a burst of exits is delivered over several iterations, so that the
// rest of the loop (timers above all) runs in between. The epoll set stays readable meanwhile.
constexpr int kEventsPerTurn = 16;
constexpr uintptr_t kExitTag = 1;  // in epoll data: the pidfd's event, not the report pipe's

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
  if (napi_make_callback(env, s->context, recv, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
}

void SetRefed(State* s, bool on) {
  if (s->finished || s->refed == on) return;
  s->refed = on;
  Poller* p = s->poller;
  p->refs += on ? 1 : -1;
  // The loop stays alive exactly while some watched sandbox wants it to.
  if (on && p->refs == 1) uv_ref(reinterpret_cast<uv_handle_t*>(&p->handle));
  if (!on && p->refs == 0) uv_unref(reinterpret_cast<uv_handle_t*>(&p->handle));
}

void OnPollerClosed(uv_handle_t* handle) {
  Poller* p = static_cast<Poller*>(handle->data);
  // Only now: libuv unregisters the handle's fd from its own epoll set as it closes it.
  close(p->epfd);
  napi_remove_async_cleanup_hook(p->teardown);
  delete p;
}

thread_local Poller* this_thread_poller = nullptr;

// Frees what is finished, once no dispatch may still be using it.
void Retire(Poller* p) {
  if (p->dispatching > 0) return;
  while (p->finished) {
    State* s = p->finished;
    p->finished = s->next;
    delete s;
  }
}

// Closes a sandbox's fds, out of the epoll set first: a copy of an fd in a process forked
// meanwhile would keep reporting it.
void CloseFds(State* s) {
  for (int* fd : {&s->pidfd, &s->report_fd}) {
    if (*fd < 0) continue;
    // Neither can fail for an fd we hold; if they did, nothing better could be done here.
    epoll_ctl(s->poller->epfd, EPOLL_CTL_DEL, *fd, nullptr);
    close(*fd);
    *fd = -1;
  }
}

// Stops watching for good: closes the fds, lets the wrapper be collected, and hands the State
// to the poller to free once no dispatch holds it.
void Finish(State* s) {
  if (s->finished) return;
  SetRefed(s, false);
  s->finished = true;
  Poller* p = s->poller;
  if (s->owner_slot) *s->owner_slot = nullptr;
  CloseFds(s);
  // At teardown Node frees what belongs to each addon instance itself (some may be gone).
  if (!p->tearing_down) {
    if (s->context) napi_async_destroy(s->env, s->context);
    if (s->callback) napi_delete_reference(s->env, s->callback);
    if (s->self) napi_delete_reference(s->env, s->self);
  }
  s->context = nullptr;
  s->callback = s->self = nullptr;
  if (s->prev) s->prev->next = s->next;
  else p->live = s->next;
  if (s->next) s->next->prev = s->prev;
  s->prev = nullptr;
  s->next = p->finished;
  p->finished = s;
  Retire(p);
}

// Stops watching a sandbox that may still run: the orphan collector takes its pidfd, so that it
// never stays a zombie of this process.
void Abandon(State* s) {
  if (s->pidfd >= 0) {
    epoll_ctl(s->poller->epfd, EPOLL_CTL_DEL, s->pidfd, nullptr);
    AdoptOrphan(s->pidfd);
    s->pidfd = -1;
  }
  Finish(s);
}

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

void OnExit(State* s) {
  siginfo_t si = {};
  int rc = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(s->pidfd), &si,
                  WEXITED | WNOHANG | __WALL);
  if (rc == 0 && si.si_pid == 0) return;  // not yet a zombie: the pidfd stays readable
  // What the init wrote before it exited (the command's status) is in the pipe by now.
  bool spawned = false;
  double command_status = -1;
  if (DrainReports(s, &spawned, &command_status) < 0) return;
  int code = rc == 0 ? si.si_code : 0;
  int value = rc == 0 ? si.si_status : -errno;
  CloseFds(s);  // before JavaScript hears of the exit: nothing of the sandbox is left open then
  // One call into JavaScript for the exit, the command's status with it: each call runs the
  // microtask queue, and this is the hot path of every sandbox.
  Emit(s, "exit", {double(code), double(value), command_status});
  Finish(s);
}

// Reports come until the command runs. The report pipe is watched one-shot and re-armed only
// until then: with init, the next thing to happen is the exit, and the status waiting in the
// pipe is read with it (one wakeup of the loop fewer per spawn).
void OnReport(State* s) {
  bool spawned = false;
  int state = DrainReports(s, &spawned);
  if (state < 0) return;
  if (state == 0 && !spawned) {
    epoll_event ev = {};
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.ptr = s;
    // Should re-arming fail, no report is lost: the exit drains the pipe.
    epoll_ctl(s->poller->epfd, EPOLL_CTL_MOD, s->report_fd, &ev);
    return;
  }
  if (state == 1) Emit(s, "eof", {});
}

void OnPollerReadable(uv_poll_t* handle, int, int) {
  Poller* p = static_cast<Poller*>(handle->data);
  epoll_event events[kEventsPerTurn];
  int n = epoll_wait(p->epfd, events, kEventsPerTurn, 0);
  p->dispatching++;
  for (int i = 0; i < n; i++) {
    uintptr_t data = reinterpret_cast<uintptr_t>(events[i].data.ptr);
    State* s = reinterpret_cast<State*>(data & ~kExitTag);
    if (s->finished) continue;  // closed by an earlier event of this batch
    CallbackScope scope(s->env);
    if (data & kExitTag) OnExit(s);
    else OnReport(s);
  }
  p->dispatching--;
  Retire(p);
}

// The environment is going away (a worker ending, or Node exiting): stop watching the sandboxes
// still running, and tell Node we are done once the handle is closed, so that no callback of
// this addon can run after it is unloaded.
void TeardownHook(napi_async_cleanup_hook_handle, void* arg) {
  Poller* p = static_cast<Poller*>(arg);
  if (this_thread_poller == p) this_thread_poller = nullptr;
  p->dispatching = 0;
  p->tearing_down = true;
  while (p->live) Abandon(p->live);
  Retire(p);
  uv_close(reinterpret_cast<uv_handle_t*>(&p->handle), OnPollerClosed);
}

// This thread's poller, made on first use. Returns nullptr with errno set on failure.
Poller* PollerOf(napi_env env) {
  if (this_thread_poller) return this_thread_poller;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    errno = EINVAL;
    return nullptr;
  }
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return nullptr;
  Poller* p = new Poller();
  p->epfd = epfd;
  int rc = uv_poll_init(loop, &p->handle, epfd);
  if (rc != 0) {
    close(epfd);
    delete p;
    errno = -rc;
    return nullptr;
  }
  p->handle.data = p;
  uv_unref(reinterpret_cast<uv_handle_t*>(&p->handle));
  uv_poll_start(&p->handle, UV_READABLE, OnPollerReadable);
  napi_add_async_cleanup_hook(env, TeardownHook, p, &p->teardown);
  this_thread_poller = p;
  return p;
}

// Adds a sandbox's two fds to the epoll set; returns 0 or an errno.
int Watch(Poller* p, State* s) {
  epoll_event report = {};
  report.events = EPOLLIN | EPOLLONESHOT;
  report.data.ptr = s;
  if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, s->report_fd, &report) < 0) return errno;
  epoll_event exit = {};
  exit.events = EPOLLIN;
  exit.data.ptr = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(s) | kExitTag);
  if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, s->pidfd, &exit) < 0) {
    int err = errno;
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->report_fd, nullptr);
    return err;
  }
  return 0;
}

class WatchWrap : public Napi::ObjectWrap<WatchWrap> {
 public:
  explicit WatchWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<WatchWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "new Watch(pidfd, reportFd, onEvent)").ThrowAsJavaScriptException();
      return;
    }
    int pidfd = info[0].As<Napi::Number>().Int32Value();
    int report_fd = info[1].As<Napi::Number>().Int32Value();
    State* s = new State();
    s->pidfd = pidfd;
    s->report_fd = report_fd;
    s->env = env;
    napi_value name;
    bool held = napi_create_string_utf8(env, "nsbox:IsolatedProcess", NAPI_AUTO_LENGTH, &name) == napi_ok &&
                napi_create_reference(env, info[2], 1, &s->callback) == napi_ok &&
                napi_create_reference(env, info.This(), 1, &s->self) == napi_ok &&
                napi_async_init(env, info.This(), name, &s->context) == napi_ok;
    Poller* p = held ? PollerOf(env) : nullptr;
    int err = !held ? ENOMEM : !p ? errno : Watch(p, s);
    if (err != 0) {
      // Nobody will ever watch this sandbox: end it now rather than leak it.
      nsbox_pidfd_send_signal(pidfd, SIGKILL);
      siginfo_t si;
      waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED | __WALL);
      close(pidfd);
      close(report_fd);
      if (s->context) napi_async_destroy(env, s->context);
      if (s->callback) napi_delete_reference(env, s->callback);
      if (s->self) napi_delete_reference(env, s->self);
      delete s;
      Napi::Error::New(env, strerror(err)).ThrowAsJavaScriptException();
      return;
    }
    s->poller = p;
    s->next = p->live;
    if (p->live) p->live->prev = s;
    p->live = s;
    s->refed = false;
    SetRefed(s, true);
    state_ = s;
    s->owner_slot = &state_;
  }

  // Only reached once Finish has dropped the strong reference: the State belongs to the
  // poller from then on.
  ~WatchWrap() override = default;

  Napi::Value Kill(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int sig = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : SIGTERM;
    if (!state_) return Napi::Number::New(env, ESRCH);
    int rc = nsbox_pidfd_send_signal(state_->pidfd, sig);
    return Napi::Number::New(env, rc < 0 ? errno : 0);
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (state_) SetRefed(state_, true);
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (state_) SetRefed(state_, false);
    return info.Env().Undefined();
  }

  // Stops watching without waiting for the exit (the process keeps running; the orphan
  // collector reaps it). For teardown paths only.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (state_) Abandon(state_);
    return info.Env().Undefined();
  }

 private:
  State* state_ = nullptr;
};

}  // namespace

Napi::Function WatchClass(Napi::Env env) {
  return WatchWrap::DefineClass(env, "Watch",
                                {WatchWrap::InstanceMethod<&WatchWrap::Kill>("kill"),
                                 WatchWrap::InstanceMethod<&WatchWrap::Ref>("ref"),
                                 WatchWrap::InstanceMethod<&WatchWrap::Unref>("unref"),
                                 WatchWrap::InstanceMethod<&WatchWrap::Close>("close")});
}

}  // namespace nsbox
