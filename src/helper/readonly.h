/* Read-only, recursively: a mount and every mount below it, keeping the flags the kernel locked. */
#ifndef NSBOX_HELPER_READONLY_H
#define NSBOX_HELPER_READONLY_H

#include "failure.h"

/* `target` is an O_PATH fd of the mount's root, `fd_link` its /proc/self/fd/N path. */
int readonly_recursive(int target, const char *fd_link, struct failure *f);

#endif
