// The clone child: everything between clone() and the exec of the helper, and the slots it runs
// from. It shares Node's memory (CLONE_VM, no CLONE_VFORK) and runs beside Node's threads, so it
// uses raw syscalls only (errno belongs to a running thread), and allocates, locks, throws and
// calls nothing outside its own section of this file (no PLT slot, whose first use would run the
// dynamic linker in a process sharing Node's memory: test/45.native-rules.test.ts checks).
#ifndef NSBOX_CLONE_CHILD_H
#define NSBOX_CLONE_CHILD_H

#include <stdint.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "request.h"
#include "sys/wire.h"

namespace nsbox {

constexpr int kMaxStdio = 64;
constexpr int kMaxFds = kMaxStdio + NSBOX_CONTROL_FDS;
constexpr int kMaxJoins = 16;
constexpr int kMaxCgroups = 8;
constexpr size_t kChildStack = 32768;

// Everything the clone child reads, as plain data: it may run after Spawn has returned, so all of
// it lives in the child's slot, and nothing in it needs a call to read.
struct ChildArgs {
  int sources[kMaxFds];  // what becomes fd i in the helper; -1 leaves i closed
  int count;
  int helper_fd;
  uint32_t options;   // NSBOX_SPAWN_*
  int unshare_flags;  // namespaces the child makes itself, after the joins
  int njoins;
  Join joins[kMaxJoins];  // setns(fd, nstype) before anything else, in order
  int ncgroups;
  int cgroups[kMaxCgroups];  // cgroup.procs fds: "0" written to each, first of all
  // Single-id maps the child writes itself (MAPS_BY_CHILD), with their lengths.
  std::string uid_map;
  std::string gid_map;
  const char* uid_map_data;
  long uid_map_len;
  const char* gid_map_data;
  long gid_map_len;
  char name[16];
  char count_arg[16];
  char* argv[3];
  std::vector<char*> env;  // a copy of the pointers: setenv may move environ meanwhile
  char** envp;
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

// Copies what the child needs from the request into the slot: maps, joins, the helper's argv
// and environment. False if the request has more joins or cgroups than a slot holds.
bool FillChildArgs(ChildArgs* args, const SpawnRequest& request);

// Clones the child with the given CLONE_NEW* flags (plus CLONE_VM, CLONE_PIDFD and
// CLONE_CHILD_CLEARTID); returns its pid and pidfd, or -1 with errno.
pid_t CloneHelper(ChildSlot* slot, int flags, int* pidfd);

}  // namespace nsbox

#endif
