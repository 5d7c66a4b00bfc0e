/* Runs the plan's setup steps in order, up to the final EXEC step. */
#ifndef NSBOX_HELPER_SETUP_H
#define NSBOX_HELPER_SETUP_H

#include "failure.h"
#include "plan.h"

/* Returns the index of the step that failed, with f filled in, or -1 when all succeeded. With
 * `trace`, reports how long each step took. */
int setup_run(const struct plan *plan, int trace, struct failure *f);

/* Microseconds on the monotonic clock, for traces. */
long setup_clock_us(void);

#endif
