#include "report.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../sys/wire.h"

static int fd = -1;

void report_init(int report_fd) { fd = report_fd; }

static void send_record(int type, int step, int err, int value, const char *syscall) {
  struct nsbox_report record;
  memset(&record, 0, sizeof record);
  record.type = type;
  record.step = step;
  record.err = err;
  record.value = value;
  if (syscall) strncpy(record.syscall, syscall, sizeof record.syscall - 1);
  /* One write of less than PIPE_BUF is atomic; if the parent is gone there is nobody to tell. */
  while (write(fd, &record, sizeof record) < 0 && errno == EINTR) {
  }
}

void report_error(int step, int err, const char *syscall) {
  send_record(NSBOX_REPORT_ERROR, step, err, 0, syscall);
}

void report_start_error(int stage, int err, const char *syscall) {
  send_record(NSBOX_REPORT_ERROR, -1, err, stage, syscall);
}

void report_spawned(int pid) { send_record(NSBOX_REPORT_SPAWNED, -1, 0, pid, NULL); }

void report_exit(int wait_status) { send_record(NSBOX_REPORT_EXIT, -1, 0, wait_status, NULL); }

void report_usage(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_CHILDREN, &ru) < 0) return;
  long user = ru.ru_utime.tv_sec * 1000L + ru.ru_utime.tv_usec / 1000;
  long system = ru.ru_stime.tv_sec * 1000L + ru.ru_stime.tv_usec / 1000;
  send_record(NSBOX_REPORT_USAGE, (int)user, (int)system, (int)ru.ru_maxrss, NULL);
}

void report_trace(int step, int microseconds) { send_record(NSBOX_REPORT_TRACE, step, 0, microseconds, NULL); }
