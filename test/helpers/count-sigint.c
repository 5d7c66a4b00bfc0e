/* Counts the SIGINTs it receives in one second after saying "ready", then prints the count. */
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t count;

static void on_int(int sig) {
  (void)sig;
  count++;
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_int;
  sigaction(SIGINT, &sa, NULL);
  printf("ready\n");
  fflush(stdout);
  struct timespec left = {1, 0};
  while (nanosleep(&left, &left) != 0) {
  }
  printf("sigint %d\n", (int)count);
  return 0;
}
