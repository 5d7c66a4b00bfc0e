/* libFuzzer harness for the helper's plan decoder (src/helper/plan.c), built against glibc with
 * ASan and UBSan by scripts/fuzz.sh. Besides parsing, it reads a parsed plan the way the helper
 * does, so a plan the decoder accepts but the helper would overrun shows up as a crash.
 * NSBOX_FUZZ_SEEDS_VALID=1: every input must parse (the seeds are real plans from lib/). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper/plan.h"
#include "sys/wire.h"

static int seeds_valid;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  const char *v = getenv("NSBOX_FUZZ_SEEDS_VALID");
  seeds_valid = v && strcmp(v, "1") == 0;
  return 0;
}

static size_t touch(const char *s) {
  volatile size_t n = strlen(s);
  return n;
}

/* What the helper relies on: every string there and NUL-terminated, the array ended by NULL,
 * the exec step last with its argv and env (command_prepare) inside its strings. */
static void use(const struct plan *p) {
  for (uint32_t i = 0; i < p->nsteps; i++) {
    const struct step *s = &p->steps[i];
    for (uint32_t j = 0; j < s->nstr; j++) touch(s->str[j]);
    if (s->str[s->nstr] != NULL) abort();
  }
  const struct step *exec = &p->steps[p->nsteps - 1];
  if (exec->op != NSBOX_OP_EXEC || exec->a == 0 || exec->a >= exec->nstr) abort();
  uint32_t envc = exec->nstr - 1 - exec->a;
  touch(exec->str[0]);
  touch(exec->str[exec->a]);
  if (envc) touch(exec->str[exec->a + envc]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A copy of exactly `size` bytes: ASan then catches any read past the plan's end. */
  char *buf = malloc(size ? size : 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  struct plan plan;
  int err = plan_parse(buf, size, &plan);
  if (err == 0) {
    use(&plan);
    plan_free(&plan);
  } else if (seeds_valid) {
    fprintf(stderr, "plan_fuzz: a real plan does not parse (error %d): lib/ and plan.c disagree\n", err);
    abort();
  }
  free(buf);
  return 0;
}
