// Parent side of a spawn: clone into the new namespaces and exec the helper there.
#ifndef NSBOX_SPAWN_H
#define NSBOX_SPAWN_H

#include <napi.h>

namespace nsbox {

// spawn(request: Uint8Array) -> { pid, pidfd, reportFd, stdio: number[] }
//                              | { errno, syscall, path?, stage }
// The request (sys/wire.h, built by lib/request.ts) says everything: namespaces, stdio, joins,
// maps, veth, and the helper's plan. A failure names its NSBOX_START_* stage.
Napi::Value Spawn(const Napi::CallbackInfo& info);

// pipe(duplex?) -> [readFd, writeFd] (both O_CLOEXEC; with duplex a socket pair, [ours, theirs])
// | { errno, syscall }: the stdio of a spawn that must wait (for a sandbox still being set up) is
// made at once, so its streams exist at once.
Napi::Value Pipe(const Napi::CallbackInfo& info);

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
