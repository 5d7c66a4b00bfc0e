#include "readonly.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/statvfs.h> /* ST_* (statfs f_flags uses the same bits) */
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

struct nsbox_mount_attr {
  unsigned long long attr_set, attr_clr, propagation, userns_fd;
};

/* A bind remount replaces every per-mount flag, and inside a user namespace the kernel refuses
 * (EPERM) one that would clear a flag it locked (nosuid, nodev, noexec, atime): so the remount
 * carries the mount's current flags, read back with statfs. */
static int remount_readonly(const char *path, struct failure *f) {
  struct statfs st;
  if (statfs(path, &st) < 0) return fail(f, "statfs");
  static const unsigned long map[][2] = {
      {ST_NOSUID, MS_NOSUID}, {ST_NODEV, MS_NODEV}, {ST_NOEXEC, MS_NOEXEC}, {ST_NOATIME, MS_NOATIME},
      {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME}, {ST_SYNCHRONOUS, MS_SYNCHRONOUS},
  };
  unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    if ((unsigned long)st.f_flags & map[i][0]) flags |= map[i][1];
  }
  return mount(NULL, path, NULL, flags, NULL) < 0 ? fail(f, "mount") : 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s) {
  char *out = s;
  for (char *in = s; *in; out++) {
    if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' && in[3] >= '0' && in[3] <= '7') {
      *out = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
      in += 4;
    } else {
      *out = *in++;
    }
  }
  *out = '\0';
}

static int below(const char *mount_point, const char *top, size_t top_len) {
  if (strncmp(mount_point, top, top_len) != 0) return 0;
  return mount_point[top_len] == '\0' || mount_point[top_len] == '/' || (top_len == 1 && top[0] == '/');
}

/* Before Linux 5.12 (no mount_setattr): every mount at or below `top` in mountinfo, remounted
 * one by one, parents first (mountinfo lists them in mount order). */
static int walk_readonly(const char *top, struct failure *f) {
  int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(f, "open");
  static char buf[1 << 16];
  size_t top_len = strlen(top), used = 0;
  int rc = 0;
  for (;;) {
    ssize_t n = read(fd, buf + used, sizeof buf - 1 - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { rc = fail(f, "read"); break; }
    used += (size_t)n;
    buf[used] = '\0';
    char *line = buf, *end;
    while ((end = strchr(line, '\n')) != NULL) {
      *end = '\0';
      /* id parent major:minor root mount-point ... */
      char *field = line;
      for (int i = 0; i < 4 && field; i++) field = strchr(field, ' ') ? strchr(field, ' ') + 1 : NULL;
      char *stop = field ? strchr(field, ' ') : NULL;
      if (stop) {
        *stop = '\0';
        unescape(field);
        if (below(field, top, top_len) && remount_readonly(field, f) < 0) { rc = -1; break; }
      }
      line = end + 1;
    }
    if (rc < 0) break;
    used = (size_t)(buf + used - line);
    memmove(buf, line, used);
    if (n == 0) break;
    if (used == sizeof buf - 1) { errno = ENAMETOOLONG; rc = fail(f, "read"); break; }
  }
  close(fd);
  return rc;
}

int readonly_recursive(int target, const char *fd_link, struct failure *f) {
  struct nsbox_mount_attr attr = {MOUNT_ATTR_RDONLY, 0, 0, 0};
  /* Sets only the read-only bit, on the whole subtree at once: every other flag stays. */
  if (syscall(SYS_mount_setattr, target, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0) return 0;
  if (errno != ENOSYS) return fail(f, "mount_setattr");
  char top[PATH_MAX];
  ssize_t len = readlink(fd_link, top, sizeof top - 1);
  if (len < 0) return fail(f, "readlink");
  top[len] = '\0';
  return walk_readonly(top, f);
}
