/* Runs a command on a new pseudo-terminal, as its controlling terminal and foreground job (as an
 * interactive shell would), waits until it prints "ready", types Ctrl-C once, and copies
 * everything the command printed to stdout until it exits. Exits with the command's status. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 125;
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) return perror("pty"), 125;
  const char *name = ptsname(master);
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    int slave = open(name, O_RDWR);
    if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) _exit(126);
    dup2(slave, 0), dup2(slave, 1), dup2(slave, 2);
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  char seen[8192];
  size_t used = 0;
  int typed = 0;
  for (int waited = 0; waited < 200; waited++) { /* 20 s at most */
    struct pollfd p = {master, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      char buf[1024];
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) { /* EIO: the last holder of the terminal is gone */
        int status;
        fflush(stdout);
        if (waitpid(pid, &status, 0) != pid) return 125;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      fwrite(buf, 1, (size_t)n, stdout);
      if (used + (size_t)n < sizeof seen - 1) memcpy(seen + used, buf, (size_t)n), used += (size_t)n, seen[used] = 0;
    }
    if (!typed && strstr(seen, "ready")) {
      typed = 1;
      write(master, "\x03", 1);
    }
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      fflush(stdout);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
  kill(pid, SIGKILL);
  return 124;
}
