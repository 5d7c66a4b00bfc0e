/* Runs a command under a seccomp filter that answers the named syscalls with ENOSYS, as older
 * container runtimes' default profiles do for clone3, or as a kernel without them would:
 *   enosys clone3[,mount_setattr] COMMAND ARGS...
 * `enosys --probe` prints what clone3 returns here instead. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#endif

static const struct { const char *name; int nr; } KNOWN[] = {
    {"clone3", SYS_clone3},
    {"mount_setattr", SYS_mount_setattr},
};

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--probe") == 0) {
    long rc = syscall(SYS_clone3, NULL, 0);
    printf("%s\n", rc < 0 ? strerrorname_np(errno) : "ok");
    return 0;
  }
  if (argc < 3) {
    fprintf(stderr, "usage: enosys SYSCALL[,SYSCALL...] COMMAND [ARGS...]\n");
    return 125;
  }
  struct sock_filter filter[16];
  unsigned n = 0;
  filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
  filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  for (char *name = strtok(argv[1], ","); name; name = strtok(NULL, ",")) {
    int nr = -1;
    for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++) if (strcmp(KNOWN[i].name, name) == 0) nr = KNOWN[i].nr;
    if (nr < 0 || n > 12) {
      fprintf(stderr, "enosys: unknown syscall %s\n", name);
      return 125;
    }
    filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1);
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
  }
  filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {(unsigned short)n, filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
    perror("enosys");
    return 125;
  }
  execvp(argv[2], argv + 2);
  perror("enosys: exec");
  return 127;
}
