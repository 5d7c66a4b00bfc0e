/* The one syscall layer, shared by the addon and the helper.
 *
 * syscall(2) wrappers for calls that glibc lacks or only gained recently, so the build does not
 * depend on the libc version; in the helper, syscall() is its own runtime's. Where errno must not
 * be touched (the addon's clone child), sys/raw.h has the bare instruction.
 */
#ifndef NSBOX_SYS_SYSCALLS_H
#define NSBOX_SYS_SYSCALLS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static inline int nsbox_pidfd_open(pid_t pid, unsigned int flags) {
  return (int)syscall(SYS_pidfd_open, pid, flags);
}

static inline int nsbox_pidfd_send_signal(int pidfd, int sig) {
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static inline int nsbox_pivot_root(const char *new_root, const char *put_old) {
  return (int)syscall(SYS_pivot_root, new_root, put_old);
}

static inline int nsbox_close_range(unsigned int first, unsigned int last, unsigned int flags) {
  return (int)syscall(SYS_close_range, first, last, flags);
}

/* Resolve `path` as if `rootfd` were "/": symlinks and ".." cannot leave it, and magic
 * links (/proc/self/fd/...) are refused. This is what keeps a hostile rootfs from
 * redirecting a mount onto the host (runc CVE-2024-45310 and its family). */
static inline int nsbox_open_in_root(int rootfd, const char *path, int oflags) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (unsigned long long)(oflags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

#endif
