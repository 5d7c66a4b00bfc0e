#include "command.h"

#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sys/syscalls.h"
#include "limits.h"
#include "security.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_path(char *const *env) {
  for (; *env; env++) {
    if (strncmp(*env, "PATH=", 5) == 0) return *env + 5;
  }
  return DEFAULT_PATH;
}

/* execvpe(3) searches the helper's own (empty) environment; the command's PATH is in its env.
 * Writes to *f only on failure. */
static void exec_search(const char *file, char *const *argv, char *const *env, struct failure *f) {
  if (strchr(file, '/')) {
    execve(file, argv, env);
    fail(f, "execve");
    return;
  }
  const char *path = env_path(env);
  size_t flen = strlen(file);
  int saw_eacces = 0;
  for (;;) {
    const char *end = strchr(path, ':');
    size_t dlen = end ? (size_t)(end - path) : strlen(path);
    char full[PATH_MAX];
    if (dlen + flen + 2 <= sizeof full) {
      /* An empty PATH entry means the current directory. */
      size_t at = dlen ? dlen : 1;
      memcpy(full, dlen ? path : ".", at);
      full[at] = '/';
      memcpy(full + at + 1, file, flen + 1);
      execve(full, argv, env);
      if (errno == EACCES) {
        saw_eacces = 1;
      } else if (errno != ENOENT && errno != ENOTDIR) {
        fail(f, "execve");
        return;
      }
    }
    if (!end) break;
    path = end + 1;
  }
  errno = saw_eacces ? EACCES : ENOENT;
  fail(f, "execve");
}

int command_prepare(const struct step *step, char **inherited, struct command *cmd, struct failure *f) {
  uint32_t argc = step->a;
  uint32_t envc = step->nstr - 1 - argc;
  cmd->file = step->str[0];
  cmd->argv = calloc(argc + 1, sizeof(char *));
  cmd->env = inherited ? inherited : calloc(envc + 1, sizeof(char *));
  if (!cmd->argv || !cmd->env) {
    errno = ENOMEM;
    return fail(f, "malloc");
  }
  memcpy(cmd->argv, step->str + 1, argc * sizeof(char *));
  if (!inherited) memcpy(cmd->env, step->str + 1 + argc, envc * sizeof(char *));
  return 0;
}

/* The command's own process group gets the terminal (tini's shape): keys like Ctrl-C then reach
 * the command's group once, not also the init, which would forward them a second time. An
 * interactive shell restores the foreground group it started with when it exits; its own group
 * is visible in its PID namespace, where the caller's is not. SIGTTOU is still blocked here, so a
 * background tcsetpgrp is allowed. */
static int take_terminal(struct failure *f) {
  if (!isatty(0)) return 0;
  if (setpgid(0, 0) < 0) return fail(f, "setpgid");
  if (tcsetpgrp(0, getpgrp()) < 0) return fail(f, "tcsetpgrp");
  return 0;
}

void command_exec(const struct command *cmd, struct failure *f) {
  if (cmd->foreground && take_terminal(f) < 0) return;
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) {
    fail(f, "sigprocmask");
    return;
  }
  /* A new session detaches the command from the caller's terminal: it cannot push
   * keystrokes into it with TIOCSTI (CVE-2017-5226). */
  if (cmd->new_session && setsid() < 0) {
    fail(f, "setsid");
    return;
  }
  /* Without no_new_privs, installing a filter needs CAP_SYS_ADMIN: before the cut (runc's order). */
  if (!cmd->no_new_privs && security_apply_seccomp(f) < 0) return;
  /* Before the capability cut: raising a hard limit needs CAP_SYS_RESOURCE. */
  if (limits_apply_rlimits(f) < 0) return;
  if (security_apply_caps(f) < 0) return;
  if (cmd->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    fail(f, "prctl");
    return;
  }
  if (nsbox_close_range((unsigned)cmd->keep_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    fail(f, "close_range");
    return;
  }
  /* Last: from here on only what the profile allows, and execve is allowed. */
  if (cmd->no_new_privs && security_apply_seccomp(f) < 0) return;
  exec_search(cmd->file, cmd->argv, cmd->env, f);
}
