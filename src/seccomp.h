// seccomp filters, compiled with libseccomp (linked statically: prebuilt binaries need nothing
// installed) into the BPF program the helper installs as the command's very last step before
// exec. lib/seccomp.ts turns an OCI `linux.seccomp` object into the plain rules this takes, and
// caches the result per distinct profile.
#ifndef NSBOX_SECCOMP_H
#define NSBOX_SECCOMP_H

#include <napi.h>

namespace nsbox {

// compileSeccomp({ defaultAction, badArchAction, arches: string[], rules: [{ names: string[],
//   action, args: [{ index, op, value: bigint, valueTwo: bigint }] }] })
//   -> Uint8Array (struct sock_filter[]) | { errno, syscall, message? }
// Actions are SECCOMP_RET_* values (with the errno in the low bits); ops are SCMP_CMP_* values.
// Syscall names this kernel's libseccomp does not know are skipped, as the OCI runtimes do.
Napi::Value CompileSeccomp(const Napi::CallbackInfo& info);

}  // namespace nsbox

#endif
