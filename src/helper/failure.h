/* How a helper step says what went wrong: the errno and the syscall that set it. */
#ifndef NSBOX_HELPER_FAILURE_H
#define NSBOX_HELPER_FAILURE_H

#include <errno.h>

struct failure {
  int err;
  const char *syscall;
};

static inline int fail(struct failure *f, const char *syscall) {
  f->err = errno;
  f->syscall = syscall;
  return -1;
}

#endif
