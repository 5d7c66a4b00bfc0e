#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <string>

#include "helper_image.h"
#include "result.h"
#include "sys/syscalls.h"
#include "sys/wire.h"
#include "userns.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace nsbox {
namespace {

constexpr int kPipe = -1;
constexpr int kIgnore = -2;
constexpr int kMaxStdio = 64;
constexpr int kMaxFds = kMaxStdio + NSBOX_CONTROL_FDS;
constexpr size_t kChildStack = 16384;

// Everything the vfork child needs, prepared by the parent: between clone and exec the child
// shares our memory and may not allocate, lock or throw (Node is multi-threaded).
struct ChildArgs {
  int sources[kMaxFds];  // what becomes fd i in the helper; -1 leaves i closed
  int count;
  int helper_fd;
  char* const* argv;
  char* const* envp;
  UsernsMaps maps;
  volatile int err;
  const char* volatile syscall;
  const char* volatile path;
};

int ChildFail(ChildArgs* args, const char* syscall, const char* path = nullptr) {
  args->err = errno;
  args->syscall = syscall;
  args->path = path;
  _exit(127);
}

int ChildMain(void* raw) {
  ChildArgs* args = static_cast<ChildArgs*>(raw);
  MapFailure map_failure;
  if (PrepareChildUserns(args->maps, &map_failure) < 0) {
    return ChildFail(args, map_failure.syscall, map_failure.path);
  }
  int n = args->count;
  int moved[kMaxFds];
  // First lift every source above the target range, so placing fd i never clobbers a source
  // still to be placed; dup2 then clears close-on-exec on exactly the fds the helper gets.
  for (int i = 0; i < n; i++) {
    moved[i] = args->sources[i] < 0 ? -1 : fcntl(args->sources[i], F_DUPFD_CLOEXEC, n);
    if (args->sources[i] >= 0 && moved[i] < 0) return ChildFail(args, "fcntl");
  }
  int helper = fcntl(args->helper_fd, F_DUPFD_CLOEXEC, n);
  if (helper < 0) return ChildFail(args, "fcntl");
  for (int i = 0; i < n; i++) {
    if (moved[i] < 0) {
      close(i);
    } else if (dup2(moved[i], i) < 0) {
      return ChildFail(args, "dup2");
    }
  }
  nsbox_execveat(helper, "", args->argv, args->envp, AT_EMPTY_PATH);
  return ChildFail(args, "execveat");
}

int ParentPidfd() {
  static int fd = -1;
  static std::once_flag once;
  std::call_once(once, [] { fd = nsbox_pidfd_open(getpid(), 0); });
  return fd;
}

int DevNull() {
  static int fd = -1;
  static std::once_flag once;
  std::call_once(once, [] { fd = open("/dev/null", O_RDWR | O_CLOEXEC); });
  return fd;
}

void CloseAll(int* fds, int count) {
  for (int i = 0; i < count; i++) {
    if (fds[i] >= 0) close(fds[i]);
    fds[i] = -1;
  }
}

// The fds a spawn opens; every path out of Spawn closes what it must through this.
struct Fds {
  int child[kMaxStdio];   // our copies of the child's ends of new pipes
  int parent[kMaxStdio];  // our ends, returned to JavaScript
  int plan[2] = {-1, -1};
  int report[2] = {-1, -1};
  Fds() {
    for (int i = 0; i < kMaxStdio; i++) child[i] = parent[i] = -1;
  }
  void CloseChildSide() {
    CloseAll(child, kMaxStdio);
    CloseAll(plan, 2);
    if (report[1] >= 0) close(report[1]);
    report[1] = -1;
  }
  void CloseAllOfThem() {
    CloseChildSide();
    CloseAll(parent, kMaxStdio);
    if (report[0] >= 0) close(report[0]);
    report[0] = -1;
  }
};

// Opens what each stdio entry asks for and fills args->sources[0..n).
int OpenStdio(const Napi::Array& stdio, Fds* fds, ChildArgs* args, const char** syscall) {
  uint32_t n = stdio.Length();
  for (uint32_t i = 0; i < n; i++) {
    int spec = stdio.Get(i).As<Napi::Number>().Int32Value();
    if (spec == kPipe) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) < 0) return *syscall = "pipe2", -1;
      // fd 0 is read by the child; every other fd is written by it.
      fds->child[i] = i == 0 ? p[0] : p[1];
      fds->parent[i] = i == 0 ? p[1] : p[0];
      args->sources[i] = fds->child[i];
    } else if (spec == kIgnore) {
      args->sources[i] = DevNull();
      if (args->sources[i] < 0) return *syscall = "open", -1;
    } else {
      args->sources[i] = spec;
    }
  }
  return 0;
}

