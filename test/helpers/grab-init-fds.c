/* An attacker inside a sandbox: takes every fd of PID 1 it can (pidfd_open(1) + pidfd_getfd),
 * says what each one is, and tries setns() with it (a pidfd or namespace fd of the host would
 * let it out). With an argument N, it also tries setns() on its own fd N (the test's control).
 * Prints one line per fd: "init N <link> setns=<ok|errno name>". Static: runs in any rootfs. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void describe(const char *who, int n, int fd) {
  char link[64], target[256];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t len = readlink(link, target, sizeof target - 1);
  target[len < 0 ? 0 : len] = '\0';
  /* 0 joins a namespace fd of any kind; a pidfd needs the kinds named. */
  int rc = setns(fd, 0);
  if (rc < 0 && errno == EINVAL) rc = setns(fd, CLONE_NEWNS);
  printf("%s %d %s setns=%s\n", who, n, target, rc == 0 ? "ok" : strerrorname_np(errno));
}

int main(int argc, char **argv) {
  int init = (int)syscall(SYS_pidfd_open, 1, 0);
  if (init < 0) {
    printf("pidfd_open %s\n", strerrorname_np(errno));
    return 1;
  }
  for (int n = 0; n < 256; n++) {
    int fd = (int)syscall(SYS_pidfd_getfd, init, n, 0);
    if (fd >= 0) describe("init", n, fd);
    else if (errno != EBADF) printf("getfd %d %s\n", n, strerrorname_np(errno));
  }
  if (argc > 1) describe("own", atoi(argv[1]), atoi(argv[1]));
  return 0;
}
