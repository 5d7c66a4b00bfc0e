#include "clone_child.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>

#include "sys/raw.h"

extern char** environ;

// The child's code: its own section, so a test can check that it calls nothing outside it. No
// stack protector (its failure path is a libc call) and no loops turned into memset/memcpy calls.
#if defined(__clang__)
#define CHILD_CODE __attribute__((section(".text.nsbox_child"), no_stack_protector))
#else
#define CHILD_CODE \
  __attribute__((section(".text.nsbox_child"), no_stack_protector, optimize("no-tree-loop-distribute-patterns")))
#endif

namespace nsbox {
namespace {

CHILD_CODE void ChildCopyName(char* dst, size_t size, const char* src) {
  size_t i = 0;
  for (; i + 1 < size && src[i]; i++) dst[i] = src[i];
  for (; i < size; i++) dst[i] = 0;
}

// Reports a failure before the helper ran on the report pipe (whose parent end the watch reads),
// then exits. Only this child's own copy of the fd table is touched.
[[noreturn]] CHILD_CODE void ChildFail(int report_fd, long err, int stage, const char* syscall) {
  nsbox_report record;
  record.type = NSBOX_REPORT_ERROR;
  record.step = -1;
  record.err = static_cast<int32_t>(-err);
  record.value = stage;
  ChildCopyName(record.syscall, sizeof record.syscall, syscall);
  rt_syscall3(SYS_write, report_fd, reinterpret_cast<long>(&record), sizeof record);
  for (;;) rt_syscall3(SYS_exit_group, 127, 0, 0);
}

CHILD_CODE long ChildWriteFile(const char* path, const char* data, long len) {
  long fd = rt_syscall6(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_WRONLY | O_CLOEXEC, 0, 0, 0);
  if (fd < 0) return fd;
  long n = rt_syscall3(SYS_write, fd, reinterpret_cast<long>(data), len);
  rt_syscall3(SYS_close, fd, 0, 0);
  return n == len ? 0 : n < 0 ? n : -EIO;
}

// User namespace, MAPS_BY_PARENT: inheritable = permitted, then every capability ambient, so they
// survive the exec of the (non-setuid) helper although its uid is not mapped yet.
CHILD_CODE long ChildRaiseAmbient(const char** syscall) {
  __user_cap_header_struct header;
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  long rc = rt_syscall3(SYS_capget, reinterpret_cast<long>(&header), reinterpret_cast<long>(data), 0);
  if (rc < 0) return *syscall = "capget", rc;
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) data[i].inheritable = data[i].permitted;
  rc = rt_syscall3(SYS_capset, reinterpret_cast<long>(&header), reinterpret_cast<long>(data), 0);
  if (rc < 0) return *syscall = "capset", rc;
  for (long cap = 0; cap <= CAP_LAST_CAP; cap++) {
    rc = rt_syscall6(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0, 0);
    if (rc < 0 && rc != -EINVAL) return *syscall = "prctl", rc;
  }
  return 0;
}

// Entering a sandbox's user namespace leaves our uid unmapped there when its maps do not cover
// it (multi-range maps): exec would then drop every capability. nsenter's answer: become its
// uid and gid 0 first. setgroups is refused where the namespace denies it, which is harmless.
CHILD_CODE long ChildBecomeRoot(const char** syscall) {
  long rc = rt_syscall3(SYS_setgroups, 0, 0, 0);
  if (rc < 0 && rc != -EPERM) return *syscall = "setgroups", rc;
  rc = rt_syscall3(SYS_setresgid, 0, 0, 0);
  if (rc < 0) return *syscall = "setresgid", rc;
  rc = rt_syscall3(SYS_setresuid, 0, 0, 0);
  if (rc < 0) return *syscall = "setresuid", rc;
  return 0;
}

CHILD_CODE int ChildMain(void* raw) {
  ChildArgs* args = static_cast<ChildArgs*>(raw);
  int n = args->count;
  int report = args->sources[n - NSBOX_CONTROL_FDS + NSBOX_FD_REPORT];
  // Into the sandbox's cgroups before anything else: nothing of it runs outside them.
  for (int i = 0; i < args->ncgroups; i++) {
    long rc = rt_syscall3(SYS_write, args->cgroups[i], reinterpret_cast<long>("0"), 1);
    if (rc < 0) ChildFail(report, rc, NSBOX_START_CGROUP, "write");
  }
  long moved[kMaxFds];
  // First lift every source above the target range, so placing fd i never clobbers a source
  // still to be placed; dup3 then leaves close-on-exec off exactly the fds the helper gets.
  for (int i = 0; i < n; i++) {
    moved[i] = args->sources[i] < 0 ? -1 : rt_syscall3(SYS_fcntl, args->sources[i], F_DUPFD_CLOEXEC, n);
    if (args->sources[i] >= 0 && moved[i] < 0) ChildFail(report, moved[i], NSBOX_START_FDS, "fcntl");
  }
  long helper = rt_syscall3(SYS_fcntl, args->helper_fd, F_DUPFD_CLOEXEC, n);
  if (helper < 0) ChildFail(report, helper, NSBOX_START_FDS, "fcntl");
  report = static_cast<int>(moved[n - NSBOX_CONTROL_FDS + NSBOX_FD_REPORT]);
  // Joining existing namespaces (exec into a sandbox, `join`): the fds are pidfds or namespace
  // files of ours, still open in this copy of the fd table.
  for (int i = 0; i < args->njoins; i++) {
    long rc = rt_syscall3(SYS_setns, args->joins[i].fd, args->joins[i].nstype, 0);
    if (rc < 0) ChildFail(report, rc, NSBOX_START_JOIN, "setns");
  }
  const char* syscall = "";
  if (args->options & NSBOX_SPAWN_JOIN_AS_ROOT) {
    long rc = ChildBecomeRoot(&syscall);
    if (rc < 0) ChildFail(report, rc, NSBOX_START_JOIN_ROOT, syscall);
  }
  // The namespaces that clone() would make on the calling thread (copying the mount table,
  // setting up a network stack) are made here instead, in parallel with Node.
  if (args->unshare_flags) {
    long rc = rt_syscall3(SYS_unshare, args->unshare_flags, 0, 0);
    if (rc < 0) ChildFail(report, rc, NSBOX_START_UNSHARE, "unshare");
  }
  if (args->options & NSBOX_SPAWN_MAPS_BY_PARENT) {
    long rc = ChildRaiseAmbient(&syscall);
    if (rc < 0) ChildFail(report, rc, NSBOX_START_CAPS, syscall);
  } else if (args->options & NSBOX_SPAWN_MAPS_BY_CHILD) {
    // An unprivileged writer may map only its own ids, and gid_map only once setgroups is denied.
    long rc = ChildWriteFile("/proc/self/setgroups", "deny", 4);
    if (rc < 0) ChildFail(report, rc, NSBOX_START_SETGROUPS, "write");
    rc = ChildWriteFile("/proc/self/uid_map", args->uid_map_data, args->uid_map_len);
    if (rc < 0) ChildFail(report, rc, NSBOX_START_UID_MAP, "write");
    rc = ChildWriteFile("/proc/self/gid_map", args->gid_map_data, args->gid_map_len);
    if (rc < 0) ChildFail(report, rc, NSBOX_START_GID_MAP, "write");
    // The command's uid inside is not 0, and 0 is not mapped: the helper would exec without
    // capabilities in its own namespace, unless they stay ambient.
    if (args->options & NSBOX_SPAWN_KEEP_CAPS) {
      rc = ChildRaiseAmbient(&syscall);
      if (rc < 0) ChildFail(report, rc, NSBOX_START_CAPS, syscall);
    }
  }
  for (int i = 0; i < n; i++) {
    long rc = moved[i] < 0 ? rt_syscall3(SYS_close, i, 0, 0) : rt_syscall3(SYS_dup3, moved[i], i, 0);
    if (moved[i] >= 0 && rc < 0) ChildFail(report, rc, NSBOX_START_FDS, "dup3");
  }
  long rc = rt_syscall6(SYS_execveat, helper, reinterpret_cast<long>(""), reinterpret_cast<long>(args->argv),
                        reinterpret_cast<long>(args->envp), AT_EMPTY_PATH, 0);
  ChildFail(report, rc, NSBOX_START_EXEC, "execveat");
}

}  // namespace

