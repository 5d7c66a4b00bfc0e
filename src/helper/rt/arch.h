/* The two architecture-specific pieces of the helper's runtime: the raw syscall instruction and
 * the process entry point. x86-64 and arm64. */
#ifndef NSBOX_RT_ARCH_H
#define NSBOX_RT_ARCH_H

#if defined(__x86_64__)

static inline long rt_syscall6(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

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

static inline long rt_syscall6(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}

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
