#include "namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int namespaces_time(const struct step *step, struct failure *f) {
  if (unshare(CLONE_NEWTIME) < 0) return fail(f, "unshare");
  const char *offsets = step->str[0];
  if (!offsets[0]) return 0;
  int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail(f, "open");
  size_t len = strlen(offsets);
  int rc = write(fd, offsets, len) != (ssize_t)len ? fail(f, "write") : 0;
  close(fd);
  return rc;
}

int namespaces_join(const struct step *step, struct failure *f) {
  int fd = open(step->str[0], O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(f, "open");
  int rc = setns(fd, (int)step->a) < 0 ? fail(f, "setns") : 0;
  close(fd);
  return rc;
}
