#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sys/wire.h"

static int read_all(int fd, char **buf, size_t *len) {
  size_t cap = 4096, used = 0;
  char *data = malloc(cap);
  if (!data) return ENOMEM;
  for (;;) {
    if (used == cap) {
      char *bigger = realloc(data, cap * 2);
      if (!bigger) { free(data); return ENOMEM; }
      data = bigger;
      cap *= 2;
    }
    ssize_t n = read(fd, data + used, cap - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { int err = errno; free(data); return err; }
    if (n == 0) break;
    used += (size_t)n;
  }
  *buf = data;
  *len = used;
  return 0;
}

/* Takes `size` bytes at *pos if they are there. */
static const char *take(const char *buf, size_t len, size_t *pos, size_t size) {
  if (len - *pos < size) return NULL;
  const char *at = buf + *pos;
  *pos += size;
  return at;
}

static int parse_step(char *buf, size_t len, size_t *pos, struct step *step) {
  struct nsbox_step_header header;
  const char *raw = take(buf, len, pos, sizeof header);
  if (!raw) return EINVAL;
  memcpy(&header, raw, sizeof header);
  step->op = header.op;
  step->nstr = header.nstr;
  step->a = header.a;
  step->b = header.b;
  step->flags = header.flags;
  if (header.nstr > len / sizeof(uint32_t)) return EINVAL;
  step->str = calloc(header.nstr + 1u, sizeof(char *));
  if (!step->str) return ENOMEM;
  for (uint32_t i = 0; i < header.nstr; i++) {
    uint32_t slen;
    const char *lraw = take(buf, len, pos, sizeof slen);
    if (!lraw) return EINVAL;
    memcpy(&slen, lraw, sizeof slen);
    if (slen >= len) return EINVAL;
    char *s = (char *)take(buf, len, pos, (size_t)slen + 1);
    if (!s || s[slen] != '\0') return EINVAL;
    step->str[i] = s;
  }
  return 0;
}

int plan_read(int fd, struct plan *out) {
  char *buf = NULL;
  size_t len = 0, pos = 0;
  int err = read_all(fd, &buf, &len);
  if (err) return err;
  struct nsbox_plan_header header;
  const char *raw = take(buf, len, &pos, sizeof header);
  if (!raw) return EINVAL;
  memcpy(&header, raw, sizeof header);
  if (header.magic != NSBOX_PLAN_MAGIC || header.version != NSBOX_PLAN_VERSION) return EINVAL;
  if (header.nsteps == 0 || header.nsteps > len) return EINVAL;
  out->options = header.options;
  out->nsteps = header.nsteps;
  out->steps = calloc(header.nsteps, sizeof(struct step));
  if (!out->steps) return ENOMEM;
  for (uint32_t i = 0; i < header.nsteps; i++) {
    err = parse_step(buf, len, &pos, &out->steps[i]);
    if (err) return err;
  }
  if (pos != len || out->steps[header.nsteps - 1].op != NSBOX_OP_EXEC) return EINVAL;
  return 0;
}
