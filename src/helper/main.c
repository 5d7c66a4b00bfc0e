/* nsbox-helper: the small static program the addon execs inside the new namespaces.
 * It runs the setup plan, then either stays as PID 1 over the command (init) or becomes it.
 *
 * argv[1] is n, the number of stdio fds the command gets (0..n-1); the control fds follow
 * them (sys/wire.h). Signals arrive all blocked. Our environment is Node's, for the command
 * when the plan says INHERIT_ENV (copying process.env in JavaScript costs more than the spawn). */
#include <fcntl.h>
#include <poll.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../sys/syscalls.h"
#include "../sys/wire.h"
#include "command.h"
#include "init.h"
#include "plan.h"
#include "report.h"
#include "setup.h"

static void start_failed(int err, const char *syscall) {
  report_start_error(NSBOX_START_HELPER, err, syscall);
  _exit(127);
}

/* The parent writes multi-range maps (or a veth) after the clone; EOF on the sync pipe says it
 * is done. */
static void wait_for_parent(int sync_fd) {
  char byte;
  ssize_t n;
  while ((n = read(sync_fd, &byte, 1)) != 0) {
    if (n < 0 && errno != EINTR) start_failed(errno, "read");
  }
}

/* The parent wrote multi-range maps while we waited; we kept our capabilities across exec
 * through the ambient set. Become root of the namespace, then drop the ambient set so the
 * command gets capabilities by the ordinary rules. */
static void become_root(void) {
  if (setgroups(0, NULL) < 0) start_failed(errno, "setgroups");
  if (setresgid(0, 0, 0) < 0) start_failed(errno, "setresgid");
  if (setresuid(0, 0, 0) < 0) start_failed(errno, "setresuid");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) start_failed(errno, "prctl");
}

static void die_with_parent(int parent_fd) {
  /* PDEATHSIG fires when the cloning thread dies; the init's poll of the parent-death pipe
   * covers the rest and the window before this prctl (the parent may already be gone). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) start_failed(errno, "prctl");
  struct pollfd p = {parent_fd, POLLIN, 0};
  if (poll(&p, 1, 0) > 0) _exit(137);
}

int main(int argc, char **argv, char **envp) {
  if (argc < 2) return 127;
  int keep_fds = 0;
  for (const char *d = argv[1]; *d >= '0' && *d <= '9'; d++) keep_fds = keep_fds * 10 + (*d - '0');
  int plan_fd = keep_fds + NSBOX_FD_PLAN;
  int parent_fd = keep_fds + NSBOX_FD_PARENT;
  int sync_fd = keep_fds + NSBOX_FD_SYNC;
  report_init(keep_fds + NSBOX_FD_REPORT);
  /* Anything else Node let through without O_CLOEXEC stops here. */
  if (nsbox_close_range((unsigned)(keep_fds + NSBOX_CONTROL_FDS), ~0U, 0) < 0) start_failed(errno, "close_range");

  /* The sandboxed command must not ptrace us or open our /proc entries. The name replaces
   * "memfd:nsbox-helper", which is what exec from a memfd leaves in comm. */
  if (prctl(PR_SET_DUMPABLE, 0) < 0 || prctl(PR_SET_NAME, "nsbox-init") < 0) start_failed(errno, "prctl");
  struct plan plan;
  int err = plan_read(plan_fd, &plan);
  if (err) start_failed(err, "plan");
  close(plan_fd);
  if (plan.options & NSBOX_PLAN_WAIT_PARENT) wait_for_parent(sync_fd);
  close(sync_fd);
  /* Before PDEATHSIG: changing credentials clears it. */
  if (plan.options & NSBOX_PLAN_BECOME_ROOT) become_root();
  int with_parent = (plan.options & NSBOX_PLAN_DIE_WITH_PARENT) != 0;
  if (with_parent) die_with_parent(parent_fd);
  else close(parent_fd);
  /* Without a PID namespace nothing ends the command's orphans with it: we adopt them, and
   * find them through our children file, opened while the host's /proc is still in view. */
  int children_fd = -1;
  int subreaper = (plan.options & NSBOX_PLAN_SUBREAPER) && (plan.options & NSBOX_PLAN_INIT);
  if (subreaper) {
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) start_failed(errno, "prctl");
    children_fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
  }

  struct failure f = {0, NULL, -1};
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
  cmd.foreground = (plan.options & NSBOX_PLAN_FOREGROUND) != 0;
  if (plan.options & NSBOX_PLAN_INIT) {
    struct init_fds fds = {with_parent ? parent_fd : -1, subreaper, children_fd};
    init_run(&cmd, exec_step, &fds, trace);
  }
  /* No init: the command becomes PID 1. The report fd is close-on-exec, so the parent reads
   * EOF when the exec succeeds and an error record when it does not. */
  if (with_parent) close(parent_fd);
  command_exec(&cmd, &f);
  report_error(f.step >= 0 ? f.step : exec_step, f.err, f.syscall);
  return 127;
}
