/* The C floor for one isolated spawn, and the kernel's own teardown cost: what nsbox is measured
 * against in bench/run.js. Built and run by it; no dependency beyond libc.
 *
 *   floor spawn ROOTFS N [vfork]  clone(NEWPID|NEWNS) + private / + bind rootfs + proc + pivot_root
 *                                 + exec /bin/true, then wait: prints N latencies in ms
 *   floor teardown K              a PID namespace holding K sleeping processes: prints the ms from
 *                                 SIGKILL of its PID 1 to the reaped exit */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static const char *rootfs;

static int child(void *arg) {
  (void)arg;
  char proc[4096];
  snprintf(proc, sizeof proc, "%s/proc", rootfs);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) _exit(101);
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) _exit(102);
  if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) _exit(103);
  if (chdir(rootfs) < 0 || syscall(SYS_pivot_root, ".", ".") < 0) _exit(104);
  if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) _exit(105);
  char *argv[] = {"/bin/true", NULL};
  char *envp[] = {NULL};
  execve("/bin/true", argv, envp);
  _exit(106);
}

static int spawn_loop(int n, int vfork_style) {
  static char stack[65536];
  int flags = CLONE_NEWPID | CLONE_NEWNS | SIGCHLD | (vfork_style ? CLONE_VM | CLONE_VFORK : 0);
  for (int i = 0; i < n; i++) {
    double start = now_ms();
    pid_t pid = clone(child, stack + sizeof stack, flags, NULL);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "floor: spawn failed (status %d)\n", status);
      return 1;
    }
    printf("%.4f\n", now_ms() - start);
  }
  return 0;
}

struct sleepers {
  int count;
  int ready_fd;
};

static int sleeper_init(void *arg) {
  struct sleepers *s = arg;
  for (int i = 0; i < s->count; i++) {
    if (fork() == 0) {
      pause();
      _exit(0);
    }
  }
  if (write(s->ready_fd, "r", 1) < 0) _exit(1);
  for (;;) pause();
}

static int teardown(int k) {
  static char stack[65536];
  int p[2];
  if (pipe(p) < 0) return 1;
  struct sleepers s = {k, p[1]};
  pid_t pid = clone(sleeper_init, stack + sizeof stack, CLONE_NEWPID | SIGCHLD, &s);
  if (pid < 0) return 1;
  char c;
  if (read(p[0], &c, 1) != 1) return 1;
  double start = now_ms();
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  printf("%.4f\n", now_ms() - start);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "spawn") == 0) {
    rootfs = argv[2];
    return spawn_loop(atoi(argv[3]), argc > 4);
  }
  if (argc >= 3 && strcmp(argv[1], "teardown") == 0) return teardown(atoi(argv[2]));
  fprintf(stderr, "usage: floor spawn ROOTFS N [vfork] | floor teardown K\n");
  return 2;
}
