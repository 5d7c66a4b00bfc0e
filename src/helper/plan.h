/* The setup plan as the helper sees it: parsed once from the plan pipe, then executed. */
#ifndef NSBOX_HELPER_PLAN_H
#define NSBOX_HELPER_PLAN_H

#include <stddef.h>
#include <stdint.h>

struct step {
  uint32_t op;
  uint32_t nstr;
  uint32_t a;
  uint32_t b;
  uint64_t flags;
  char **str; /* nstr strings, pointing into the plan buffer, then NULL */
};

struct plan {
  uint32_t options;
  uint32_t nsteps;
  struct step *steps;
};

/* Reads the whole plan from fd and parses it. Returns 0, or an errno value (EINVAL for a
 * malformed plan, which means the addon and the helper disagree: a build bug). */
int plan_read(int fd, struct plan *out);

/* Parses and validates the plan in buf, which must outlive *out: the strings are used in place
 * (not const: they become the command's argv and env). On success every step is one the helper
 * can run as it reads it: a known op with exactly the strings its code uses, the exec step last
 * and only there, its argc within its strings. Returns 0, EINVAL or ENOMEM; on error nothing
 * stays allocated. */
int plan_parse(char *buf, size_t len, struct plan *out);

/* Frees what plan_parse allocated (not buf). */
void plan_free(struct plan *p);

#endif
