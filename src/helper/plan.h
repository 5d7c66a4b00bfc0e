/* The setup plan as the helper sees it: parsed once from the plan pipe, then executed. */
#ifndef NSBOX_HELPER_PLAN_H
#define NSBOX_HELPER_PLAN_H

#include <stdint.h>

struct step {
  uint32_t op;
  uint32_t nstr;
  uint32_t a;
  uint32_t b;
  uint64_t flags;
  char **str; /* nstr strings, pointing into the plan buffer */
};

struct plan {
  uint32_t options;
  uint32_t nsteps;
  struct step *steps;
};

/* Reads the whole plan from fd and parses it. Returns 0, or an errno value (EINVAL for a
 * malformed plan, which means the addon and the helper disagree: a build bug). */
int plan_read(int fd, struct plan *out);

#endif
