#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sys/wire.h"

namespace nsbox {
namespace {

long WriteFile(const char* path, const char* data, const char** syscall) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return *syscall = "open", -errno;
  size_t len = strlen(data);
  ssize_t n = write(fd, data, len);
  long rc = n < 0 ? -errno : static_cast<size_t>(n) != len ? -EIO : 0;
  close(fd);
  if (rc < 0) *syscall = "write";
  return rc;
}

}  // namespace

long WriteMapsFromParent(const char* uid_map, const char* gid_map, pid_t pid, char* path, int* stage,
                         const char** syscall) {
  *stage = NSBOX_START_UID_MAP;
  snprintf(path, 64, "/proc/%d/uid_map", pid);
  long rc = WriteFile(path, uid_map, syscall);
  if (rc < 0) return rc;
  *stage = NSBOX_START_GID_MAP;
  snprintf(path, 64, "/proc/%d/gid_map", pid);
  return WriteFile(path, gid_map, syscall);
}

}  // namespace nsbox