int WritePlan(const Napi::Uint8Array& plan, Fds* fds, const char** syscall) {
  size_t size = plan.ByteLength();
  // The whole plan sits in the pipe before the helper runs, so the write must not block.
  if (size > 65536 && fcntl(fds->plan[1], F_SETPIPE_SZ, static_cast<int>(size)) < 0) {
    return *syscall = "fcntl", -1;
  }
  const uint8_t* at = plan.Data();
  while (size > 0) {
    ssize_t n = write(fds->plan[1], at, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return *syscall = "write", -1;
    at += n;
    size -= static_cast<size_t>(n);
  }
  close(fds->plan[1]);
  fds->plan[1] = -1;
  return 0;
}

// Collects a child nobody else can reap (exit_signal 0 needs __WALL), optionally killing it.
void Reap(int pidfd, bool kill_first) {
  if (kill_first) nsbox_pidfd_send_signal(pidfd, SIGKILL);
  siginfo_t si;
  while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED | __WALL) < 0 &&
         errno == EINTR) {
  }
  close(pidfd);
}

// Signals stay blocked across the clone: the child inherits the mask through exec, so no
// Node or libuv handler can ever run in it; the helper takes them from a signalfd.
pid_t CloneHelper(ChildArgs* args, int flags, int* pidfd) {
  alignas(64) char stack[kChildStack];
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone(ChildMain, stack + sizeof stack, flags | CLONE_VM | CLONE_VFORK | CLONE_PIDFD,
                    args, pidfd);
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return pid;
}

