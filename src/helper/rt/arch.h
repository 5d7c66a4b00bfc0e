/* The architecture-specific piece of the helper's runtime: the process entry point (the raw
 * syscall instruction is in sys/raw.h). x86-64 and arm64. */
#ifndef NSBOX_RT_ARCH_H
#define NSBOX_RT_ARCH_H

#include "../../sys/raw.h"

#if defined(__x86_64__)

/* The kernel starts us with argc at (%rsp); hand that address to C with an aligned stack. */
#define RT_ENTRY_ASM                 \
  ".text\n"                          \
  ".global _start\n"                 \
  "_start:\n"                        \
  "  xor %rbp, %rbp\n"               \
  "  mov %rsp, %rdi\n"               \
  "  and $-16, %rsp\n"               \
  "  call rt_start\n"                \
  "  hlt\n"

#elif defined(__aarch64__)

#define RT_ENTRY_ASM                 \
  ".text\n"                          \
  ".global _start\n"                 \
  "_start:\n"                        \
  "  mov x29, #0\n"                  \
  "  mov x30, #0\n"                  \
  "  mov x0, sp\n"                   \
  "  bl rt_start\n"                  \
  "  brk #0\n"

#else
#error "nsbox's helper runtime supports x86-64 and arm64"
#endif

#endif
