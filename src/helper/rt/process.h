/* Process creation in the helper's runtime. */
#ifndef NSBOX_RT_PROCESS_H
#define NSBOX_RT_PROCESS_H

#include <sys/types.h>

/* vfork, done safely: the child runs fn(arg) on `stack_top` (not on our frames) and exits with
 * its result; we resume once it has exec'd or exited. Returns its pid, or -1 with errno. */
pid_t vfork_call(int (*fn)(void *), void *stack_top, void *arg);

#endif
