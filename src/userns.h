// User namespaces: writing uid/gid maps in the right order around the exec of the helper.
//
// Capabilities are recomputed at execve(), so the helper must not be exec'd while its uid is
// unmapped, or it starts with none in its own namespace. Two ways (design notes):
// - kChild: the clone child writes its own single-id maps before exec (allowed unprivileged).
// - kParent: multi-range maps need privilege in the parent namespace and are written by us; the
//   child raises every capability into the ambient set first, so the helper keeps them across
//   exec while possibly unmapped, and waits for the maps by reading its plan, sent after them.
#ifndef NSBOX_USERNS_H
#define NSBOX_USERNS_H

#include <sys/types.h>

#include <string>

namespace nsbox {

enum class MapWriter { kNone, kChild, kParent };

struct UsernsMaps {
  MapWriter writer = MapWriter::kNone;
  std::string uid_map;  // "inside outside count\n..." as the kernel reads it
  std::string gid_map;
};

// Which part of the start failed, as sys/wire.h's NSBOX_START_* codes, and the syscall.
struct MapFailure {
  int stage;
  const char* syscall;
};

// In the clone child: raw syscalls only (no errno: the child shares a running Node thread's),
// allocates nothing. Returns 0 or -errno with *failure set.
long PrepareChildUserns(const UsernsMaps& maps, MapFailure* failure);

// In the parent (kParent only). Returns 0 or -errno with *failure set; `path` must hold 64
// bytes and receives the file that failed.
long WriteMapsFromParent(const UsernsMaps& maps, pid_t pid, char* path, MapFailure* failure);

}  // namespace nsbox

#endif
