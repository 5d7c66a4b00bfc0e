#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sys/wire.h"

/* The least a step and a string take on the wire: counts larger than the bytes left could hold
 * are refused before anything is allocated for them. */
#define MIN_STEP sizeof(struct nsbox_step_header)
#define MIN_STRING (sizeof(uint32_t) + 1)

static int read_all(int fd, char **buf, size_t *len) {
  size_t cap = 4096, used = 0;
  char *data = malloc(cap);
  if (!data) return ENOMEM;
  for (;;) {
    if (used == cap) {
      char *bigger = cap <= (size_t)-1 / 2 ? realloc(data, cap * 2) : NULL;
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

struct cursor {
  char *buf;
  size_t len;
  size_t pos; /* never past len */
};

static size_t left(const struct cursor *c) { return c->len - c->pos; }

/* Takes `size` bytes if they are there. */
static char *take(struct cursor *c, size_t size) {
  if (left(c) < size) return NULL;
  char *at = c->buf + c->pos;
  c->pos += size;
  return at;
}

static int take_u32(struct cursor *c, uint32_t *v) {
  const char *raw = take(c, sizeof *v);
  if (!raw) return -1;
  memcpy(v, raw, sizeof *v);
  return 0;
}

/* Whether the helper can run a step as it reads it: a known op with exactly the strings its
 * code uses (setup.c, mounts.c, network.c, namespaces.c, command.c), numbers that survive the
 * casts made there, and exec as the last step and only there. */
static int step_valid(const struct nsbox_step_header *h, int last, uint32_t options) {
  if ((h->op == NSBOX_OP_EXEC) != last) return 0;
  switch (h->op) {
    case NSBOX_OP_PIVOT_ROOT:
    case NSBOX_OP_LOOPBACK_UP:
    case NSBOX_OP_KEYRING:
    case NSBOX_OP_SETPRIORITY: return h->nstr == 0;
    case NSBOX_OP_CAPS: return h->nstr == 0 && h->a <= 1;
    /* a: the program's length: whole instructions, at most BPF_MAXINSNS (4096) of 8 bytes. */
    case NSBOX_OP_SECCOMP: return h->nstr == 1 && h->a > 0 && h->a % 8 == 0 && h->a <= 4096 * 8;
    case NSBOX_OP_MASK: return h->nstr == 1 && h->a <= 1;
    case NSBOX_OP_OPEN_ROOT:
    case NSBOX_OP_SETHOSTNAME:
    case NSBOX_OP_CHDIR:
    case NSBOX_OP_SETDOMAINNAME:
    case NSBOX_OP_TIME_NS:
    case NSBOX_OP_JOIN_NS:
    case NSBOX_OP_READONLY: return h->nstr == 1;
    case NSBOX_OP_MKDIR: return h->nstr == 1 && h->a <= 07777; /* a: the mode */
    case NSBOX_OP_SYMLINK:
    case NSBOX_OP_DEVICE: return h->nstr == 2;
    case NSBOX_OP_RLIMIT: return h->nstr == 2 && h->a < 16; /* a: RLIMIT_CPU .. RLIMIT_RTTIME */
    case NSBOX_OP_ENSURE: return h->nstr == 2 && h->a <= 07777 && h->flags < 16;
    case NSBOX_OP_WRITE_FILE: return h->nstr == 2 && h->a <= 07777;
    case NSBOX_OP_CHMOD: return h->nstr == 1 && h->a <= 07777;
    case NSBOX_OP_OVERLAY: return h->nstr == 4;
    case NSBOX_OP_IDENTITY: return h->nstr == 1 && h->b <= 1 && h->flags <= 0xffffffffu;
    case NSBOX_OP_IFACE_UP: return h->nstr == 2 && h->a <= 32; /* a: the prefix length */
    case NSBOX_OP_MOUNT: return h->nstr == 4;
    case NSBOX_OP_EXEC:
      /* command_prepare: the file, argv[0] to argv[a - 1], then the env, none if inherited. */
      if (h->a == 0 || h->a >= h->nstr) return 0;
      return !(options & NSBOX_PLAN_INHERIT_ENV) || h->nstr - 1 == h->a;
    default: return 0;
  }
}

static int parse_step(struct cursor *c, int last, uint32_t options, struct step *step) {
  struct nsbox_step_header header;
  const char *raw = take(c, sizeof header);
  if (!raw) return EINVAL;
  memcpy(&header, raw, sizeof header);
  if (!step_valid(&header, last, options) || header.nstr > left(c) / MIN_STRING) return EINVAL;
  step->op = header.op;
  step->nstr = header.nstr;
  step->a = header.a;
  step->b = header.b;
  step->flags = header.flags;
  step->str = calloc((size_t)header.nstr + 1, sizeof(char *));
  if (!step->str) return ENOMEM;
  for (uint32_t i = 0; i < header.nstr; i++) {
    uint32_t slen;
    if (take_u32(c, &slen) < 0 || slen >= left(c)) return EINVAL;
    char *s = take(c, (size_t)slen + 1);
    if (s[slen] != '\0') return EINVAL;
    /* The length must be the C string's: a NUL inside would cut the string the helper uses. A
     * seccomp program is bytes, used with the length its step gives, which must be this one. */
    if (header.op == NSBOX_OP_SECCOMP ? slen != header.a
        : header.op == NSBOX_OP_WRITE_FILE && i == 1 ? slen != header.flags
        : strlen(s) != slen)
      return EINVAL;
    step->str[i] = s;
  }
  return 0;
}

static int parse(struct cursor *c, struct plan *out) {
  uint32_t magic, version, nsteps;
  if (take_u32(c, &magic) < 0 || take_u32(c, &version) < 0 || take_u32(c, &out->options) < 0 ||
      take_u32(c, &nsteps) < 0)
    return EINVAL;
  if (magic != NSBOX_PLAN_MAGIC || version != NSBOX_PLAN_VERSION) return EINVAL;
  if (nsteps == 0 || nsteps > left(c) / MIN_STEP) return EINVAL;
  out->steps = calloc(nsteps, sizeof(struct step));
  if (!out->steps) return ENOMEM;
  out->nsteps = nsteps; /* only now: plan_free walks the steps */
  for (uint32_t i = 0; i < nsteps; i++) {
    int err = parse_step(c, i == nsteps - 1, out->options, &out->steps[i]);
    if (err) return err;
  }
  return left(c) == 0 ? 0 : EINVAL;
}

int plan_parse(char *buf, size_t len, struct plan *out) {
  struct cursor c = {buf, len, 0};
  out->nsteps = 0;
  out->steps = NULL;
  int err = parse(&c, out);
  if (err) plan_free(out);
  return err;
}

void plan_free(struct plan *p) {
  for (uint32_t i = 0; p->steps && i < p->nsteps; i++) free(p->steps[i].str);
  free(p->steps);
  p->steps = NULL;
  p->nsteps = 0;
}

int plan_read(int fd, struct plan *out) {
  char *buf = NULL;
  size_t len = 0;
  int err = read_all(fd, &buf, &len);
  if (err) return err;
  err = plan_parse(buf, len, out);
  if (err) free(buf); /* on success the steps point into it */
  return err;
}
