// Parent side of a spawn: clone into the new namespaces and exec the helper there.
#ifndef NSBOX_SPAWN_H
#define NSBOX_SPAWN_H

#include <napi.h>

namespace nsbox {

// spawn(plan: Uint8Array, cloneFlags: number, stdio: number[], dieWithParent: boolean,
//       userns?: { writer, uidMap, gidMap }, joins?: [fd, nstype][],
//       veth?: { hostName, peerName, hostAddress, hostPrefix })
//   -> { pid, pidfd, reportFd, stdio: number[] } | { errno, syscall, path? }
// stdio entries: -1 a new pipe, -2 /dev/null, or an fd of ours to pass as that fd. joins: the
// child setns()es into each (a pidfd with several CLONE_NEW* bits, or a namespace file's fd).
Napi::Value Spawn(const Napi::CallbackInfo& info);

// tryClone(cloneFlags) -> 0 | errno: whether this process may create these namespaces. A child
// that exits at once, so a failed spawn can name the namespace the kernel refused.
Napi::Value TryClone(const Napi::CallbackInfo& info);

// clone3Errno() -> the errno of a clone3 call with no arguments: EINVAL where clone3 exists,
// ENOSYS where the kernel lacks it or a seccomp filter refuses it. Creates nothing.
Napi::Value Clone3Errno(const Napi::CallbackInfo& info);

// getenv(name) -> string | undefined, read from the C environment the helper would inherit:
// lib/ uses it to tell whether process.env is Node's own (jest, for one, swaps in a copy).
Napi::Value Getenv(const Napi::CallbackInfo& info);

}  // namespace nsbox

#endif
