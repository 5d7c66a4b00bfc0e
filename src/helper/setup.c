#include "setup.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../sys/wire.h"
#include "mounts.h"
#include "report.h"
#include "namespaces.h"
#include "network.h"
#include "limits.h"
#include "security.h"

static int run_step(const struct step *step, int index, struct failure *f) {
  switch (step->op) {
    case NSBOX_OP_MOUNT: return mounts_mount(step, f);
    case NSBOX_OP_OPEN_ROOT: return mounts_open_root(step, f);
    case NSBOX_OP_MKDIR: return mounts_mkdir(step, f);
    case NSBOX_OP_SYMLINK: return mounts_symlink(step, f);
    case NSBOX_OP_DEVICE: return mounts_device(step, f);
    case NSBOX_OP_READONLY: return mounts_readonly(step, f);
    case NSBOX_OP_MASK: return mounts_mask(step, f);
    case NSBOX_OP_CAPS: return security_record_caps(step, index);
    case NSBOX_OP_SECCOMP: return security_record_seccomp(step, index);
    case NSBOX_OP_KEYRING: return security_join_keyring(f);
    case NSBOX_OP_RLIMIT: return limits_record_rlimit(step, index, f);
    case NSBOX_OP_ENSURE: return mounts_ensure(step, f);
    case NSBOX_OP_WRITE_FILE: return mounts_write_file(step, f);
    case NSBOX_OP_CHMOD: return mounts_chmod(step, f);
    case NSBOX_OP_OVERLAY: return mounts_overlay(step, f);
    case NSBOX_OP_IDENTITY: return security_record_identity(step, index, f);
    case NSBOX_OP_PIVOT_ROOT: return mounts_pivot_root(f);
    case NSBOX_OP_SETHOSTNAME:
      return sethostname(step->str[0], strlen(step->str[0])) < 0 ? fail(f, "sethostname") : 0;
    case NSBOX_OP_CHDIR: return chdir(step->str[0]) < 0 ? fail(f, "chdir") : 0;
    case NSBOX_OP_LOOPBACK_UP: return network_loopback_up(f);
    case NSBOX_OP_IFACE_UP: return network_iface_up(step, f);
    case NSBOX_OP_SETDOMAINNAME:
      return setdomainname(step->str[0], strlen(step->str[0])) < 0 ? fail(f, "setdomainname") : 0;
    case NSBOX_OP_TIME_NS: return namespaces_time(step, f);
    case NSBOX_OP_JOIN_NS: return namespaces_join(step, f);
    case NSBOX_OP_SETPRIORITY:
      return setpriority(PRIO_PROCESS, 0, (int32_t)step->a) < 0 ? fail(f, "setpriority") : 0;
    default:
      errno = EINVAL;
      return fail(f, "plan");
  }
}

long setup_clock_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

int setup_run(const struct plan *plan, int trace, struct failure *f) {
  /* Entries made during setup get exactly the modes the plan gives (0666 devices, 01777 shm),
   * without a chmod each; the command gets the caller's umask back. */
  mode_t umask_before = umask(0);
  int failed = -1;
  for (uint32_t i = 0; i + 1 < plan->nsteps && failed < 0; i++) {
    long start = trace ? setup_clock_us() : 0;
    int rc = run_step(&plan->steps[i], (int)i, f);
    if (rc < 0) failed = (int)i;
    /* An optional bind whose source is missing: its steps are skipped (bwrap's --bind-try). */
    if (rc == MOUNTS_SKIP) i += (uint32_t)plan->steps[i].flags;
    if (trace) report_trace((int)i, (int)(setup_clock_us() - start));
  }
  umask(umask_before);
  return failed;
}
