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

describe('cgroup files and placement (v2 formats are unit-tested: this host has no v2 controllers)', () => {
  const { limitFiles, placements, hierarchies, ownCgroups } = jest.requireActual<typeof import('../lib/cgroup')>('../lib/cgroup');

  it('writes v1 and v2 files', () => {
    const limits = { memory: 64 << 20, memorySwap: 96 << 20, pids: 16, cpu: 0.5 };
    expect(Object.fromEntries(limitFiles(limits, 2))).toEqual({
      memory: [['memory.max', String(64 << 20)], ['memory.swap.max', String(32 << 20)]],
      pids: [['pids.max', '16']],
      cpu: [['cpu.max', '50000 100000']],
    });
    expect(Object.fromEntries(limitFiles(limits, 1))).toEqual({
      memory: [['memory.limit_in_bytes', String(64 << 20)], ['memory.memsw.limit_in_bytes', String(96 << 20)]],
      pids: [['pids.max', '16']],
      cpu: [['cpu.cfs_period_us', '100000'], ['cpu.cfs_quota_us', '50000']],
    });
  });

  it('finds each controller where it lives: v1 hierarchies, and the v2 one when it has the controller', () => {
    const mountinfo = [
      '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    ].join('\n');
    expect(hierarchies(mountinfo).v1.get('memory')).toBe('/sys/fs/cgroup/memory');
    expect(hierarchies(mountinfo).v2).toBe('/sys/fs/cgroup/unified');
    const own = '4:memory:/app\n1:cpu:/\n0::/user.slice';
    expect(ownCgroups(own).v1.get('memory')).toBe('/app');
    expect(ownCgroups(own).v2).toBe('/user.slice');
    // No cgroup.controllers to read at the fake v2 path: every controller is v1's.
    const p = placements(mountinfo, own);
    expect(p.get('memory')).toEqual({ version: 1, own: '/sys/fs/cgroup/memory/app' });
    expect(p.get('cpu')).toEqual({ version: 1, own: '/sys/fs/cgroup/cpu' });
    expect(p.has('pids')).toBe(false);
  });

  it('refuses bad limits with a RangeError', () => {
    for (const limits of [{ memory: 0 }, { pids: 1.5 }, { cpu: 0 }, { cpu: Infinity }, { swap: 1 }, { memorySwap: 10 }, { memory: 20, memorySwap: 10 }]) {
      expect(() => resolveOptions('true', [], { limits } as never)).toThrow(RangeError);
    }
  });
});

describeAsRoot('cgroup limits on this host (v1 controllers)', () => {
  const fs = jest.requireActual<typeof import('fs')>('fs');
  const { placements } = jest.requireActual<typeof import('../lib/cgroup')>('../lib/cgroup');
  /** Every nsbox cgroup below this process's own, in every hierarchy nsbox uses. */
  const leftovers = (): string[] =>
    [...placements().values()].flatMap(({ own }) => (fs.existsSync(own) ? fs.readdirSync(own).filter((n) => n.startsWith('nsbox-')).map((n) => `${own}/${n}`) : []));

  afterEach(() => expect(leftovers()).toEqual([]));

  it('a fork bomb stops at pids, and this process keeps its timers meanwhile', async () => {
    let fires = 0;
    const timer = setInterval(() => fires++, 1);
    const t0 = Date.now();
    const r = await spawnIsolated('/bin/sh', ['-c', 'f() { f | f & }; f; sleep 1'], { limits: { pids: 32 }, timeout: 1500, stdio: 'ignore' }).exited;
    clearInterval(timer);
    expect(r.limitsHit).toContain('pids');
    expect(fires).toBeGreaterThan((Date.now() - t0) / 20);
  });

  it("a memory hog past memory is OOM-killed: reason 'memory'", async () => {
    const r = await spawnIsolated('/bin/sh', ['-c', 'x=a; while :; do x=$x$x; done'], { limits: { memory: 32 << 20 }, timeout: 10_000, stdio: 'ignore' }).exited;
    expect(r).toMatchObject({ signal: 'SIGKILL', reason: 'memory', limitsHit: ['memory'] });
    expect(r.usage.maxRssBytes).toBeGreaterThan(16 << 20);
  });

  it('cpu: 0.25 gives about a quarter of what the same busy loop gets without it', async () => {
    const spin = (limits?: object) => spawnIsolated('/bin/sh', ['-c', 'while :; do :; done'], { ...(limits ? { limits } : {}), timeout: 1000, forceKillAfter: 0, stdio: 'ignore' }).exited;
    const free = await spin({ pids: 64 });
    const quarter = await spin({ cpu: 0.25 });
    const used = (r: typeof free) => r.usage.cpuUserMs + r.usage.cpuSystemMs;
    expect(used(free)).toBeGreaterThan(300);
    expect(used(quarter) / used(free)).toBeGreaterThan(0.1);
    expect(used(quarter) / used(free)).toBeLessThan(0.5);
    expect(quarter.limitsHit).toContain('cpu');
  });

  it('rootless, without a delegated cgroup: a typed error that says why and how, before anything runs', async () => {
    const { readablePackage, runAsNobody } = jest.requireActual<typeof import('./helpers/unprivileged')>('./helpers/unprivileged');
    const pkg = readablePackage();
    try {
      const r = await runAsNobody(pkg, `
        const c = nsbox.spawnIsolated('true', [], { user: true, limits: { pids: 8 } });
        await c.exited.then(() => out('ran'), (e) => out({ code: e.code, step: e.step }));
        out(nsbox.probe().limits.pids);
      `);
      expect(r.stderr).toBe('');
      const [err, verdict] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { code?: string; step?: string; supported?: boolean; reason?: string });
      expect(err.code).toMatch(/^(EACCES|EPERM|EROFS)$/);
      expect(err.step).toMatch(/cgroup.*delegated cgroup v2 subtree/);
      expect(verdict).toMatchObject({ supported: false, reason: expect.stringMatching(/delegated/) });
    } finally {
      pkg.remove();
    }
  });

  it('nothing is left: after a failed spawn, and after the parent was SIGKILLed (the next spawn, or cleanupCgroups, removes it)', async () => {
    await expect(spawnIsolated('/bin/nope', [], { limits: { pids: 8 } }).exited).rejects.toMatchObject({ code: 'ENOENT' });
    const { execFile } = jest.requireActual<typeof import('child_process')>('child_process');
    const { DIST } = jest.requireActual<typeof import('./helpers/node')>('./helpers/node');
    const script = `const c = require(${JSON.stringify(DIST)}).spawnIsolated('sleep', ['30'], { limits: { pids: 8 }, stdio: 'ignore' }); c.once('spawn', () => console.log('up'));`;
    const victim = execFile(process.execPath, ['-e', script]);
    await new Promise((resolve) => victim.stdout?.once('data', resolve));
    const stale = leftovers();
    expect(stale.some((d) => d.endsWith(`nsbox-${victim.pid}`))).toBe(true);
    victim.kill('SIGKILL');
    await new Promise((resolve) => victim.once('exit', resolve));
    // Its sandbox died with it (dieWithParent); its cgroups stay until someone cleans up.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { cleanupCgroups } = jest.requireActual<typeof import('../lib/cgroup')>('../lib/cgroup');
    expect(cleanupCgroups().some((d) => d.endsWith(`nsbox-${victim.pid}`))).toBe(true);
  });
});
