// User namespaces, parent side: the multi-range maps only a privileged parent may write.
//
// Capabilities are recomputed at execve(), so the helper must not be exec'd while its uid is
// unmapped, or it starts with none in its own namespace. Two ways (docs/design.md), chosen by
// lib/userns.ts and carried in the request:
// - MAPS_BY_CHILD: the clone child writes its own single-id maps before exec (allowed
//   unprivileged; clone_child.cc).
// - MAPS_BY_PARENT: we write them here, after the clone; the child raised every capability into
//   the ambient set first, so the helper keeps them across exec while still unmapped, and waits
//   on the sync pipe until we are done.
#ifndef NSBOX_USERNS_H
#define NSBOX_USERNS_H

#include <sys/types.h>

namespace nsbox {

// Returns 0 or -errno with *stage (NSBOX_START_UID_MAP or _GID_MAP) and *syscall set; `path`
// must hold 64 bytes and receives the file that failed.
long WriteMapsFromParent(const char* uid_map, const char* gid_map, pid_t pid, char* path, int* stage,
                         const char** syscall);

}  // namespace nsbox

#endif