ChildSlot* AcquireSlot() {
  static std::mutex mutex;
  static std::vector<ChildSlot*> slots;  // grows to the most children ever starting at once
  std::lock_guard<std::mutex> lock(mutex);
  for (ChildSlot* slot : slots) {
    if (__atomic_load_n(&slot->busy, __ATOMIC_ACQUIRE) == 0) {
      slot->busy = 1;
      return slot;
    }
  }
  ChildSlot* slot = new ChildSlot();
  slot->busy = 1;
  slots.push_back(slot);
  return slot;
}

void ReleaseSlot(ChildSlot* slot) { __atomic_store_n(&slot->busy, 0, __ATOMIC_RELEASE); }

bool FillChildArgs(ChildArgs* args, const SpawnRequest& request) {
  if (request.njoins > static_cast<uint32_t>(kMaxJoins) || request.ncgroups > static_cast<uint32_t>(kMaxCgroups)) return false;
  args->ncgroups = static_cast<int>(request.ncgroups);
  for (uint32_t i = 0; i < request.ncgroups; i++) args->cgroups[i] = request.CgroupAt(i);
  args->options = request.options;
  args->unshare_flags = request.unshare_flags;
  args->njoins = static_cast<int>(request.njoins);
  for (uint32_t i = 0; i < request.njoins; i++) args->joins[i] = request.JoinAt(i);
  args->uid_map = request.uid_map;
  args->gid_map = request.gid_map;
  args->uid_map_data = args->uid_map.data();
  args->uid_map_len = static_cast<long>(args->uid_map.size());
  args->gid_map_data = args->gid_map.data();
  args->gid_map_len = static_cast<long>(args->gid_map.size());
  snprintf(args->name, sizeof args->name, "nsbox-init");
  snprintf(args->count_arg, sizeof args->count_arg, "%u", request.nstdio);
  args->argv[0] = args->name;
  args->argv[1] = args->count_arg;
  args->argv[2] = nullptr;
  // The helper hands its own environment to the command when the plan says so: Node keeps
  // `environ` in step with process.env, and reading it here costs nothing.
  args->env.clear();
  bool inherit = (request.options & NSBOX_SPAWN_INHERIT_ENV) != 0;
  for (char** e = inherit ? environ : nullptr; e && *e; e++) args->env.push_back(*e);
  args->env.push_back(nullptr);
  args->envp = args->env.data();
  return true;
}

// Signals stay blocked across the clone: the child inherits the mask through exec, so no
// Node or libuv handler can ever run in it; the helper takes them from a signalfd. Without
// CLONE_VFORK this thread does not wait for the child to exec (under load, that wait was most of
// the event loop's time), and the child's exit signal is 0: only its pidfd tells of its end.
pid_t CloneHelper(ChildSlot* slot, int flags, int* pidfd) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone(ChildMain, slot->stack + sizeof slot->stack, flags | CLONE_VM | CLONE_PIDFD | CLONE_CHILD_CLEARTID,
                    &slot->args, pidfd, nullptr, &slot->busy);
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) ReleaseSlot(slot);
  errno = err;
  return pid;
}

}  // namespace nsbox
