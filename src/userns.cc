#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "sys/raw.h"
#include "sys/wire.h"

namespace nsbox {
namespace {

long WriteFile(const char* path, const char* data, int stage, MapFailure* failure) {
  failure->stage = stage;
  long fd = rt_syscall6(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_WRONLY | O_CLOEXEC, 0, 0, 0);
  if (fd < 0) {
    failure->syscall = "open";
    return fd;
  }
  long len = static_cast<long>(strlen(data));
  long n = rt_syscall3(SYS_write, fd, reinterpret_cast<long>(data), len);
  rt_syscall3(SYS_close, fd, 0, 0);
  if (n != len) {
    failure->syscall = "write";
    return n < 0 ? n : -EIO;
  }
  return 0;
}

// Inheritable = permitted, then every capability ambient: they survive the exec of the
// (non-setuid) helper although its uid may not be mapped yet.
long RaiseAmbient(MapFailure* failure) {
  failure->stage = NSBOX_START_CAPS;
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  long rc = rt_syscall3(SYS_capget, reinterpret_cast<long>(&header), reinterpret_cast<long>(data), 0);
  if (rc < 0) return failure->syscall = "capget", rc;
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) data[i].inheritable = data[i].permitted;
  rc = rt_syscall3(SYS_capset, reinterpret_cast<long>(&header), reinterpret_cast<long>(data), 0);
  if (rc < 0) return failure->syscall = "capset", rc;
  for (long cap = 0; cap <= CAP_LAST_CAP; cap++) {
    rc = rt_syscall6(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0, 0);
    if (rc < 0 && rc != -EINVAL) return failure->syscall = "prctl", rc;
  }
  return 0;
}

}  // namespace

long PrepareChildUserns(const UsernsMaps& maps, MapFailure* failure) {
  if (maps.writer == MapWriter::kParent) return RaiseAmbient(failure);
  if (maps.writer != MapWriter::kChild) return 0;
  // An unprivileged writer may map only its own ids, and gid_map only once setgroups is denied.
  long rc = WriteFile("/proc/self/setgroups", "deny", NSBOX_START_SETGROUPS, failure);
  if (rc == 0) rc = WriteFile("/proc/self/uid_map", maps.uid_map.c_str(), NSBOX_START_UID_MAP, failure);
  if (rc == 0) rc = WriteFile("/proc/self/gid_map", maps.gid_map.c_str(), NSBOX_START_GID_MAP, failure);
  return rc;
}

long WriteMapsFromParent(const UsernsMaps& maps, pid_t pid, char* path, MapFailure* failure) {
  snprintf(path, 64, "/proc/%d/uid_map", pid);
  long rc = WriteFile(path, maps.uid_map.c_str(), NSBOX_START_UID_MAP, failure);
  if (rc < 0) return rc;
  snprintf(path, 64, "/proc/%d/gid_map", pid);
  return WriteFile(path, maps.gid_map.c_str(), NSBOX_START_GID_MAP, failure);
}

}  // namespace nsbox
