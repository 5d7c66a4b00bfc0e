/* malloc for a short-lived, single-threaded process: a bump allocator over mmap. Nothing is
 * ever freed; the helper allocates only the parsed plan and the command's argv/env. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "arch.h"

#define CHUNK (256 * 1024)

static char *next;
static size_t left;

struct header {
  size_t size;
  size_t pad; /* keeps allocations 16-byte aligned */
};

void *malloc(size_t size) {
  size_t need = (sizeof(struct header) + size + 15) & ~(size_t)15;
  if (need > left) {
    size_t map = need > CHUNK ? need : CHUNK;
    long p = rt_syscall6(SYS_mmap, 0, (long)map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p < 0 && p > -4096) return NULL;
    next = (char *)p;
    left = map;
  }
  struct header *h = (struct header *)next;
  h->size = size;
  next += need;
  left -= need;
  return h + 1;
}

void *calloc(size_t count, size_t size) {
  if (size && count > (size_t)-1 / size) return NULL;
  return malloc(count * size); /* fresh anonymous memory is already zero */
}

void *realloc(void *old, size_t size) {
  void *p = malloc(size);
  if (p && old) {
    size_t was = ((struct header *)old - 1)->size;
    memcpy(p, old, was < size ? was : size);
  }
  return p;
}

void free(void *p) { (void)p; }
