#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

#include "clone_child.h"
#include "helper_image.h"
#include "network.h"
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

// The optional 7th argument: { hostName, peerName, hostAddress, hostPrefix }.
bool ParseVeth(const Napi::Value& value, VethRequest* veth) {
  veth->wanted = false;
  if (value.IsUndefined()) return true;
  if (!value.IsObject()) return false;
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value host = o.Get("hostName"), peer = o.Get("peerName"), address = o.Get("hostAddress"), prefix = o.Get("hostPrefix");
  if (!host.IsString() || !peer.IsString() || !address.IsString() || !prefix.IsNumber()) return false;
  veth->wanted = true;
  veth->host_name = host.As<Napi::String>().Utf8Value();
  veth->peer_name = peer.As<Napi::String>().Utf8Value();
  veth->host_address = address.As<Napi::String>().Utf8Value();
  veth->host_prefix = prefix.As<Napi::Number>().Int32Value();
  return true;
}

// The optional 6th argument: [[fd, nstype], ...] to setns into, in order.
bool ParseJoins(const Napi::Value& value, std::vector<std::pair<int, int>>* joins) {
  joins->clear();
  if (value.IsUndefined()) return true;
  if (!value.IsArray()) return false;
  Napi::Array list = value.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value entry = list.Get(i);
    if (!entry.IsArray()) return false;
    Napi::Array pair = entry.As<Napi::Array>();
    if (pair.Length() != 2 || !pair.Get(0u).IsNumber() || !pair.Get(1u).IsNumber()) return false;
    joins->emplace_back(pair.Get(0u).As<Napi::Number>().Int32Value(), pair.Get(1u).As<Napi::Number>().Int32Value());
  }
  return true;
}

// The optional 5th argument: { writer: 'child' | 'parent', uidMap, gidMap }.
bool ParseUserns(const Napi::Value& value, UsernsMaps* maps) {
  maps->writer = MapWriter::kNone;
  if (value.IsUndefined()) return true;
  if (!value.IsObject()) return false;
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value writer = o.Get("writer"), uid = o.Get("uidMap"), gid = o.Get("gidMap");
  if (!writer.IsString() || !uid.IsString() || !gid.IsString()) return false;
  std::string who = writer.As<Napi::String>().Utf8Value();
  if (who != "child" && who != "parent") return false;
  maps->writer = who == "child" ? MapWriter::kChild : MapWriter::kParent;
  maps->uid_map = uid.As<Napi::String>().Utf8Value();
  maps->gid_map = gid.As<Napi::String>().Utf8Value();
  return true;
}

}  // namespace

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  UsernsMaps maps;
  std::vector<std::pair<int, int>> joins;
  VethRequest veth;
  if (info.Length() < 4 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsArray() ||
      !info[3].IsBoolean() || !ParseUserns(info[4], &maps) || !ParseJoins(info[5], &joins) || !ParseVeth(info[6], &veth)) {
    return ThrowTypeError(env, "spawn(plan, cloneFlags, stdio, dieWithParent, userns?, joins?, veth?)");
  }
  Napi::Uint8Array plan = info[0].As<Napi::Uint8Array>();
  int flags = info[1].As<Napi::Number>().Int32Value();
  Napi::Array stdio = info[2].As<Napi::Array>();
  bool die_with_parent = info[3].As<Napi::Boolean>().Value();
  uint32_t nstdio = stdio.Length();
  if (nstdio > kMaxStdio) return ThrowTypeError(env, "too many stdio entries");
  if (plan.ByteLength() < sizeof(nsbox_plan_header)) return ThrowTypeError(env, "plan too short");
  nsbox_plan_header header;
  memcpy(&header, plan.Data(), sizeof header);
  // With maps written or a veth made by us, the plan goes in only after them: the helper waits
  // for it before it does anything.
  bool plan_after_maps = maps.writer == MapWriter::kParent || veth.wanted;

  int err = 0;
  const char* syscall = nullptr;
  int helper_fd = HelperImageFd(&err, &syscall);
  if (helper_fd < 0) return Failure(env, err, syscall);
  int parent_pidfd = die_with_parent ? ParentPidfd() : -1;
  if (die_with_parent && parent_pidfd < 0) return Failure(env, errno, "pidfd_open");

  ChildSlot* slot = AcquireSlot();
  ChildArgs* args = &slot->args;
  Fds fds;
  if (OpenStdio(stdio, &fds, args, &syscall) < 0 || (syscall = "pipe2", pipe2(fds.plan, O_CLOEXEC) < 0) ||
      (!plan_after_maps && WritePlan(plan, &fds, &syscall) < 0) || (syscall = "pipe2", pipe2(fds.report, O_CLOEXEC) < 0)) {
    err = errno;
    fds.CloseAllOfThem();
    ReleaseSlot(slot);
    return Failure(env, err, syscall);
  }
  args->count = static_cast<int>(nstdio) + NSBOX_CONTROL_FDS;
  args->sources[nstdio + NSBOX_FD_PLAN] = fds.plan[0];
  args->sources[nstdio + NSBOX_FD_REPORT] = fds.report[1];
  args->sources[nstdio + NSBOX_FD_PARENT] = parent_pidfd;
  args->helper_fd = helper_fd;
  args->maps = std::move(maps);
  args->joins = std::move(joins);
  // The helper hands its own environment to the command when the plan says so: Node keeps
  // `environ` in step with process.env, and reading it here costs nothing.
  FillExec(args, nstdio, (header.options & NSBOX_PLAN_INHERIT_ENV) != 0);

  // User and PID namespaces come with the clone: the user namespace must exist first, as it owns
  // the others, and only a clone makes the helper PID 1. So does the network namespace when we
  // are to put a veth end into it right after. The mount namespace too: the kernel refuses to
  // bind-mount a mount namespace whose id is not above the caller's (a loop check), and ids made
  // on another CPU by the child can be lower (persistNamespace failed so, under load). The rest,
  // among them the costly network namespace, the child unshares itself, in parallel with Node.
  int at_clone = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | (veth.wanted ? CLONE_NEWNET : 0);
  args->unshare_flags = flags & ~at_clone;
  int pidfd = -1;
  pid_t pid = CloneHelper(slot, flags & at_clone, &pidfd);
  if (pid < 0) {
    err = errno;
    fds.CloseAllOfThem();
    return Failure(env, err, "clone");
  }
  char map_path[64];
  MapFailure map_failure = {0, nullptr};
  long rc = args->maps.writer == MapWriter::kParent ? WriteMapsFromParent(args->maps, pid, map_path, &map_failure) : 0;
  if (rc == 0 && veth.wanted) rc = CreateVeth(veth, pid, &map_failure.syscall);
  if (rc == 0 && plan_after_maps && WritePlan(plan, &fds, &map_failure.syscall) < 0) rc = -errno;
  if (rc < 0) {
    Reap(pidfd, true);
    fds.CloseAllOfThem();
    return Failure(env, static_cast<int>(-rc), map_failure.syscall, map_failure.stage ? map_path : nullptr);
  }
  // The child has its own copy of the fd table: ours of its ends can go now.
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

}  // namespace nsbox
