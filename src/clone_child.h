// The clone child: everything between clone() and the exec of the helper, and the slots it runs
// from. It shares Node's memory (CLONE_VM, no CLONE_VFORK) and runs beside Node's threads, so it
// uses raw syscalls only (errno belongs to a running thread), and allocates, locks and throws
// nothing.
#ifndef NSBOX_CLONE_CHILD_H
#define NSBOX_CLONE_CHILD_H

#include <stdint.h>
#include <sys/types.h>

#include <utility>
#include <vector>

#include "sys/wire.h"
#include "userns.h"

namespace nsbox {

constexpr int kMaxStdio = 64;
constexpr int kMaxFds = kMaxStdio + NSBOX_CONTROL_FDS;
constexpr size_t kChildStack = 32768;

// Everything the clone child reads: it may run after Spawn has returned, so all of it lives in
// the child's slot.
struct ChildArgs {
  int sources[kMaxFds];  // what becomes fd i in the helper; -1 leaves i closed
  int count;
  int helper_fd;
  int unshare_flags;  // namespaces the child makes itself (all but user and pid)
  char name[16];
  char count_arg[16];
  char* argv[3];
  std::vector<char*> env;  // a copy of the pointers: setenv may move environ meanwhile
  UsernsMaps maps;
  std::vector<std::pair<int, int>> joins;  // setns(fd, nstype) before anything else, in order
};

// A child's stack and arguments. `busy` is the CLONE_CHILD_CLEARTID word: the kernel zeroes it
// when the child execs or exits, after which the slot may be reused.
struct ChildSlot {
  ChildArgs args;
  int32_t busy;
  alignas(64) char stack[kChildStack];
};

// A free slot (one whose child has exec'd or exited), or a new one.
ChildSlot* AcquireSlot();

// Marks a slot free again when its clone failed.
void ReleaseSlot(ChildSlot* slot);

// The helper's argv and environment, copied into the slot.
void FillExec(ChildArgs* args, uint32_t nstdio, bool inherit_env);

// Clones the child with the given CLONE_NEW* flags (plus CLONE_VM, CLONE_PIDFD and
// CLONE_CHILD_CLEARTID); returns its pid and pidfd, or -1 with errno.
pid_t CloneHelper(ChildSlot* slot, int flags, int* pidfd);

}  // namespace nsbox

#endif
