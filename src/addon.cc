// Module registration only: each export lives in the file named after its concern.
#include <napi.h>

#include "primitives.h"
#include "seccomp.h"
#include "spawn.h"
#include "watch.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New<nsbox::Spawn>(env, "spawn"));
  exports.Set("tryClone", Napi::Function::New<nsbox::TryClone>(env, "tryClone"));
  exports.Set("clone3Errno", Napi::Function::New<nsbox::Clone3Errno>(env, "clone3Errno"));
  exports.Set("compileSeccomp", Napi::Function::New<nsbox::CompileSeccomp>(env, "compileSeccomp"));
  exports.Set("pipe", Napi::Function::New<nsbox::Pipe>(env, "pipe"));
  exports.Set("getenv", Napi::Function::New<nsbox::Getenv>(env, "getenv"));
  exports.Set("Watch", nsbox::WatchClass(env));
  exports.Set("unshare", Napi::Function::New<nsbox::Unshare>(env, "unshare"));
  exports.Set("setns", Napi::Function::New<nsbox::Setns>(env, "setns"));
  exports.Set("chroot", Napi::Function::New<nsbox::Chroot>(env, "chroot"));
  exports.Set("pivotRoot", Napi::Function::New<nsbox::PivotRoot>(env, "pivotRoot"));
  exports.Set("mount", Napi::Function::New<nsbox::Mount>(env, "mount"));
  exports.Set("umount", Napi::Function::New<nsbox::Umount>(env, "umount"));
  exports.Set("sethostname", Napi::Function::New<nsbox::Sethostname>(env, "sethostname"));
  return exports;
}

}  // namespace

NODE_API_MODULE(nsbox, Init)
