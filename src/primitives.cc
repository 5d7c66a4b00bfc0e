#include "primitives.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <string>

#include "result.h"
#include "sys/syscalls.h"

namespace nsbox {
namespace {

Napi::Value Done(Napi::Env env, int rc, const char* syscall) {
  return rc < 0 ? Failure(env, errno, syscall) : env.Undefined();
}

// A string argument, or an empty optional one (null/undefined) as nullptr.
bool OptionalString(const Napi::Value& v, std::string* out, bool* present) {
  *present = v.IsString();
  if (*present) *out = v.As<Napi::String>().Utf8Value();
  return *present || v.IsNull() || v.IsUndefined();
}

bool Strings(const Napi::CallbackInfo& info, size_t count) {
  if (info.Length() < count) return false;
  for (size_t i = 0; i < count; i++) {
    if (!info[i].IsString()) return false;
  }
  return true;
}

}  // namespace

Napi::Value Unshare(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowTypeError(info.Env(), "unshare(flags)");
  return Done(info.Env(), unshare(info[0].As<Napi::Number>().Int32Value()), "unshare");
}

Napi::Value Setns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !(info[0].IsString() || info[0].IsNumber()) || !info[1].IsNumber()) {
    return ThrowTypeError(env, "setns(pathOrFd, nstype)");
  }
  int nstype = info[1].As<Napi::Number>().Int32Value();
  if (info[0].IsNumber()) return Done(env, setns(info[0].As<Napi::Number>().Int32Value(), nstype), "setns");
  int fd = open(info[0].As<Napi::String>().Utf8Value().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Failure(env, errno, "open");
  int rc = setns(fd, nstype);
  int err = errno;
  close(fd);
  errno = err;
  return Done(env, rc, "setns");
}

Napi::Value Chroot(const Napi::CallbackInfo& info) {
  if (!Strings(info, 1)) return ThrowTypeError(info.Env(), "chroot(path)");
  return Done(info.Env(), chroot(info[0].As<Napi::String>().Utf8Value().c_str()), "chroot");
}

Napi::Value PivotRoot(const Napi::CallbackInfo& info) {
  if (!Strings(info, 2)) return ThrowTypeError(info.Env(), "pivotRoot(newRoot, putOld)");
  std::string new_root = info[0].As<Napi::String>().Utf8Value();
  std::string put_old = info[1].As<Napi::String>().Utf8Value();
  return Done(info.Env(), nsbox_pivot_root(new_root.c_str(), put_old.c_str()), "pivot_root");
}

Napi::Value Mount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string source, target, fstype, data;
  bool has_source, has_fstype, has_data;
  if (info.Length() < 5 || !OptionalString(info[0], &source, &has_source) || !info[1].IsString() ||
      !OptionalString(info[2], &fstype, &has_fstype) || !info[3].IsNumber() ||
      !OptionalString(info[4], &data, &has_data)) {
    return ThrowTypeError(env, "mount(source, target, fstype, flags, data)");
  }
  target = info[1].As<Napi::String>().Utf8Value();
  unsigned long flags = static_cast<unsigned long>(info[3].As<Napi::Number>().Int64Value());
  int rc = mount(has_source ? source.c_str() : nullptr, target.c_str(),
                 has_fstype ? fstype.c_str() : nullptr, flags, has_data ? data.c_str() : nullptr);
  return Done(env, rc, "mount");
}

Napi::Value Umount(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    return ThrowTypeError(info.Env(), "umount(target, flags)");
  }
  std::string target = info[0].As<Napi::String>().Utf8Value();
  return Done(info.Env(), umount2(target.c_str(), info[1].As<Napi::Number>().Int32Value()), "umount2");
}

Napi::Value Sethostname(const Napi::CallbackInfo& info) {
  if (!Strings(info, 1)) return ThrowTypeError(info.Env(), "sethostname(name)");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return Done(info.Env(), sethostname(name.c_str(), name.size()), "sethostname");
}

}  // namespace nsbox
