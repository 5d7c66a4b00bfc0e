#include "init.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

/* Exit like the command did, so a debugger looking at the helper sees the same thing; the
 * parent takes the real status from the EXIT report, since PID 1 cannot die of most
 * signals. */
static void exit_like(int status) {
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Collects every zombie, ours or adopted; returns when none is left to collect. */
static void reap(pid_t command) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0) {
    if (pid == command) {
      report_exit(status);
      /* Leaving PID 1 makes the kernel SIGKILL everything else in the namespace,
       * daemons included, before our pidfd turns readable for the parent. */
      exit_like(status);
    }
  }
}

/* What the command's child sends back when its exec fails; nothing comes when it succeeds
 * (the pipe is close-on-exec). */
struct exec_failure {
  int err;
  char syscall[16];
};

static pid_t start_command(const struct command *cmd, int exec_step, int keep_fds,
                           int new_session) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) {
    report_error(-1, errno, "pipe2");
    _exit(127);
  }
  pid_t pid = fork();
  if (pid == 0) {
    struct failure f = {0, NULL};
    close(pipefd[0]);
    command_exec(cmd, keep_fds, new_session, &f);
    struct exec_failure out;
    memset(&out, 0, sizeof out);
    out.err = f.err;
    strncpy(out.syscall, f.syscall, sizeof out.syscall - 1);
    write(pipefd[1], &out, sizeof out);
    _exit(127);
  }
  if (pid < 0) {
    report_error(-1, errno, "fork");
    _exit(127);
  }
  close(pipefd[1]);
  struct exec_failure in;
  ssize_t n;
  while ((n = read(pipefd[0], &in, sizeof in)) < 0 && errno == EINTR) {
  }
  close(pipefd[0]);
  if (n == (ssize_t)sizeof in) {
    report_error(exec_step, in.err, in.syscall);
    waitpid(pid, NULL, __WALL);
    _exit(127);
  }
  return pid;
}

void init_run(const struct command *cmd, int exec_step, int keep_fds, int new_session,
              int parent_pidfd) {
  sigset_t all;
  sigfillset(&all);
  /* Signals arrive blocked from the parent; a signalfd takes every one of them in turn
   * (catatonit's shape). Blocked signals reach PID 1 even without handlers. */
  int sfd = sigprocmask(SIG_BLOCK, &all, NULL) < 0 ? -1 : signalfd(-1, &all, SFD_CLOEXEC);
  if (sfd < 0) {
    report_error(-1, errno, "signalfd");
    _exit(127);
  }
  pid_t command = start_command(cmd, exec_step, keep_fds, new_session);
  report_spawned(command);

  struct pollfd fds[2] = {{sfd, POLLIN, 0}, {parent_pidfd, POLLIN, 0}};
  nfds_t nfds = parent_pidfd >= 0 ? 2 : 1;
  for (;;) {
    if (poll(fds, nfds, -1) < 0) continue; /* EINTR cannot happen with all signals blocked */
    if (nfds == 2 && fds[1].revents) _exit(137); /* Node is gone: take the namespace down */
    struct signalfd_siginfo si;
    if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si) continue;
    if (si.ssi_signo == SIGCHLD) {
      reap(command);
    } else {
      kill(command, (int)si.ssi_signo);
    }
  }
}
