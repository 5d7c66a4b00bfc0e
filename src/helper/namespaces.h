/* Namespace steps that are not a clone flag: the time namespace. */
#ifndef NSBOX_HELPER_NAMESPACES_H
#define NSBOX_HELPER_NAMESPACES_H

#include "failure.h"
#include "plan.h"

/* CLONE_NEWTIME cannot be given to clone() (its bit is in the exit-signal byte), so the helper
 * unshares it: the new namespace applies to its children, and (Linux >= 5.17) to an exec of its
 * own, which covers both init modes. The offsets must be written before anything enters it. */
int namespaces_time(const struct step *step, struct failure *f);

/* setns into the namespace file of the step. Done here, not in the addon's clone child, for the
 * time namespace: the kernel lets only a process with an mm of its own enter one (EUSERS). */
int namespaces_join(const struct step *step, struct failure *f);

#endif
