#include "seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "result.h"

namespace nsbox {
namespace {

// Frees the filter context on every path out.
struct Filter {
  scmp_filter_ctx ctx = nullptr;
  ~Filter() {
    if (ctx) seccomp_release(ctx);
  }
};

bool ToU32(const Napi::Value& v, uint32_t* out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (d < 0 || d > 4294967295.0 || d != static_cast<double>(static_cast<uint32_t>(d))) return false;
  *out = static_cast<uint32_t>(d);
  return true;
}

bool ToU64(const Napi::Value& v, uint64_t* out) {
  if (!v.IsBigInt()) return false;
  bool lossless = false;
  *out = v.As<Napi::BigInt>().Uint64Value(&lossless);
  return lossless;
}

// One rule's argument comparisons; false for a malformed one (a bug in lib/).
bool Comparisons(const Napi::Value& value, std::vector<scmp_arg_cmp>* out) {
  if (!value.IsArray()) return false;
  Napi::Array list = value.As<Napi::Array>();
  if (list.Length() > 6) return false;
  for (uint32_t i = 0; i < list.Length(); i++) {
    if (!list.Get(i).IsObject()) return false;
    Napi::Object a = list.Get(i).As<Napi::Object>();
    uint32_t index, op;
    uint64_t datum_a, datum_b;
    if (!ToU32(a.Get("index"), &index) || index > 5 || !ToU32(a.Get("op"), &op) || op < SCMP_CMP_NE ||
        op > SCMP_CMP_MASKED_EQ || !ToU64(a.Get("value"), &datum_a) || !ToU64(a.Get("valueTwo"), &datum_b)) {
      return false;
    }
    out->push_back({index, static_cast<scmp_compare>(op), datum_a, datum_b});
  }
  return true;
}

Napi::Value Malformed(Napi::Env env) { return Failure(env, EINVAL, "seccomp profile"); }

}  // namespace

Napi::Value CompileSeccomp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return ThrowTypeError(env, "compileSeccomp(profile)");
  Napi::Object profile = info[0].As<Napi::Object>();
  uint32_t default_action, bad_arch;
  if (!ToU32(profile.Get("defaultAction"), &default_action) || !ToU32(profile.Get("badArchAction"), &bad_arch) ||
      !profile.Get("arches").IsArray() || !profile.Get("rules").IsArray()) {
    return Malformed(env);
  }
  Filter filter;
  filter.ctx = seccomp_init(default_action);
  if (!filter.ctx) return Failure(env, EINVAL, "seccomp_init");
  // No-new-privileges is the helper's to set (it is an option), not the loader's.
  int rc = seccomp_attr_set(filter.ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc == 0) rc = seccomp_attr_set(filter.ctx, SCMP_FLTATR_ACT_BADARCH, bad_arch);
  // A binary tree of the syscall numbers, not a list: each syscall runs a few instructions, and
  // the kernel's per-filter action cache (built by running the filter for every syscall number
  // when it is installed) is made in a fraction of the time, which is what a spawn pays.
  if (rc == 0) rc = seccomp_attr_set(filter.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc < 0) return Failure(env, -rc, "seccomp_attr_set");
  Napi::Array arches = profile.Get("arches").As<Napi::Array>();
  for (uint32_t i = 0; i < arches.Length(); i++) {
    if (!arches.Get(i).IsString()) return Malformed(env);
    uint32_t arch = seccomp_arch_resolve_name(arches.Get(i).As<Napi::String>().Utf8Value().c_str());
    if (arch == 0) return Failure(env, EINVAL, "seccomp_arch_resolve_name");
    rc = seccomp_arch_add(filter.ctx, arch);
    if (rc < 0 && rc != -EEXIST) return Failure(env, -rc, "seccomp_arch_add");
  }
  Napi::Array rules = profile.Get("rules").As<Napi::Array>();
  for (uint32_t i = 0; i < rules.Length(); i++) {
    if (!rules.Get(i).IsObject()) return Malformed(env);
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    uint32_t action;
    std::vector<scmp_arg_cmp> args;
    if (!ToU32(rule.Get("action"), &action) || !rule.Get("names").IsArray() || !Comparisons(rule.Get("args"), &args)) {
      return Malformed(env);
    }
    Napi::Array names = rule.Get("names").As<Napi::Array>();
    for (uint32_t j = 0; j < names.Length(); j++) {
      if (!names.Get(j).IsString()) return Malformed(env);
      std::string name = names.Get(j).As<Napi::String>().Utf8Value();
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp: skipped, as runc does
      rc = seccomp_rule_add_array(filter.ctx, action, nr, static_cast<unsigned>(args.size()), args.data());
      // EEXIST: the same rule twice; EACCES: the rule's action is the default one, nothing to add.
      if (rc < 0 && rc != -EEXIST && rc != -EACCES) {
        return Failure(env, -rc, "seccomp_rule_add", name.c_str());
      }
    }
  }
  // libseccomp 2.5 exports to an fd only: a memfd, read back.
  int fd = memfd_create("nsbox-seccomp", MFD_CLOEXEC);
  if (fd < 0) return Failure(env, errno, "memfd_create");
  rc = seccomp_export_bpf(filter.ctx, fd);
  off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
  if (rc < 0 || size <= 0) {
    int err = rc < 0 ? -rc : errno;
    close(fd);
    return Failure(env, err, "seccomp_export_bpf");
  }
  Napi::Uint8Array bpf = Napi::Uint8Array::New(env, static_cast<size_t>(size));
  ssize_t n = pread(fd, bpf.Data(), static_cast<size_t>(size), 0);
  int err = errno;
  close(fd);
  if (n != size) return Failure(env, n < 0 ? err : EIO, "pread");
  return bpf;
}

}  // namespace nsbox
