/* PID 1: start the command, reap every child, forward signals, report the real status. */
#ifndef NSBOX_HELPER_INIT_H
#define NSBOX_HELPER_INIT_H

#include "command.h"

/* Never returns. `exec_step` is the plan index reported if the exec fails; `parent_pidfd`
 * is the Node process (or -1): when it exits, so does the namespace. With `trace`, reports how
 * long starting the command took, as the exec step's. */
void init_run(const struct command *cmd, int exec_step, int parent_pidfd, int trace);

#endif
