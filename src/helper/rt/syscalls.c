/* The system calls the helper makes, under their libc names and prototypes (so the helper's code
 * reads like ordinary C), each a raw syscall that sets errno. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"

#define KERNEL_SIGSET_SIZE 8

static long check(long ret) {
  if (ret < 0 && ret > -4096) {
    errno = (int)-ret;
    return -1;
  }
  return ret;
}

#define SYS6(n, a, b, c, d, e, f) check(rt_syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f)))
#define SYS3(n, a, b, c) SYS6(n, a, b, c, 0, 0, 0)

long syscall(long n, ...) {
  va_list ap;
  va_start(ap, n);
  long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
  long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
  va_end(ap);
  return SYS6(n, a, b, c, d, e, f);
}

void _exit(int status) {
  for (;;) rt_syscall6(SYS_exit_group, status, 0, 0, 0, 0, 0);
}

ssize_t read(int fd, void *buf, size_t n) { return SYS3(SYS_read, fd, buf, n); }
ssize_t write(int fd, const void *buf, size_t n) { return SYS3(SYS_write, fd, buf, n); }
int close(int fd) { return (int)SYS3(SYS_close, fd, 0, 0); }
int pipe2(int fds[2], int flags) { return (int)SYS3(SYS_pipe2, fds, flags, 0); }

int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = (flags & (O_CREAT | __O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  return (int)SYS6(SYS_openat, dirfd, path, flags, mode, 0, 0);
}

int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = (flags & (O_CREAT | __O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  return (int)SYS6(SYS_openat, AT_FDCWD, path, flags, mode, 0, 0);
}

int mkdirat(int dirfd, const char *path, mode_t mode) { return (int)SYS3(SYS_mkdirat, dirfd, path, mode); }
mode_t umask(mode_t mask) { return (mode_t)rt_syscall6(SYS_umask, mask, 0, 0, 0, 0, 0); }
int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev) { return (int)SYS6(SYS_mknodat, dirfd, path, mode, dev, 0, 0); }
int symlinkat(const char *target, int dirfd, const char *path) { return (int)SYS3(SYS_symlinkat, target, dirfd, path); }
int chdir(const char *path) { return (int)SYS3(SYS_chdir, path, 0, 0); }
int fchdir(int fd) { return (int)SYS3(SYS_fchdir, fd, 0, 0); }

int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data) {
  return (int)SYS6(SYS_mount, source, target, fstype, flags, data, 0);
}

int umount2(const char *target, int flags) { return (int)SYS3(SYS_umount2, target, flags, 0); }
int sethostname(const char *name, size_t len) { return (int)SYS3(SYS_sethostname, name, len, 0); }
int setdomainname(const char *name, size_t len) { return (int)SYS3(SYS_setdomainname, name, len, 0); }
int setpriority(__priority_which_t which, id_t who, int prio) { return (int)SYS3(SYS_setpriority, which, who, prio); }
int unshare(int flags) { return (int)SYS3(SYS_unshare, flags, 0, 0); }
int setns(int fd, int nstype) { return (int)SYS3(SYS_setns, fd, nstype, 0); }
int socket(int domain, int type, int protocol) { return (int)SYS3(SYS_socket, domain, type, protocol); }

ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t len) {
  return SYS6(SYS_sendto, fd, buf, n, flags, to, len);
}

ssize_t recv(int fd, void *buf, size_t n, int flags) { return SYS6(SYS_recvfrom, fd, buf, n, flags, NULL, NULL); }

int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  return (int)SYS3(SYS_ioctl, fd, request, arg);
}

int prctl(int option, ...) {
  va_list ap;
  va_start(ap, option);
  unsigned long a = va_arg(ap, unsigned long), b = va_arg(ap, unsigned long);
  unsigned long c = va_arg(ap, unsigned long), d = va_arg(ap, unsigned long);
  va_end(ap);
  return (int)SYS6(SYS_prctl, option, a, b, c, d, 0);
}

int sigemptyset(sigset_t *set) {
  for (size_t i = 0; i < sizeof set->__val / sizeof set->__val[0]; i++) set->__val[i] = 0;
  return 0;
}

int sigfillset(sigset_t *set) {
  for (size_t i = 0; i < sizeof set->__val / sizeof set->__val[0]; i++) set->__val[i] = ~0UL;
  return 0;
}

int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
  return (int)SYS6(SYS_rt_sigprocmask, how, set, old, KERNEL_SIGSET_SIZE, 0, 0);
}

int signalfd(int fd, const sigset_t *mask, int flags) {
  return (int)SYS6(SYS_signalfd4, fd, mask, KERNEL_SIGSET_SIZE, flags, 0, 0);
}

int poll(struct pollfd *fds, nfds_t n, int timeout_ms) {
  struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
  return (int)SYS6(SYS_ppoll, fds, n, timeout_ms < 0 ? NULL : &ts, NULL, KERNEL_SIGSET_SIZE, 0);
}

long rt_clone_vfork(int (*fn)(void *), void *stack_top, void *arg);

pid_t vfork_call(int (*fn)(void *), void *stack_top, void *arg) { return (pid_t)check(rt_clone_vfork(fn, stack_top, arg)); }

pid_t waitpid(pid_t pid, int *status, int options) { return (pid_t)SYS6(SYS_wait4, pid, status, options, NULL, 0, 0); }
int kill(pid_t pid, int sig) { return (int)SYS3(SYS_kill, pid, sig, 0); }
int execve(const char *path, char *const argv[], char *const envp[]) { return (int)SYS3(SYS_execve, path, argv, envp); }
pid_t setsid(void) { return (pid_t)SYS3(SYS_setsid, 0, 0, 0); }
int setpgid(pid_t pid, pid_t pgid) { return (int)SYS3(SYS_setpgid, pid, pgid, 0); }
pid_t getpgrp(void) { return (pid_t)SYS3(SYS_getpgid, 0, 0, 0); }
int setgroups(size_t n, const gid_t *groups) { return (int)SYS3(SYS_setgroups, n, groups, 0); }
int setresuid(uid_t r, uid_t e, uid_t s) { return (int)SYS3(SYS_setresuid, r, e, s); }
int setresgid(gid_t r, gid_t e, gid_t s) { return (int)SYS3(SYS_setresgid, r, e, s); }

int isatty(int fd) {
  unsigned char termios[128]; /* the kernel's struct termios, smaller than glibc's */
  return SYS3(SYS_ioctl, fd, TCGETS, termios) == 0;
}

int tcsetpgrp(int fd, pid_t pgrp) { return (int)SYS3(SYS_ioctl, fd, TIOCSPGRP, &pgrp); }


int clock_gettime(clockid_t clock, struct timespec *t) { return (int)SYS3(SYS_clock_gettime, clock, t, 0); }
ssize_t pread(int fd, void *buf, size_t n, off_t offset) { return SYS6(SYS_pread64, fd, buf, n, offset, 0, 0); }
ssize_t readlink(const char *path, char *buf, size_t n) { return SYS6(SYS_readlinkat, AT_FDCWD, path, buf, n, 0, 0); }
int statfs(const char *path, struct statfs *buf) { return (int)SYS3(SYS_statfs, path, buf, 0); }
int getrusage(__rusage_who_t who, struct rusage *usage) { return (int)SYS3(SYS_getrusage, who, usage, 0); }
int chmod(const char *path, mode_t mode) { return (int)SYS3(SYS_fchmodat, AT_FDCWD, path, mode); }
