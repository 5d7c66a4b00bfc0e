/* Says which process group has the terminal (/proc/self/stat's tpgid), its own and PID 1's, then
 * "ready", counts the SIGINTs it receives in one second, and prints the count. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t count;

static void on_int(int sig) {
  (void)sig;
  count++;
}

/* Fields 5 (pgrp) and 8 (tpgid) of a /proc/PID/stat, after the command name's closing paren. */
static void groups(const char *file, int *pgrp, int *tpgid) {
  char buf[1024] = {0};
  FILE *f = fopen(file, "r");
  *pgrp = *tpgid = -1;
  if (!f) return;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *after = strrchr(buf, ')');
  if (after) sscanf(after + 2, "%*c %*d %d %*d %*d %d", pgrp, tpgid);
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_int;
  sigaction(SIGINT, &sa, NULL);
  int pgrp, tpgid, init_pgrp, unused;
  groups("/proc/self/stat", &pgrp, &tpgid);
  groups("/proc/1/stat", &init_pgrp, &unused);
  printf("foreground %s, init %s\n", tpgid == pgrp ? "own" : "other", init_pgrp == tpgid ? "foreground" : "background");
  printf("ready\n");
  fflush(stdout);
  struct timespec left = {1, 0};
  while (nanosleep(&left, &left) != 0) {
  }
  printf("sigint %d\n", (int)count);
  return 0;
}
