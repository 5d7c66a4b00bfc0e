#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace nsbox {
namespace {

int WriteFile(const char* path, const char* data, MapFailure* failure) {
  failure->path = path;
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    failure->syscall = "open";
    return -1;
  }
  size_t len = strlen(data);
  ssize_t n = write(fd, data, len);
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(len)) {
    errno = n < 0 ? err : EIO;
    failure->syscall = "write";
    return -1;
  }
  return 0;
}

// Inheritable = permitted, then every capability ambient: they survive the exec of the
// (non-setuid) helper although its uid is not mapped yet.
int RaiseAmbient(MapFailure* failure) {
  failure->path = nullptr;
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  if (syscall(SYS_capget, &header, data) < 0) return failure->syscall = "capget", -1;
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) data[i].inheritable = data[i].permitted;
  if (syscall(SYS_capset, &header, data) < 0) return failure->syscall = "capset", -1;
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EINVAL) {
      return failure->syscall = "prctl", -1;
    }
  }
  return 0;
}

}  // namespace

int PrepareChildUserns(const UsernsMaps& maps, MapFailure* failure) {
  if (maps.writer == MapWriter::kParent) return RaiseAmbient(failure);
  if (maps.writer != MapWriter::kChild) return 0;
  // An unprivileged writer may map only its own ids, and gid_map only once setgroups is denied.
  if (WriteFile("/proc/self/setgroups", "deny", failure) < 0) return -1;
  if (WriteFile("/proc/self/uid_map", maps.uid_map, failure) < 0) return -1;
  return WriteFile("/proc/self/gid_map", maps.gid_map, failure);
}

int WriteMapsFromParent(const UsernsMaps& maps, pid_t pid, char* path, MapFailure* failure) {
  snprintf(path, 64, "/proc/%d/uid_map", pid);
  if (WriteFile(path, maps.uid_map, failure) < 0) return -1;
  snprintf(path, 64, "/proc/%d/gid_map", pid);
  return WriteFile(path, maps.gid_map, failure);
}

}  // namespace nsbox
