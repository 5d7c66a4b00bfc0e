// User namespaces: writing uid/gid maps in the right order around the exec of the helper.
//
// Capabilities are recomputed at execve(), so the helper must not be exec'd while its uid is
// unmapped, or it starts with none in its own namespace. Two ways (design notes):
// - kChild: the vfork child writes its own single-id maps before exec (allowed unprivileged).
// - kParent: multi-range maps need privilege in the parent namespace and are written by us
//   after the exec; the child raises every capability into the ambient set first, so the helper
//   keeps them across exec while unmapped, and waits for the maps by reading its plan.
#ifndef NSBOX_USERNS_H
#define NSBOX_USERNS_H

#include <sys/types.h>

namespace nsbox {

enum class MapWriter { kNone, kChild, kParent };

struct UsernsMaps {
  MapWriter writer = MapWriter::kNone;
  const char* uid_map = nullptr;  // "inside outside count\n..." as the kernel reads it
  const char* gid_map = nullptr;
};

// A failed write: the errno is left in errno.
struct MapFailure {
  const char* syscall;
  const char* path;
};

// In the vfork child: async-signal-safe, allocates nothing. Returns 0 or -1 with *failure set.
int PrepareChildUserns(const UsernsMaps& maps, MapFailure* failure);

// In the parent, after the helper runs (kParent only). Returns 0 or -1 with *failure set;
// `path` must hold 64 bytes and receives the file that failed.
int WriteMapsFromParent(const UsernsMaps& maps, pid_t pid, char* path, MapFailure* failure);

}  // namespace nsbox

#endif
