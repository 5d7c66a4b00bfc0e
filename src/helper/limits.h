/* Resource limits of the command: the plan's RLIMIT steps are recorded, then applied in the
 * command's own process before its capabilities are cut (raising a hard limit needs
 * CAP_SYS_RESOURCE). */
#ifndef NSBOX_HELPER_LIMITS_H
#define NSBOX_HELPER_LIMITS_H

#include "failure.h"
#include "plan.h"

/* RLIMIT step `index`: a = the resource, str[0] and str[1] the soft and hard limits (decimal, or
 * "unlimited"). Fails (EINVAL) on a malformed number. */
int limits_record_rlimit(const struct step *step, int index, struct failure *f);

/* setrlimit for each recorded limit; a failure names its step. */
int limits_apply_rlimits(struct failure *f);

#endif
