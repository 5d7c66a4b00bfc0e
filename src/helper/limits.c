#include "limits.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_RLIMITS 16

static struct {
  int resource, step;
  struct rlimit limit;
} rlimits[MAX_RLIMITS];
static int nrlimits;

/* A limit as lib/rlimits.ts writes it. */
static int parse_limit(const char *s, rlim_t *out) {
  static const char unlimited[] = "unlimited";
  int i = 0;
  while (s[i] && s[i] == unlimited[i]) i++;
  if (s[i] == '\0' && unlimited[i] == '\0') return *out = RLIM_INFINITY, 0;
  rlim_t v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > (RLIM_INFINITY - 9) / 10) return -1;
    v = v * 10 + (rlim_t)(*s - '0');
  }
  *out = v;
  return 0;
}

int limits_record_rlimit(const struct step *step, int index, struct failure *f) {
  struct rlimit limit;
  if (nrlimits == MAX_RLIMITS || parse_limit(step->str[0], &limit.rlim_cur) < 0 || parse_limit(step->str[1], &limit.rlim_max) < 0) {
    errno = EINVAL;
    return fail(f, "setrlimit");
  }
  rlimits[nrlimits].resource = (int)step->a;
  rlimits[nrlimits].step = index;
  rlimits[nrlimits].limit = limit;
  nrlimits++;
  return 0;
}

int limits_apply_rlimits(struct failure *f) {
  for (int i = 0; i < nrlimits; i++) {
    if (syscall(SYS_prlimit64, 0, rlimits[i].resource, &rlimits[i].limit, 0) < 0) return fail_step(f, "setrlimit", rlimits[i].step);
  }
  return 0;
}