// The optional 5th argument: { writer: 'child' | 'parent', uidMap, gidMap }.
bool ParseUserns(const Napi::Value& value, std::string* uid_map, std::string* gid_map, UsernsMaps* maps) {
  if (value.IsUndefined()) return true;
  if (!value.IsObject()) return false;
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value writer = o.Get("writer"), uid = o.Get("uidMap"), gid = o.Get("gidMap");
  if (!writer.IsString() || !uid.IsString() || !gid.IsString()) return false;
  std::string who = writer.As<Napi::String>().Utf8Value();
  if (who != "child" && who != "parent") return false;
  *uid_map = uid.As<Napi::String>().Utf8Value();
  *gid_map = gid.As<Napi::String>().Utf8Value();
  maps->writer = who == "child" ? MapWriter::kChild : MapWriter::kParent;
  maps->uid_map = uid_map->c_str();
  maps->gid_map = gid_map->c_str();
  return true;
}

}  // namespace

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string uid_map, gid_map;
  ChildArgs args = {};
  if (info.Length() < 4 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsArray() ||
      !info[3].IsBoolean() || !ParseUserns(info[4], &uid_map, &gid_map, &args.maps)) {
    return ThrowTypeError(env, "spawn(plan, cloneFlags, stdio, dieWithParent, userns?)");
  }
  Napi::Uint8Array plan = info[0].As<Napi::Uint8Array>();
  int flags = info[1].As<Napi::Number>().Int32Value();
  Napi::Array stdio = info[2].As<Napi::Array>();
  bool die_with_parent = info[3].As<Napi::Boolean>().Value();
  uint32_t nstdio = stdio.Length();
  if (nstdio > kMaxStdio) return ThrowTypeError(env, "too many stdio entries");
  if (plan.ByteLength() < sizeof(nsbox_plan_header)) return ThrowTypeError(env, "plan too short");
  // With maps written by us, the plan goes in only after them: the helper waits for it.
  bool plan_after_maps = args.maps.writer == MapWriter::kParent;

  int err = 0;
  const char* syscall = nullptr;
  args.helper_fd = HelperImageFd(&err, &syscall);
  if (args.helper_fd < 0) return Failure(env, err, syscall);
  int parent_pidfd = die_with_parent ? ParentPidfd() : -1;
  if (die_with_parent && parent_pidfd < 0) return Failure(env, errno, "pidfd_open");

  Fds fds;
  if (OpenStdio(stdio, &fds, &args, &syscall) < 0 || (syscall = "pipe2", pipe2(fds.plan, O_CLOEXEC) < 0) ||
      (!plan_after_maps && WritePlan(plan, &fds, &syscall) < 0) || (syscall = "pipe2", pipe2(fds.report, O_CLOEXEC) < 0)) {
    err = errno;
    fds.CloseAllOfThem();
    return Failure(env, err, syscall);
  }
  args.count = static_cast<int>(nstdio) + NSBOX_CONTROL_FDS;
  args.sources[nstdio + NSBOX_FD_PLAN] = fds.plan[0];
  args.sources[nstdio + NSBOX_FD_REPORT] = fds.report[1];
  args.sources[nstdio + NSBOX_FD_PARENT] = parent_pidfd;
  char count[16];
  snprintf(count, sizeof count, "%u", nstdio);
  char name[] = "nsbox-init";
  char* argv[] = {name, count, nullptr};
  char* no_env[] = {nullptr};
  nsbox_plan_header header;
  memcpy(&header, plan.Data(), sizeof header);  // lib/plan.ts always writes a whole header
  args.argv = argv;
  // The helper hands its own environment to the command when the plan says so: Node keeps
  // `environ` in step with process.env, and reading it here costs nothing.
  args.envp = (header.options & NSBOX_PLAN_INHERIT_ENV) ? environ : no_env;

  int pidfd = -1;
  pid_t pid = CloneHelper(&args, flags, &pidfd);
  err = errno;
  if (pid < 0 || args.err) {
    if (pid >= 0) {
      Reap(pidfd, false);  // it died before the helper ran
      err = args.err;
    }
    fds.CloseAllOfThem();
    return Failure(env, err, pid < 0 ? "clone" : args.syscall, pid < 0 ? nullptr : args.path);
  }
  char map_path[64];
  MapFailure map_failure = {nullptr, nullptr};
  if (plan_after_maps && (WriteMapsFromParent(args.maps, pid, map_path, &map_failure) < 0 ||
                          WritePlan(plan, &fds, &map_failure.syscall) < 0)) {
    err = errno;
    Reap(pidfd, true);
    fds.CloseAllOfThem();
    return Failure(env, err, map_failure.syscall, map_failure.path);
  }
  fds.CloseChildSide();
  if (fcntl(fds.report[0], F_SETFL, O_NONBLOCK) < 0) {
    err = errno;
    Reap(pidfd, true);
    fds.CloseAllOfThem();
    return Failure(env, err, "fcntl");
  }

  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, pid));
  result.Set("pidfd", Napi::Number::New(env, pidfd));
  result.Set("reportFd", Napi::Number::New(env, fds.report[0]));
  Napi::Array parent_ends = Napi::Array::New(env, nstdio);
  for (uint32_t i = 0; i < nstdio; i++) parent_ends.Set(i, Napi::Number::New(env, fds.parent[i]));
  result.Set("stdio", parent_ends);
  return result;
}

Napi::Value Getenv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowTypeError(env, "getenv(name)");
  const char* value = getenv(info[0].As<Napi::String>().Utf8Value().c_str());
  return value ? Napi::String::New(env, value) : env.Undefined();
}

}  // namespace nsbox
