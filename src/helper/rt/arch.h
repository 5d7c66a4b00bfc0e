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

/* long rt_clone_vfork(int (*fn)(void *), void *stack_top, void *arg): clone(CLONE_VM |
 * CLONE_VFORK | SIGCHLD) with the child on its own stack, where it calls fn(arg) and exits with
 * its result. Assembly, because a child on a new stack cannot return through a C frame. */
#define RT_CLONE_ASM                 \
  ".text\n"                          \
  ".global rt_clone_vfork\n"         \
  "rt_clone_vfork:\n"                \
  "  and $-16, %rsi\n"               \
  "  sub $16, %rsi\n"                \
  "  mov %rdi, 0(%rsi)\n"            \
  "  mov %rdx, 8(%rsi)\n"            \
  "  mov $0x4111, %edi\n"            \
  "  xor %edx, %edx\n"               \
  "  xor %r10d, %r10d\n"             \
  "  xor %r8d, %r8d\n"               \
  "  mov $56, %eax\n"                \
  "  syscall\n"                      \
  "  test %rax, %rax\n"              \
  "  jnz 1f\n"                       \
  "  xor %ebp, %ebp\n"               \
  "  pop %rax\n"                     \
  "  pop %rdi\n"                     \
  "  call *%rax\n"                   \
  "  mov %rax, %rdi\n"               \
  "  mov $231, %eax\n"               \
  "  syscall\n"                      \
  "  hlt\n"                          \
  "1:\n"                             \
  "  ret\n"

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

#define RT_CLONE_ASM                 \
  ".text\n"                          \
  ".global rt_clone_vfork\n"         \
  "rt_clone_vfork:\n"                \
  "  and x1, x1, #-16\n"             \
  "  stp x0, x2, [x1, #-16]!\n"      \
  "  mov x0, #0x4111\n"              \
  "  mov x2, #0\n"                   \
  "  mov x3, #0\n"                   \
  "  mov x4, #0\n"                   \
  "  mov x8, #220\n"                 \
  "  svc 0\n"                        \
  "  cbnz x0, 1f\n"                  \
  "  ldp x1, x0, [sp], #16\n"        \
  "  blr x1\n"                       \
  "  mov x8, #94\n"                  \
  "  svc 0\n"                        \
  "  brk #0\n"                       \
  "1:\n"                             \
  "  ret\n"

#else
#error "nsbox's helper runtime supports x86-64 and arm64"
#endif

#endif
