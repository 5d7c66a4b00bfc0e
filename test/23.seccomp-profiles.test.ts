/**
 * The seccomp option takes OCI `linux.seccomp` objects as Docker and Podman write them: actions
 * with errnoRet, argument comparisons, Docker's archMap and includes/excludes by capability, and
 * names this kernel does not know (skipped, as runc does). Bad profiles are TypeErrors or
 * RangeErrors before anything runs; a profile is compiled once and then reused.
 */
import { resolveOptions } from '../lib/options';
import { describeAsRoot } from './helpers/privilege';
import { run } from './helpers/run';

const ENOSYS = 38;
const EXDEV = 18;

describe('OCI seccomp profiles: validation', () => {
  it.each([
    ['an array', [], TypeError],
    ['an unknown action', { defaultAction: 'SCMP_ACT_MAYBE' }, TypeError],
    ['NOTIFY (no listener)', { defaultAction: 'SCMP_ACT_NOTIFY' }, TypeError],
    ['an errnoRet out of range', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }] }, RangeError],
    ['an unknown op', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_LIKE' }] }] }, TypeError],
    ['an argument index of 6', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, RangeError],
    ['an unknown architecture', { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_PDP11'] }, TypeError],
  ])('refuses %s', (_what, seccomp, type) => {
    expect(() => resolveOptions('true', [], { seccomp } as never)).toThrow(type);
  });
});

describeAsRoot('OCI seccomp profiles, installed', () => {
  const mkdirs = "mkdir /tmp/nsbox-seccomp-$$ 2>&1 | grep -o 'Function not implemented\\|Invalid cross-device link' || echo made; rmdir /tmp/nsbox-seccomp-$$ 2>/dev/null; true";

  it('errnoRet, unknown names skipped, and Docker includes/excludes by capability', async () => {
    const profile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
      syscalls: [
        { names: ['mkdir', 'mkdirat', 'no_such_syscall_anywhere'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV, includes: { caps: ['CAP_SYS_ADMIN'] } },
      ],
    };
    expect((await run('/bin/sh', ['-c', mkdirs], { seccomp: profile as never })).stdout.trim()).toBe('Function not implemented');
    const admin = await run('/bin/sh', ['-c', mkdirs], { seccomp: profile as never, capabilities: ['CAP_SYS_ADMIN', 'CAP_DAC_OVERRIDE'] });
    expect(admin.stdout.trim()).toBe('Invalid cross-device link');
    // Control: the same command without the profile makes the directory.
    expect((await run('/bin/sh', ['-c', mkdirs], { seccomp: false })).stdout.trim()).toBe('made');
  });

  it('argument comparisons: only the call that matches is refused', async () => {
    // kill(pid, 0) refused, kill with a real signal allowed.
    const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] }] };
    const r = await run('/bin/sh', ['-c', 'kill -0 $$ 2>&1 | grep -c "not implemented"; sh -c "kill -TERM \\$\\$"; echo $?'], { seccomp: profile as never });
    expect(r.stdout.trim().split('\n')).toEqual(['1', '143']);
  });
});
