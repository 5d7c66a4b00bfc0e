#include "security.h"

#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct {
  int caps;       /* a CAPS step was given */
  uint64_t keep;  /* bit n: capability n */
  int ambient;
  const char *bpf;
  uint32_t bpf_len;
  int caps_step, seccomp_step;
} security;

int security_record_caps(const struct step *step, int index) {
  security.caps = 1;
  security.caps_step = index;
  security.keep = step->flags;
  security.ambient = step->a != 0;
  return 0;
}

int security_record_seccomp(const struct step *step, int index) {
  security.seccomp_step = index;
  security.bpf = step->str[0];
  security.bpf_len = (uint32_t)step->a; /* the program's length in bytes (it may hold NULs) */
  return 0;
}

int security_join_keyring(struct failure *f) {
  return syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0) < 0 ? fail(f, "keyctl") : 0;
}

/* The last capability this kernel knows (it may know fewer than the headers). */
static int last_cap(void) {
  int last = CAP_LAST_CAP;
  while (last > 0 && prctl(PR_CAPBSET_READ, last, 0, 0, 0) < 0) last--;
  return last;
}

static int set_caps(uint64_t keep, int step, struct failure *f) {
  int last = last_cap();
  /* Bounding set first: dropping needs CAP_SETPCAP, which the capset below may remove. */
  for (int cap = 0; cap <= last; cap++) {
    if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return fail_step(f, "prctl", step);
  }
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  if (syscall(SYS_capget, &header, data) < 0) return fail_step(f, "capget", step);
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
    uint32_t word = (uint32_t)(keep >> (32 * i));
    data[i].permitted &= word;
    data[i].effective = data[i].permitted;
    data[i].inheritable = data[i].permitted;
  }
  return syscall(SYS_capset, &header, data) < 0 ? fail_step(f, "capset", step) : 0;
}

int security_apply_caps(struct failure *f) {
  if (!security.caps) return 0;
  if (set_caps(security.keep, security.caps_step, f) < 0) return -1;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return fail_step(f, "prctl", security.caps_step);
  if (!security.ambient) return 0;
  /* An explicit list: ambient too, so that a command whose uid is not 0 really has it. A kept
   * capability we do not hold ourselves (EPERM) cannot be given. */
  for (int cap = 0; cap <= last_cap(); cap++) {
    if ((security.keep & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM) {
      return fail_step(f, "prctl", security.caps_step);
    }
  }
  return 0;
}

int security_apply_seccomp(struct failure *f) {
  if (!security.bpf) return 0;
  struct sock_fprog prog = {(unsigned short)(security.bpf_len / sizeof(struct sock_filter)), (struct sock_filter *)security.bpf};
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ? fail_step(f, "seccomp", security.seccomp_step) : 0;
}

int security_drop_init(struct failure *f) {
  return set_caps(1ULL << CAP_KILL, -1, f);
}
