#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>

#include "clone_child.h"
#include "helper_image.h"
#include "network.h"
#include "request.h"
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

// The read end every helper that dies with its parent gets; the only write end stays here, never
// written, so the read end reports POLLHUP exactly when this process is gone. Unlike a pidfd of
// Node it grants nothing: a command that takes it from the init can only wait on it too.
int ParentDeathFd() {
  static int fds[2] = {-1, -1};
  static std::once_flag once;
  std::call_once(once, [] {
    if (pipe2(fds, O_CLOEXEC) < 0) fds[0] = fds[1] = -1;
  });
  return fds[0];
}

int DevNull() {
  static int fd = -1;
  static std::once_flag once;
  std::call_once(once, [] { fd = open("/dev/null", O_RDWR | O_CLOEXEC); });
  return fd;
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// The fds a spawn opens; every path out of Spawn closes what it must through this.
struct Fds {
  int child[kMaxStdio];   // our copies of the child's ends of new pipes
  int parent[kMaxStdio];  // our ends, returned to JavaScript
  int plan = -1;          // the helper's plan: a pipe's read end, or a memfd
  int report[2] = {-1, -1};
  int sync[2] = {-1, -1};  // closed by us once maps and veth are in place (WAIT_PARENT)
  Fds() {
    for (int i = 0; i < kMaxStdio; i++) child[i] = parent[i] = -1;
  }
  void CloseChildSide() {
    for (int& fd : child) CloseFd(&fd);
    CloseFd(&plan);
    CloseFd(&report[1]);
    CloseFd(&sync[0]);
  }
  void CloseAllOfThem() {
    CloseChildSide();
    for (int& fd : parent) CloseFd(&fd);
    CloseFd(&report[0]);
    CloseFd(&sync[1]);
  }
};

// Opens what each stdio entry asks for and fills args->sources[0..n).
int OpenStdio(const SpawnRequest& request, Fds* fds, ChildArgs* args, const char** syscall) {
  for (uint32_t i = 0; i < request.nstdio; i++) {
    int spec = request.StdioAt(i);
    if (spec == kPipe && i >= 3) {
      // Extra fds are duplex, as child_process makes them: a socket pair, not a pipe.
      int p[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0) return *syscall = "socketpair", -1;
      fds->child[i] = p[1];
      fds->parent[i] = p[0];
      args->sources[i] = fds->child[i];
    } else if (spec == kPipe) {
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

// Plans up to a page go through a pipe, as ever: every pipe holds at least two pages (even for an
// unprivileged user over fs.pipe-user-pages-soft), so the write cannot block, and a pipe costs
// less than a memfd. A larger plan goes in a memfd the helper reads from offset 0 (pwrite leaves
// the offset there): no capacity to exceed, nothing that could block this thread. The helper
// reads either to its end.
constexpr size_t kPlanInPipe = 4096;

int WriteAll(int fd, const uint8_t* at, size_t size, bool positioned) {
  off_t offset = 0;
  while (size > 0) {
    ssize_t n = positioned ? pwrite(fd, at, size, offset) : write(fd, at, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    at += n;
    offset += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

int WritePlan(const SpawnRequest& request, Fds* fds, const char** syscall) {
  if (request.plan_size <= kPlanInPipe) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return *syscall = "pipe2", -1;
    fds->plan = p[0];
    int rc = WriteAll(p[1], request.plan, request.plan_size, false);
    int err = errno;
    close(p[1]);
    errno = err;
    return rc < 0 ? (*syscall = "write", -1) : 0;
  }
  fds->plan = memfd_create("nsbox-plan", MFD_CLOEXEC);
  if (fds->plan < 0) return *syscall = "memfd_create", -1;
  return WriteAll(fds->plan, request.plan, request.plan_size, true) < 0 ? (*syscall = "pwrite", -1) : 0;
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

// What the addon does after the clone, before the helper may go on: maps, then the veth.
long AfterClone(const SpawnRequest& request, pid_t pid, char* path, int* stage, const char** syscall) {
  path[0] = '\0';
  if (request.options & NSBOX_SPAWN_MAPS_BY_PARENT) {
    long rc = WriteMapsFromParent(request.uid_map, request.gid_map, pid, path, stage, syscall);
    if (rc < 0) return rc;
    path[0] = '\0';
  }
  if (request.options & NSBOX_SPAWN_VETH) {
    VethRequest veth;
    veth.wanted = true;
    veth.host_name = request.veth_host_name;
    veth.peer_name = request.veth_peer_name;
    veth.host_address = request.veth_host_address;
    veth.host_prefix = request.veth_prefix;
    *stage = NSBOX_START_VETH;
    long rc = CreateVeth(veth, pid, syscall);
    if (rc < 0) return rc;
  }
  return 0;
}

}  // namespace

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) return ThrowTypeError(env, "spawn(request: Uint8Array)");
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  SpawnRequest request;
  if (!DecodeRequest(bytes.Data(), bytes.ByteLength(), &request) || request.nstdio > kMaxStdio) {
    return Failure(env, EINVAL, "spawn", nullptr, NSBOX_START_REQUEST);
  }
  bool wait_parent = (request.plan_options & NSBOX_PLAN_WAIT_PARENT) != 0;

  int err = 0;
  const char* syscall = nullptr;
  int helper_fd = HelperImageFd(&err, &syscall);
  if (helper_fd < 0) return Failure(env, err, syscall, nullptr, NSBOX_START_IMAGE);
  int death_fd = -1;
  if (request.options & NSBOX_SPAWN_DIE_WITH_PARENT) {
    death_fd = ParentDeathFd();
    if (death_fd < 0) return Failure(env, errno, "pipe2", nullptr, NSBOX_START_PIPES);
  }

  ChildSlot* slot = AcquireSlot();
  ChildArgs* args = &slot->args;
  Fds fds;
  if (!FillChildArgs(args, request)) {
    ReleaseSlot(slot);
    return Failure(env, EINVAL, "spawn", nullptr, NSBOX_START_REQUEST);
  }
  if (OpenStdio(request, &fds, args, &syscall) < 0 || WritePlan(request, &fds, &syscall) < 0 ||
      (syscall = "pipe2", pipe2(fds.report, O_CLOEXEC) < 0) || (wait_parent && pipe2(fds.sync, O_CLOEXEC) < 0)) {
    err = errno;
    fds.CloseAllOfThem();
    ReleaseSlot(slot);
    return Failure(env, err, syscall, nullptr, NSBOX_START_PIPES);
  }
  uint32_t n = request.nstdio;
  args->count = static_cast<int>(n) + NSBOX_CONTROL_FDS;
  args->sources[n + NSBOX_FD_PLAN] = fds.plan;
  args->sources[n + NSBOX_FD_REPORT] = fds.report[1];
  args->sources[n + NSBOX_FD_PARENT] = death_fd;
  args->sources[n + NSBOX_FD_SYNC] = fds.sync[0];
  args->helper_fd = helper_fd;

  int pidfd = -1;
  pid_t pid = CloneHelper(slot, request.clone_flags, &pidfd);
  if (pid < 0) {
    err = errno;
    fds.CloseAllOfThem();
    return Failure(env, err, "clone", nullptr, NSBOX_START_CLONE);
  }
  if (wait_parent) {
    char path[64];
    int stage = 0;
    long rc = AfterClone(request, pid, path, &stage, &syscall);
    if (rc < 0) {
      Reap(pidfd, true);
      fds.CloseAllOfThem();
      return Failure(env, static_cast<int>(-rc), syscall, path[0] ? path : nullptr, stage);
    }
    CloseFd(&fds.sync[1]);  // EOF: the helper goes on
  }
  // The child has its own copy of the fd table: ours of its ends can go now.
  fds.CloseChildSide();
  if (fcntl(fds.report[0], F_SETFL, O_NONBLOCK) < 0) {
    err = errno;
    Reap(pidfd, true);
    fds.CloseAllOfThem();
    return Failure(env, err, "fcntl", nullptr, NSBOX_START_PIPES);
  }

  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, pid));
  result.Set("pidfd", Napi::Number::New(env, pidfd));
  result.Set("reportFd", Napi::Number::New(env, fds.report[0]));
  Napi::Array parent_ends = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; i++) parent_ends.Set(i, Napi::Number::New(env, fds.parent[i]));
  result.Set("stdio", parent_ends);
  return result;
}

namespace {
int ExitAtOnce(void*) { return 0; }
}  // namespace

Napi::Value TryClone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowTypeError(env, "tryClone(flags)");
  alignas(64) static thread_local char stack[4096];
  int flags = info[0].As<Napi::Number>().Int32Value();
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int pidfd = -1;
  // CLONE_VFORK: the child's only work is to exit, on a stack of this thread's.
  pid_t pid = clone(ExitAtOnce, stack + sizeof stack, flags | CLONE_VM | CLONE_VFORK | CLONE_PIDFD, nullptr, &pidfd);
  int err = pid < 0 ? errno : 0;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid >= 0) Reap(pidfd, false);
  return Napi::Number::New(env, err);
}

Napi::Value Clone3Errno(const Napi::CallbackInfo& info) {
  long rc = syscall(SYS_clone3, nullptr, 0);
  return Napi::Number::New(info.Env(), rc < 0 ? errno : 0);
}

Napi::Value Getenv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowTypeError(env, "getenv(name)");
  const char* value = getenv(info[0].As<Napi::String>().Utf8Value().c_str());
  return value ? Napi::String::New(env, value) : env.Undefined();
}

Napi::Value Pipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool duplex = info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
  int p[2];
  if (duplex ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0 : pipe2(p, O_CLOEXEC) < 0) {
    return Failure(env, errno, duplex ? "socketpair" : "pipe2");
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, p[0]));
  result.Set(1u, Napi::Number::New(env, p[1]));
  return result;
}

}  // namespace nsbox
