/* The raw system call instruction, without libc and without errno: returns the result or
 * -errno. Used where errno must not be touched: by the helper's own runtime, and by the addon's
 * clone child, which shares memory (and errno's thread-local slot) with a running Node thread.
 * Always inlined: the clone child may call nothing outside its own section (test/45). */
#ifndef NSBOX_SYS_RAW_H
#define NSBOX_SYS_RAW_H

#if defined(__x86_64__)

static inline __attribute__((always_inline)) long rt_syscall6(long n, long a, long b, long c, long d, long e, long f) {
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

#elif defined(__aarch64__)

static inline __attribute__((always_inline)) long rt_syscall6(long n, long a, long b, long c, long d, long e, long f) {
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

#else
#error "nsbox supports x86-64 and arm64"
#endif

static inline __attribute__((always_inline)) long rt_syscall3(long n, long a, long b, long c) { return rt_syscall6(n, a, b, c, 0, 0, 0); }

#endif
