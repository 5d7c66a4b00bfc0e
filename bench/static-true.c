/* /bin/true without libc or a dynamic loader: exit(0) and nothing else. bench/run.js puts it in
 * the benchmark's rootfs to measure throughput with a command that costs next to nothing, which
 * shows how much of a spawn is nsbox's own and how much the command's (glibc's start-up runs
 * CPUID, each one a trap on a virtual machine). x86-64 only; skipped elsewhere. */
void _start(void) {
  __asm__ volatile("mov $60, %eax\n\txor %edi, %edi\n\tsyscall");
}
