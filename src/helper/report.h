/* Records to the parent over the report pipe (see sys/wire.h). */
#ifndef NSBOX_HELPER_REPORT_H
#define NSBOX_HELPER_REPORT_H

void report_init(int fd);
void report_error(int step, int err, const char *syscall);
/* A failure outside the plan's steps: `stage` is one of sys/wire.h's NSBOX_START_*. */
void report_start_error(int stage, int err, const char *syscall);
void report_spawned(int pid);
void report_exit(int wait_status);
/* What the command and the descendants the init reaped used (getrusage RUSAGE_CHILDREN). */
void report_usage(void);
void report_trace(int step, int microseconds);

#endif
