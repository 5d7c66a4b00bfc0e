/* Runs the plan's setup steps in order, up to the final EXEC step. */
#ifndef NSBOX_HELPER_SETUP_H
#define NSBOX_HELPER_SETUP_H

#include "failure.h"
#include "plan.h"

/* Returns the index of the step that failed, with f filled in, or -1 when all succeeded. */
int setup_run(const struct plan *plan, struct failure *f);

#endif
