// In-process namespace primitives, called from JavaScript on the calling thread. lib/primitives.ts
// decides what may be called and documents what each reaches (thread, process, namespace).
#ifndef NSBOX_PRIMITIVES_H
#define NSBOX_PRIMITIVES_H

#include <napi.h>

namespace nsbox {

// Each returns undefined on success or { errno, syscall } on failure.
Napi::Value Unshare(const Napi::CallbackInfo& info);      // (flags)
Napi::Value Setns(const Napi::CallbackInfo& info);        // (path | fd, nstype)
Napi::Value Chroot(const Napi::CallbackInfo& info);       // (path)
Napi::Value PivotRoot(const Napi::CallbackInfo& info);    // (newRoot, putOld)
Napi::Value Mount(const Napi::CallbackInfo& info);        // (source?, target, fstype?, flags, data?)
Napi::Value Umount(const Napi::CallbackInfo& info);       // (target, flags)
Napi::Value Sethostname(const Napi::CallbackInfo& info);  // (name)

}  // namespace nsbox

#endif
