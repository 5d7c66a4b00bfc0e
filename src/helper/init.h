/* PID 1: start the command, reap every child, forward signals, report the real status. */
#ifndef NSBOX_HELPER_INIT_H
#define NSBOX_HELPER_INIT_H

#include "command.h"

struct init_fds {
  int parent;   /* read end of the parent-death pipe (or -1): when it hangs up, Node is gone */
  int subreaper; /* no PID namespace: we adopt orphans and end them with the command */
  int children;  /* our /proc children file, for the subreaper (or -1 where the kernel has none) */
};

/* Never returns. `exec_step` is the plan index reported if the exec fails. With `trace`,
 * reports how long starting the command took, as the exec step's. */
void init_run(const struct command *cmd, int exec_step, const struct init_fds *fds, int trace);

#endif
