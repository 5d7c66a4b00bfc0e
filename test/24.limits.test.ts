/**
 * Resource limits and why a sandbox ended: rlimits seen inside and enforced, the timeout's
 * escalation to SIGKILL, and `exited`'s reason and usage. (cgroup limits: not yet.)
 */
import { resolveOptions } from '../lib/options';
import { spawnIsolated } from '../lib';
import { describeAsRoot } from './helpers/privilege';
import { run } from './helpers/run';

describe('rlimits and forceKillAfter: validation', () => {
  it.each([
    ['an unknown resource', { rlimits: { files: 1 } }],
    ['a soft limit above the hard one', { rlimits: { nofile: [10, 5] } }],
    ['a negative limit', { rlimits: { nofile: -1 } }],
    ['a fraction', { rlimits: { cpu: 1.5 } }],
    ['one number in a pair', { rlimits: { nofile: [10] } }],
    ['forceKillAfter below 0', { forceKillAfter: -1 }],
  ])('refuses %s with a RangeError', (_what, options) => {
    expect(() => resolveOptions('true', [], options)).toThrow(RangeError);
  });

  it('plans a step per limit, Infinity as unlimited', () => {
    expect(resolveOptions('true', [], { rlimits: { nofile: [64, Infinity], cpu: 2 } }).rlimits).toEqual([
      { name: 'nofile', resource: 7, soft: '64', hard: 'unlimited' },
      { name: 'cpu', resource: 0, soft: '2', hard: '2' },
    ]);
  });
});

describeAsRoot('rlimits, escalation and the reason an exit has', () => {
  it('rlimits are what the command sees (and its children)', async () => {
    // dash's ulimit has no -u: the kernel's own view of the child's limits, in /proc.
    const r = await run('/bin/sh', ['-c', 'ulimit -Sn; ulimit -Hn; sh -c "grep -E \'^Max (processes|open files)\' /proc/self/limits"'], { rlimits: { nofile: [64, 128], nproc: 4000 } });
    expect(r.stdout).toMatch(/^64\n128\nMax processes\s+4000\s+4000\s+processes\s*\nMax open files\s+64\s+128\s+files\s*\n$/);
  });

  it("rlimits.cpu ends a spinner: 'cpu-time' whether by SIGXCPU at the soft limit or SIGKILL at the hard one", async () => {
    const spin = ['-c', 'while :; do :; done'];
    const soft = await spawnIsolated('/bin/sh', spin, { rlimits: { cpu: [1, 3] }, stdio: 'ignore' }).exited;
    expect(soft).toMatchObject({ signal: 'SIGXCPU', reason: 'cpu-time' });
    expect(soft.usage.cpuUserMs + soft.usage.cpuSystemMs).toBeGreaterThanOrEqual(900);
    const hard = await spawnIsolated('/bin/sh', spin, { rlimits: { cpu: 1 }, stdio: 'ignore' }).exited;
    expect(hard).toMatchObject({ signal: 'SIGKILL', reason: 'cpu-time' });
  });

  it("timeout: SIGTERM, then SIGKILL forceKillAfter ms later for a command that traps it: 'timeout'", async () => {
    const trap = ['-c', 'trap "" TERM; while :; do sleep 1; done'];
    const t0 = Date.now();
    const r = await spawnIsolated('/bin/sh', trap, { timeout: 100, forceKillAfter: 200, stdio: 'ignore' }).exited;
    expect(r).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'timeout' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    // Control: without escalation it is still alive well after the timeout.
    const patient = spawnIsolated('/bin/sh', trap, { timeout: 100, forceKillAfter: false, stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(patient.exitCode).toBeNull();
    expect(patient.kill('SIGKILL')).toBe(true);
    await expect(patient.exited).resolves.toMatchObject({ signal: 'SIGKILL', reason: 'timeout' });
  });

  it("reason: 'exit', 'signal' (its own), 'killed' (kill, stop): and what it used", async () => {
    const exited = await spawnIsolated('/bin/sh', ['-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3'], { stdio: 'ignore' }).exited;
    expect(exited).toMatchObject({ code: 3, reason: 'exit', limitsHit: [] });
    expect(exited.usage.cpuUserMs + exited.usage.cpuSystemMs).toBeGreaterThan(0);
    expect(exited.usage.maxRssBytes).toBeGreaterThan(100_000);
    expect(exited.usage.wallMs).toBeGreaterThan(0);
    await expect(spawnIsolated('/bin/sh', ['-c', 'kill -SEGV $$'], { stdio: 'ignore' }).exited).resolves.toMatchObject({ signal: 'SIGSEGV', reason: 'signal' });
    const killed = spawnIsolated('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((resolve) => killed.once('spawn', resolve));
    killed.kill();
    await expect(killed.exited).resolves.toMatchObject({ signal: 'SIGTERM', reason: 'killed' });
    const stopped = spawnIsolated('sleep', ['30'], { stdio: 'ignore' });
    await expect(stopped.stop(100)).resolves.toMatchObject({ reason: 'killed' });
  });
});
