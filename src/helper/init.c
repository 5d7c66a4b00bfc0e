#include "init.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../sys/wire.h"
#include "report.h"
#include "security.h"
#include "setup.h"
#include "rt/process.h"

/* Exit like the command did, so a debugger looking at the helper sees the same thing; the
 * parent takes the real status from the EXIT report, since PID 1 cannot die of most
 * signals. */
static void exit_like(int status) {
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* The pids in our /proc children file, SIGKILLed; returns how many there were. */
static int kill_children(int children_fd) {
  char buf[4096];
  ssize_t n = pread(children_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  int count = 0;
  pid_t pid = 0;
  for (ssize_t i = 0; i <= n; i++) {
    if (i < n && buf[i] >= '0' && buf[i] <= '9') {
      pid = pid * 10 + (buf[i] - '0');
    } else if (pid > 0) {
      kill(pid, SIGKILL);
      count++;
      pid = 0;
    }
  }
  return count;
}

/* Without a PID namespace, the kernel does not end the rest with us: as their subreaper we
 * SIGKILL every descendant left (each one's orphans come to us as it dies, so we go round until
 * none is left), so that nothing of the sandbox outlives the exit the parent is told of. Without
 * the children file (CONFIG_PROC_CHILDREN), the command's process group is what we can reach. */
static void end_descendants(int children_fd, pid_t command) {
  if (children_fd < 0) kill(-command, SIGKILL);
  for (;;) {
    int listed = children_fd >= 0 ? kill_children(children_fd) : 0;
    pid_t pid = waitpid(-1, NULL, __WALL);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0 && listed == 0) return; /* ECHILD: nobody is left */
  }
}

/* Collects every zombie, ours or adopted; returns when none is left to collect. */
static void reap(pid_t command, const struct init_fds *init_fds) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0) {
    if (pid == command) {
      if (init_fds->subreaper) end_descendants(init_fds->children, command);
      report_usage();
      report_exit(status);
      /* Leaving PID 1 makes the kernel SIGKILL everything else in the namespace,
       * daemons included, before our pidfd turns readable for the parent. */
      exit_like(status);
    }
  }
}

struct start {
  const struct command *cmd;
  struct failure failure; /* written by the child only when its exec fails */
};

static int exec_child(void *arg) {
  struct start *start = arg;
  command_exec(start->cmd, &start->failure);
  return 127;
}

/* vfork-style: we share memory with the child until it execs, so its failure lands in `start`
 * without a pipe, and no page table is copied (measured: 0.17 ms per spawn with fork and a
 * pipe). command_exec allocates nothing. */
static pid_t start_command(const struct command *cmd, int exec_step) {
  static char stack[16384] __attribute__((aligned(16)));
  struct start start = {cmd, {0, NULL, -1}};
  pid_t pid = vfork_call(exec_child, stack + sizeof stack, &start);
  if (pid < 0) {
    report_start_error(NSBOX_START_COMMAND, errno, "clone");
    _exit(127);
  }
  if (start.failure.err) {
    report_error(start.failure.step >= 0 ? start.failure.step : exec_step, start.failure.err, start.failure.syscall);
    waitpid(pid, NULL, __WALL);
    _exit(127);
  }
  return pid;
}

void init_run(const struct command *cmd, int exec_step, const struct init_fds *init_fds, int trace) {
  sigset_t all;
  sigfillset(&all);
  /* Signals arrive blocked from the parent; a signalfd takes every one of them in turn
   * (catatonit's shape). Blocked signals reach PID 1 even without handlers. */
  int sfd = sigprocmask(SIG_BLOCK, &all, NULL) < 0 ? -1 : signalfd(-1, &all, SFD_CLOEXEC);
  if (sfd < 0) {
    report_start_error(NSBOX_START_COMMAND, errno, "signalfd");
    _exit(127);
  }
  long start = trace ? setup_clock_us() : 0;
  pid_t command = start_command(cmd, exec_step);
  if (trace) report_trace(exec_step, (int)(setup_clock_us() - start));
  report_spawned(command);
  /* The command's stdio is the command's: we keep no copy for anyone to take from us, and its
   * pipes end when it and its children close them. */
  for (int fd = 0; fd < cmd->keep_fds; fd++) close(fd);
  /* Not fatal if it fails: the command runs already, and cannot reach us without CAP_SYS_PTRACE. */
  struct failure ignored = {0, NULL, -1};
  (void)security_drop_init(&ignored);

  struct pollfd fds[2] = {{sfd, POLLIN, 0}, {init_fds->parent, POLLIN, 0}};
  nfds_t nfds = init_fds->parent >= 0 ? 2 : 1;
  for (;;) {
    if (poll(fds, nfds, -1) < 0) continue; /* EINTR cannot happen with all signals blocked */
    if (nfds == 2 && fds[1].revents) {
      /* Node is gone: take the sandbox down */
      if (init_fds->subreaper) {
        kill(command, SIGKILL);
        end_descendants(init_fds->children, command);
      }
      _exit(137);
    }
    struct signalfd_siginfo si;
    if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si) continue;
    if (si.ssi_signo == SIGCHLD) {
      reap(command, init_fds);
    } else {
      kill(command, (int)si.ssi_signo);
    }
  }
}
