/* The last step: exec the user's command, searching PATH inside the sandbox. */
#ifndef NSBOX_HELPER_COMMAND_H
#define NSBOX_HELPER_COMMAND_H

#include "failure.h"
#include "plan.h"

struct command {
  const char *file;
  char **argv;
  char **env;
};

/* Builds the NULL-terminated argv and env arrays from the EXEC step (allocates); `inherited`
 * replaces the step's env when not NULL. */
int command_prepare(const struct step *exec_step, char **inherited, struct command *cmd, struct failure *f);

/* Unblocks signals, optionally starts a new session, marks every fd from `keep_fds` on
 * close-on-exec, and execs. Allocates nothing. Returns
 * only on failure, with f filled in. */
void command_exec(const struct command *cmd, int keep_fds, int new_session, struct failure *f);

#endif
