#include "mounts.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../sys/syscalls.h"
#include "../sys/wire.h"
#include "readonly.h"

/* The new root (the rootfs, bound onto itself), once OPEN_ROOT has run. */
static int root_fd = -1;

static int in_root(const struct step *step) { return (step->b & NSBOX_IN_ROOT) && root_fd >= 0; }

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* The host's root as the new root (rootfs: '/', bwrap's --ro-bind / /): a recursive copy of the
 * mount tree, stacked on "/" with move_mount. A bind of "/" onto "/" cannot be entered: "/" names
 * the mount below the stack, and pivot_root refuses the current root (EBUSY); the copy's fd names
 * the top one. */
static int clone_host_root(struct failure *f) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) return fail(f, "open_tree");
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, "/", 0x4 /* MOVE_MOUNT_F_EMPTY_PATH */) < 0) {
    int err = errno;
    close(tree);
    errno = err;
    return fail(f, "move_mount");
  }
  root_fd = tree;
  return 0;
}

int mounts_open_root(const struct step *step, struct failure *f) {
  if (step->str[0][0] == '/' && step->str[0][1] == '\0') return clone_host_root(f);
  root_fd = open(step->str[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
  return root_fd < 0 ? fail(f, "open") : 0;
}

/* The directory the last step created an entry in, kept for the next step in the same one (the
 * /dev entries): resolving it again beneath the root costs more than the mknod itself. Any
 * mount forgets it, as the mount may cover it. */
static char parent_path[PATH_MAX];
static int parent_fd = -1;
static int parent_in_root;

static void forget_parent(void) {
  if (parent_fd >= 0) close(parent_fd);
  parent_fd = -1;
}

/* A path naming the fd itself, to hand to calls that only take paths (mount(2)). */
static void fd_path(char *buf, int fd) {
  static const char prefix[] = "/proc/self/fd/";
  char digits[12];
  int n = 0;
  do digits[n++] = (char)('0' + fd % 10); while ((fd /= 10) > 0);
  memcpy(buf, prefix, sizeof prefix - 1);
  for (int i = 0; i < n; i++) buf[sizeof prefix - 1 + i] = digits[n - 1 - i];
  buf[sizeof prefix - 1 + n] = '\0';
}

/* The step's target (str[0]) as an O_PATH fd, resolved beneath the root when the step asks for it. */
static int open_target(const struct step *step, int flags) {
  return in_root(step) ? nsbox_open_in_root(root_fd, step->str[0], O_PATH | flags) : open(step->str[0], O_PATH | O_CLOEXEC | flags);
}

static const char *open_syscall(const struct step *step) { return in_root(step) ? "openat2" : "open"; }

/* stat by syscall number: glibc's headers name it differently by build flags. */
static int stat_path(int dirfd, const char *path, struct stat *st, int flags) {
  return (int)syscall(SYS_newfstatat, dirfd, path, st, flags);
}

static int open_parent(const struct step *step, const char *path, char *copy, size_t size, const char **name,
                       struct failure *f);

int mounts_mount(const struct step *step, struct failure *f) {
  forget_parent();
  const char *source = step->str[0][0] ? step->str[0] : NULL;
  const char *fstype = step->str[2][0] ? step->str[2] : NULL;
  const char *data = step->str[3][0] ? step->str[3] : NULL;
  unsigned long flags = (unsigned long)step->flags;
  if (!in_root(step)) {
    return mount(source, step->str[1], fstype, flags, data) < 0 ? fail(f, "mount") : 0;
  }
  int target = nsbox_open_in_root(root_fd, step->str[1], O_PATH);
  if (target < 0) return fail(f, "openat2");
  char path[32];
  fd_path(path, target);
  int rc = mount(source, path, fstype, flags, data) < 0 ? fail(f, "mount") : 0;
  close(target);
  return rc;
}

/* Read-only for the mount at the target and every mount below it (a bind of a tree brings its
 * submounts along, and a write to one of them would reach the host). */
int mounts_readonly(const struct step *step, struct failure *f) {
  forget_parent();
  int target = open_target(step, 0);
  if (target < 0) return fail(f, open_syscall(step));
  char path[32];
  fd_path(path, target);
  int rc = readonly_recursive(target, path, f);
  close(target);
  return rc;
}

int mounts_mask(const struct step *step, struct failure *f) {
  forget_parent();
  int target = open_target(step, 0);
  if (target < 0) return errno == ENOENT ? 0 : fail(f, open_syscall(step));
  char path[32];
  fd_path(path, target);
  struct stat st;
  /* newfstatat by number: glibc's headers name fstat differently by build flags (node-gyp's
   * _FILE_OFFSET_BITS=64 makes it fstat64), and our runtime has one syscall() for all. */
  int rc = stat_path(target, "", &st, AT_EMPTY_PATH) < 0 ? fail(f, "fstat") : 0;
  if (rc == 0 && step->a == 1) {
    /* A bind onto itself makes it a mount of its own, which can then be made read-only. */
    rc = mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0 ? fail(f, "mount") : 0;
    if (rc == 0) {
      close(target);
      target = open_target(step, 0);
      if (target < 0) return fail(f, open_syscall(step));
      fd_path(path, target);
      rc = readonly_recursive(target, path, f);
    }
  } else if (rc == 0 && S_ISDIR(st.st_mode)) {
    rc = mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555") < 0 ? fail(f, "mount") : 0;
  } else if (rc == 0) {
    rc = mount("/dev/null", path, NULL, MS_BIND, NULL) < 0 ? fail(f, "mount") : 0;
  }
  close(target);
  return rc;
}

/* Creates `path` (absolute, in the root) and its missing parents; `file`: the last one is a file. */
static int make_in_root(const char *path, mode_t mode, int file, struct failure *f) {
  char prefix[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof prefix) {
    errno = ENAMETOOLONG;
    return fail(f, "mkdirat");
  }
  for (size_t end = 1; end <= len; end++) {
    if (end < len && path[end] != '/') continue;
    memcpy(prefix, path, end);
    prefix[end] = '\0';
    int last = end == len;
    int fd = nsbox_open_in_root(root_fd, prefix, O_PATH);
    if (fd >= 0) {
      close(fd);
      continue;
    }
    if (errno != ENOENT) return fail(f, "openat2");
    /* The parent exists by now (made by the round before); the entry is created in it. */
    char *slash = strrchr(prefix, '/');
    *slash = '\0';
    int parent = nsbox_open_in_root(root_fd, prefix[0] ? prefix : "/", O_PATH | O_DIRECTORY);
    if (parent < 0) return fail(f, "openat2");
    int rc;
    if (last && file) {
      int made = openat(parent, slash + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      rc = made < 0 && errno != EEXIST ? fail(f, "openat") : 0;
      if (made >= 0) close(made);
    } else {
      rc = mkdirat(parent, slash + 1, mode) < 0 && errno != EEXIST ? fail(f, "mkdirat") : 0;
    }
    close(parent);
    if (rc < 0) return rc;
  }
  return 0;
}

int mounts_ensure(const struct step *step, struct failure *f) {
  forget_parent();
  const char *source = step->str[1];
  int file = 0;
  if (source[0]) {
    struct stat st;
    if (stat_path(AT_FDCWD, source, &st, 0) < 0) {
      if (errno == ENOENT && (step->b & NSBOX_OPTIONAL)) return MOUNTS_SKIP;
      return fail(f, "stat");
    }
    file = !S_ISDIR(st.st_mode);
  }
  /* Never on the host: without a root of our own (or with the host's as the root), a missing
   * target stays missing, and the mount says so. */
  if (!in_root(step) || !(step->b & NSBOX_CREATE)) return 0;
  return make_in_root(step->str[0], (mode_t)step->a, file, f);
}

int mounts_write_file(const struct step *step, struct failure *f) {
  char copy[PATH_MAX];
  const char *name;
  int dir = open_parent(step, step->str[0], copy, sizeof copy, &name, f);
  if (dir < 0) return -1;
  int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, (mode_t)step->a);
  if (fd < 0) return fail(f, "openat");
  const char *at = step->str[1];
  size_t left = (size_t)step->flags;
  while (left > 0) {
    ssize_t n = write(fd, at, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return fail(f, "write");
    }
    at += n;
    left -= (size_t)n;
  }
  close(fd);
  return 0;
}

/* Appends src to dst (of size `size`), NUL-terminated; -1 when it does not fit. */
static int append(char *dst, size_t size, const char *src) {
  size_t used = strlen(dst), len = strlen(src);
  if (used + len + 1 > size) return -1;
  memcpy(dst + used, src, len + 1);
  return 0;
}

int mounts_overlay(const struct step *step, struct failure *f) {
  forget_parent();
  char target_path[32], upper_path[32], work_path[32];
  int target = open_target(step, O_DIRECTORY);
  if (target < 0) return fail(f, open_syscall(step));
  int upper = -1, work = -1, rc = 0;
  static char data[8192];
  data[0] = '\0';
  fd_path(target_path, target);
  if (step->str[2][0] == '\0') {
    /* The writable layer: a tmpfs on the target, hidden under the overlay once it is mounted. */
    if (mount("tmpfs", target_path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) rc = fail(f, "mount");
    close(target);
    target = rc == 0 ? open_target(step, O_DIRECTORY) : -1;
    if (rc == 0 && target < 0) rc = fail(f, open_syscall(step));
    if (rc == 0 && (mkdirat(target, "upper", 0755) < 0 || mkdirat(target, "work", 0755) < 0)) rc = fail(f, "mkdirat");
    if (rc == 0) {
      upper = openat(target, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
      work = openat(target, "work", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (upper < 0 || work < 0) rc = fail(f, "openat");
    }
    if (rc == 0) fd_path(target_path, target);
  } else {
    upper = open(step->str[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
    work = open(step->str[3], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (upper < 0 || work < 0) rc = fail(f, "open");
  }
  if (rc == 0) {
    fd_path(upper_path, upper);
    fd_path(work_path, work);
    if (append(data, sizeof data, "lowerdir=") < 0 || append(data, sizeof data, step->str[1]) < 0 || append(data, sizeof data, ",upperdir=") < 0 ||
        append(data, sizeof data, upper_path) < 0 || append(data, sizeof data, ",workdir=") < 0 || append(data, sizeof data, work_path) < 0) {
      errno = ENAMETOOLONG;
      rc = fail(f, "mount");
    }
  }
  if (rc == 0 && mount("overlay", target_path, "overlay", 0, data) < 0) rc = fail(f, "mount");
  if (upper >= 0) close(upper);
  if (work >= 0) close(work);
  if (target >= 0) close(target);
  return rc;
}

int mounts_chmod(const struct step *step, struct failure *f) {
  forget_parent();
  int fd = open_target(step, 0);
  if (fd < 0) return fail(f, open_syscall(step));
  char path[32];
  fd_path(path, fd);
  /* Through /proc/self/fd: an O_PATH fd cannot be fchmod()ed, and the path is the one resolved in the root. */
  int rc = chmod(path, (mode_t)step->a) < 0 ? fail(f, "chmod") : 0;
  close(fd);
  return rc;
}

/* The directory that will hold `path`, beneath the root or on the host, with *name pointed at the
 * last component. The fd is borrowed: it stays open for the next step. */
static int open_parent(const struct step *step, const char *path, char *copy, size_t size,
                       const char **name, struct failure *f) {
  size_t len = strlen(path);
  if (len == 0 || len >= size) {
    errno = ENAMETOOLONG;
    return fail(f, "openat2");
  }
  memcpy(copy, path, len + 1);
  while (len > 1 && copy[len - 1] == '/') copy[--len] = '\0';
  char *slash = strrchr(copy, '/');
  const char *dir = ".";
  if (slash) {
    *slash = '\0';
    dir = copy[0] ? copy : "/";
    *name = slash + 1;
  } else {
    *name = copy;
  }
  if (parent_fd >= 0 && parent_in_root == in_root(step) && strcmp(parent_path, dir) == 0) return parent_fd;
  forget_parent();
  int fd = in_root(step) ? nsbox_open_in_root(root_fd, dir, O_PATH | O_DIRECTORY)
                         : open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(f, open_syscall(step));
  parent_fd = fd;
  parent_in_root = in_root(step);
  memcpy(parent_path, dir, strlen(dir) + 1);
  return fd;
}

int mounts_mkdir(const struct step *step, struct failure *f) {
  char copy[PATH_MAX];
  const char *name;
  int dir = open_parent(step, step->str[0], copy, sizeof copy, &name, f);
  if (dir < 0) return -1;
  /* The umask is 0 during setup (setup.c): /dev/shm gets its 01777. */
  return mkdirat(dir, name, (mode_t)step->a) < 0 && errno != EEXIST ? fail(f, "mkdirat") : 0;
}

int mounts_symlink(const struct step *step, struct failure *f) {
  char copy[PATH_MAX];
  const char *name;
  int dir = open_parent(step, step->str[1], copy, sizeof copy, &name, f);
  if (dir < 0) return -1;
  return symlinkat(step->str[0], dir, name) < 0 && errno != EEXIST ? fail(f, "symlinkat") : 0;
}

/* A device node for the new /dev: mknod is one cheap syscall where we may (root in the initial
 * user namespace); in a user namespace it is EPERM, and an empty file with the host's device
 * bound onto it does the same job (as bubblewrap does). */
int mounts_device(const struct step *step, struct failure *f) {
  char copy[PATH_MAX];
  const char *name;
  int dir = open_parent(step, step->str[0], copy, sizeof copy, &name, f);
  if (dir < 0) return -1;
  int rc = mknodat(dir, name, S_IFCHR | 0666, (dev_t)step->flags);
  if (rc < 0 && errno == EPERM) {
    int fd = openat(dir, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    rc = fd < 0 ? fail(f, "openat") : 0;
    if (fd >= 0) close(fd);
    if (rc == 0) {
      struct step bind = *step;
      char *strings[4] = {step->str[1], step->str[0], "", ""};
      bind.str = strings;
      bind.flags = MS_BIND;
      rc = mounts_mount(&bind, f);
    }
  } else if (rc < 0) {
    fail(f, "mknodat");
  }
  return rc;
}

/* pivot_root(".", ".") stacks the old root on top of the new one, so no put_old directory is
 * needed inside the rootfs; detaching "." then drops the old root (the host) from view. */
int mounts_pivot_root(struct failure *f) {
  forget_parent();
  if (fchdir(root_fd) < 0) return fail(f, "fchdir");
  if (nsbox_pivot_root(".", ".") < 0) return fail(f, "pivot_root");
  if (umount2(".", MNT_DETACH) < 0) return fail(f, "umount2");
  if (chdir("/") < 0) return fail(f, "chdir");
  close(root_fd);
  root_fd = -1;
  return 0;
}
