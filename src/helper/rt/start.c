/* The helper's own C runtime: process entry and errno. The helper does not link glibc: its
 * static start-up runs dozens of CPUID instructions (CPU feature detection), and in a VM each one
 * traps to the hypervisor. Measured on a 2-core VM: exec + exit of a static glibc program 0.55 ms,
 * of this runtime 0.05 ms, on every spawn. glibc's headers are still used, for types and constants. */
#include <errno.h>
#include <sys/syscall.h>

#include "arch.h"

int main(int argc, char **argv, char **envp);

static int rt_errno;

int *__errno_location(void) { return &rt_errno; }

__attribute__((noreturn, used)) void rt_start(long *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  int status = main(argc, argv, argv + argc + 1);
  for (;;) rt_syscall6(SYS_exit_group, status, 0, 0, 0, 0, 0);
}

__asm__(RT_ENTRY_ASM);
__asm__(RT_CLONE_ASM);
