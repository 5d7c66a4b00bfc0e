/* nsbox-helper: the small static program the addon execs inside the new namespaces.
 * It runs the setup plan, then either stays as PID 1 over the command (init) or becomes it.
 *
 * argv[1] is n, the number of stdio fds the command gets (0..n-1); the control fds follow
 * them (sys/wire.h). Signals arrive all blocked. Our environment is Node's, for the command
 * when the plan says INHERIT_ENV (copying process.env in JavaScript costs more than the spawn). */
#include <poll.h>
#include <grp.h>
#include <termios.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../sys/syscalls.h"
#include "../sys/wire.h"
#include "command.h"
#include "init.h"
#include "plan.h"
#include "report.h"
#include "setup.h"

/* The parent wrote multi-range maps while we waited for the plan; we kept our capabilities
 * across exec through the ambient set. Become root of the namespace, then drop the ambient set
 * so the command gets capabilities by the ordinary rules. */
static void become_root(void) {
  const char *failed = NULL;
  if (setgroups(0, NULL) < 0) failed = "setgroups";
  else if (setresgid(0, 0, 0) < 0) failed = "setresgid";
  else if (setresuid(0, 0, 0) < 0) failed = "setresuid";
  else if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) failed = "prctl";
  if (failed) {
    report_error(-1, errno, failed);
    _exit(127);
  }
}

/* An interactive shell restores the terminal's foreground group when it exits; the caller's
 * group is invisible from inside a new PID namespace, so the shell would fail (ESRCH). Our own
 * group, made foreground here, is visible (as 1). SIGTTOU is blocked, so a background
 * tcsetpgrp is allowed. */
static void take_terminal(void) {
  if (!isatty(0)) return;
  if (setpgid(0, 0) < 0 || tcsetpgrp(0, getpgrp()) < 0) {
    report_error(-1, errno, "tcsetpgrp");
    _exit(127);
  }
}

static void die_with_parent(int parent_pidfd) {
  /* PDEATHSIG fires when the cloning thread dies; the pidfd poll in init covers the rest and
   * the window before this prctl (the parent may already be gone). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
    report_error(-1, errno, "prctl");
    _exit(127);
  }
  struct pollfd p = {parent_pidfd, POLLIN, 0};
  if (poll(&p, 1, 0) > 0) _exit(137);
}

int main(int argc, char **argv, char **envp) {
  if (argc < 2) return 127;
  int keep_fds = 0;
  for (const char *d = argv[1]; *d >= '0' && *d <= '9'; d++) keep_fds = keep_fds * 10 + (*d - '0');
  int plan_fd = keep_fds + NSBOX_FD_PLAN;
  int parent_fd = keep_fds + NSBOX_FD_PARENT;
  report_init(keep_fds + NSBOX_FD_REPORT);
  /* Anything else Node let through without O_CLOEXEC stops here. */
  if (nsbox_close_range((unsigned)(keep_fds + NSBOX_CONTROL_FDS), ~0U, 0) < 0) {
    report_error(-1, errno, "close_range");
    return 127;
  }

  /* The sandboxed command must not ptrace us or open our /proc entries. The name replaces
   * "memfd:nsbox-helper", which is what exec from a memfd leaves in comm. */
  if (prctl(PR_SET_DUMPABLE, 0) < 0 || prctl(PR_SET_NAME, "nsbox-init") < 0) {
    report_error(-1, errno, "prctl");
    return 127;
  }
  struct plan plan;
  int err = plan_read(plan_fd, &plan);
  if (err) {
    report_error(-1, err, "plan");
    return 127;
  }
  close(plan_fd);
  /* Before PDEATHSIG: changing credentials clears it. */
  if (plan.options & NSBOX_PLAN_BECOME_ROOT) become_root();
  int with_parent = (plan.options & NSBOX_PLAN_DIE_WITH_PARENT) != 0;
  if (with_parent) die_with_parent(parent_fd);

  struct failure f = {0, NULL};
  int trace = (plan.options & NSBOX_PLAN_TRACE) != 0;
  int failed = setup_run(&plan, trace, &f);
  int exec_step = (int)plan.nsteps - 1;
  struct command cmd;
  if (failed < 0 && command_prepare(&plan.steps[exec_step], (plan.options & NSBOX_PLAN_INHERIT_ENV) ? envp : NULL, &cmd, &f) < 0) failed = exec_step;
  if (failed >= 0) {
    report_error(failed, f.err, f.syscall);
    return 127;
  }
  cmd.keep_fds = keep_fds;
  cmd.new_session = (plan.options & NSBOX_PLAN_SETSID) != 0;
  cmd.no_new_privs = (plan.options & NSBOX_PLAN_NO_NEW_PRIVS) != 0;
  if (plan.options & NSBOX_PLAN_FOREGROUND) take_terminal();
  if (plan.options & NSBOX_PLAN_INIT) init_run(&cmd, exec_step, with_parent ? parent_fd : -1, trace);
  /* No init: the command becomes PID 1. The report fd is close-on-exec, so the parent reads
   * EOF when the exec succeeds and an error record when it does not. */
  close(parent_fd);
  command_exec(&cmd, &f);
  report_error(exec_step, f.err, f.syscall);
  return 127;
}
