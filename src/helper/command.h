/* The last step: exec the user's command, searching PATH inside the sandbox. */
#ifndef NSBOX_HELPER_COMMAND_H
#define NSBOX_HELPER_COMMAND_H

#include "failure.h"
#include "plan.h"

struct command {
  const char *file;
  char **argv;
  char **env;
  int keep_fds;      /* fds 0..keep_fds-1 are the command's; the rest are closed at exec */
  int new_session;   /* setsid() */
  int no_new_privs;  /* PR_SET_NO_NEW_PRIVS: setuid binaries and file capabilities stop working */
  int foreground;    /* a process group of its own, made the terminal's foreground one */
};

/* Builds the NULL-terminated argv and env arrays from the EXEC step (allocates); `inherited`
 * replaces the step's env when not NULL. */
int command_prepare(const struct step *exec_step, char **inherited, struct command *cmd, struct failure *f);

/* Optionally takes the terminal, unblocks signals, optionally starts a new session and sets no_new_privs, marks every fd from
 * `keep_fds` on close-on-exec, and execs. Allocates nothing. Returns only on failure, with f
 * filled in. */
void command_exec(const struct command *cmd, struct failure *f);

#endif
