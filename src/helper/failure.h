/* How a helper step says what went wrong: the errno and the syscall that set it. */
#ifndef NSBOX_HELPER_FAILURE_H
#define NSBOX_HELPER_FAILURE_H

#include <errno.h>

struct failure {
  int err;
  const char *syscall;
  int step; /* the plan step it belongs to, when not the one being run (the command's CAPS, SECCOMP); else -1 */
};

static inline int fail(struct failure *f, const char *syscall) {
  f->err = errno;
  f->syscall = syscall;
  return -1;
}

/* A failure of what plan step `step` asked for, applied later (in the command's process). */
static inline int fail_step(struct failure *f, const char *syscall, int step) {
  f->step = step;
  return fail(f, syscall);
}

#endif
