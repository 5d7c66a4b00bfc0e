#include "clone_child.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>

#include "sys/raw.h"

extern char** environ;

namespace nsbox {
namespace {

// Reports a failure before the helper ran on the report pipe (whose parent end the watch reads),
// then exits. Only this child's own copy of the fd table is touched.
[[noreturn]] void ChildFail(int report_fd, long err, int stage, const char* syscall) {
  nsbox_report record;
  memset(&record, 0, sizeof record);
  record.type = NSBOX_REPORT_ERROR;
  record.step = -1;
  record.err = static_cast<int32_t>(-err);
  record.value = stage;
  strncpy(record.syscall, syscall, sizeof record.syscall - 1);
  rt_syscall3(SYS_write, report_fd, reinterpret_cast<long>(&record), sizeof record);
  for (;;) rt_syscall3(SYS_exit_group, 127, 0, 0);
}

int ChildMain(void* raw) {
  ChildArgs* args = static_cast<ChildArgs*>(raw);
  int n = args->count;
  int report = args->sources[n - NSBOX_CONTROL_FDS + NSBOX_FD_REPORT];
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
  for (const auto& join : args->joins) {
    long rc = rt_syscall3(SYS_setns, join.first, join.second, 0);
    if (rc < 0) ChildFail(report, rc, NSBOX_START_JOIN, "setns");
  }
  // The namespaces that clone() would make on the calling thread (copying the mount table,
  // setting up a network stack) are made here instead, in parallel with Node.
  if (args->unshare_flags) {
    long rc = rt_syscall3(SYS_unshare, args->unshare_flags, 0, 0);
    if (rc < 0) ChildFail(report, rc, NSBOX_START_UNSHARE, "unshare");
  }
  MapFailure map_failure;
  long rc = PrepareChildUserns(args->maps, &map_failure);
  if (rc < 0) ChildFail(report, rc, map_failure.stage, map_failure.syscall);
  for (int i = 0; i < n; i++) {
    rc = moved[i] < 0 ? rt_syscall3(SYS_close, i, 0, 0) : rt_syscall3(SYS_dup3, moved[i], i, 0);
    if (moved[i] >= 0 && rc < 0) ChildFail(report, rc, NSBOX_START_FDS, "dup3");
  }
  rc = rt_syscall6(SYS_execveat, helper, reinterpret_cast<long>(""), reinterpret_cast<long>(args->argv),
                   reinterpret_cast<long>(args->env.data()), AT_EMPTY_PATH, 0);
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

// The helper's argv and environment, copied into the slot (the child may run after we return).
void FillExec(ChildArgs* args, uint32_t nstdio, bool inherit_env) {
  snprintf(args->name, sizeof args->name, "nsbox-init");
  snprintf(args->count_arg, sizeof args->count_arg, "%u", nstdio);
  args->argv[0] = args->name;
  args->argv[1] = args->count_arg;
  args->argv[2] = nullptr;
  args->env.clear();
  for (char** e = inherit_env ? environ : nullptr; e && *e; e++) args->env.push_back(*e);
  args->env.push_back(nullptr);
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
