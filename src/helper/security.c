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
  int identity, identity_step, set_groups, ngroups;
  uid_t uid;
  gid_t gid;
  gid_t groups[64];
} security;

int security_record_identity(const struct step *step, int index, struct failure *f) {
  security.identity = 1;
  security.identity_step = index;
  security.uid = (uid_t)step->a;
  security.gid = (gid_t)step->flags;
  security.set_groups = step->b == 1;
  security.ngroups = 0;
  unsigned long v = 0;
  int digits = 0;
  for (const char *s = step->str[0];; s++) {
    if (*s >= '0' && *s <= '9') {
      v = v * 10 + (unsigned long)(*s - '0');
      digits++;
      if (v > 0xfffffffeUL) break;
      continue;
    }
    if (digits) {
      if (security.ngroups == 64) break;
      security.groups[security.ngroups++] = (gid_t)v;
    }
    if (*s == '\0') return 0;
    if (*s != ',') break;
    v = 0;
    digits = 0;
  }
  errno = EINVAL;
  return fail(f, "setgroups");
}

/* Becomes the command's user, keeping the permitted set across the uid change (PR_SET_KEEPCAPS):
 * what it keeps at exec is then decided by the ordinary rules (ambient only, for a uid not 0). */
static int take_identity(struct failure *f) {
  if (!security.identity) return 0;
  int step = security.identity_step;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return fail_step(f, "prctl", step);
  if (security.set_groups && syscall(SYS_setgroups, security.ngroups, security.groups) < 0) return fail_step(f, "setgroups", step);
  if (syscall(SYS_setresgid, security.gid, security.gid, security.gid) < 0) return fail_step(f, "setresgid", step);
  if (syscall(SYS_setresuid, security.uid, security.uid, security.uid) < 0) return fail_step(f, "setresuid", step);
  return prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ? fail_step(f, "prctl", step) : 0;
}

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
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  if (syscall(SYS_capget, &header, data) < 0) return fail_step(f, "capget", step);
  /* A uid change (kept capabilities) leaves the effective set empty: dropping from the bounding
   * set needs CAP_SETPCAP effective, so the permitted set is made effective first. */
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) data[i].effective = data[i].permitted;
  if (syscall(SYS_capset, &header, data) < 0) return fail_step(f, "capset", step);
  for (int cap = 0; cap <= last; cap++) {
    if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return fail_step(f, "prctl", step);
  }
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
    uint32_t word = (uint32_t)(keep >> (32 * i));
    data[i].permitted &= word;
    data[i].effective = data[i].permitted;
    data[i].inheritable = data[i].permitted;
  }
  return syscall(SYS_capset, &header, data) < 0 ? fail_step(f, "capset", step) : 0;
}

int security_apply_caps(struct failure *f) {
  /* The uid first, while every capability is there; the permitted set survives it (KEEPCAPS). */
  if (take_identity(f) < 0) return -1;
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
