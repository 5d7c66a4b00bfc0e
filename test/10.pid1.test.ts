/**
 * PID-1 semantics, part 1: what the command sees. A fresh /proc shows only the namespace;
 * without init the command itself is PID 1.
 */
import fs from 'fs';
import os from 'os';
import { spawnIsolated } from '../lib';
import { describeAsRoot } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { finish, run } from './helpers/run';
import { snapshot, type HostSnapshot } from './helpers/host';

/** The PID column of `ps aux` (the second). */
function pidsOf(psAux: string): number[] {
  return psAux.trim().split('\n').slice(1).map((line) => Number(line.trim().split(/\s+/)[1]));
}

describeAsRoot('PID 1 and a fresh /proc', () => {
  let rootfs: Rootfs;
  let before: HostSnapshot;
  beforeAll(() => {
    rootfs = buildRootfs();
    before = snapshot();
  });
  afterAll(() => {
    rootfs.remove();
    // No mount of any sandbox reached the host.
    expect(snapshot().mountinfo).toBe(before.mountinfo);
  });

  it('in a rootfs, ps lists only PID 1 (the init) and ps itself', async () => {
    const r = await run('/bin/ps', ['-e', '-o', 'pid=,comm='], { rootfs: rootfs.dir });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(lines).toEqual([['1', 'nsbox-init'], ['2', 'ps']]);
  });

  it('on the host root with a fresh /proc, ps sees only the namespace', async () => {
    const r = await run('ps', ['aux']);
    expect(r.code).toBe(0);
    expect(pidsOf(r.stdout)).toEqual([1, 2]);
  });

  it('with the host /proc (proc: false), ps still sees the host: the tutorial trap', async () => {
    const r = await run('ps', ['aux'], { proc: false });
    expect(pidsOf(r.stdout)).toContain(process.pid);
  });

  it('without init, the command is PID 1', async () => {
    const r = await run('/bin/sh', ['-c', 'echo $$'], { init: false, rootfs: rootfs.dir });
    expect(r.stdout).toBe('1\n');
    const host = await run('sh', ['-c', 'echo $$'], { init: false });
    expect(host.stdout).toBe('1\n');
  });

  it('with init, the command is PID 2 under it', async () => {
    const r = await run('/bin/sh', ['-c', 'echo $$ $PPID'], { rootfs: rootfs.dir });
    expect(r.stdout).toBe('2 1\n');
  });

  it('the handle pid is the host pid of PID 1, in another PID namespace', async () => {
    const child = spawnIsolated('sleep', ['5']);
    await new Promise((r) => child.once('spawn', r));
    expect(child.pid).toBeGreaterThan(1);
    expect(typeof child.pidfd).toBe('number');
    expect(fs.readlinkSync(`/proc/${child.pid}/ns/pid`)).not.toBe(fs.readlinkSync('/proc/self/ns/pid'));
    // The namespace's /proc (seen through the host) names the same process as 1.
    expect(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8')).toMatch(/NSpid:\s+\d+\s+1\n/);
    child.kill('SIGKILL');
    await child.exited;
    expect(child.pidfd).toBeUndefined();
  });

  it('the rootfs is the root: the host filesystem is out of sight', async () => {
    const r = await run('/bin/ls', ['/'], { rootfs: rootfs.dir });
    expect(r.stdout.split('\n').sort()).toEqual(expect.arrayContaining(['bin', 'dev', 'proc', 'tmp']));
    expect(r.stdout).not.toMatch(/\bhome\b|\bvar\b|\bboot\b/);
  });

  it('a minimal /dev: null, zero, urandom, pts, shm, fd links', async () => {
    const r = await run('/bin/sh', ['-c', 'echo hi > /dev/null && ls /dev && ls -d /dev/pts /dev/shm && cat /dev/stdin'], {
      rootfs: rootfs.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.stderr).toBe('');
    for (const name of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm', 'fd', 'ptmx']) expect(r.stdout).toContain(name);
  });

  it('hostname, cwd, env and argv0 reach the command', async () => {
    const r = await run('/bin/sh', ['-c', 'hostname; pwd; echo "$GREETING"'], {
      rootfs: rootfs.dir,
      hostname: 'sandbox',
      cwd: '/tmp',
      env: { GREETING: 'hello', PATH: '/bin' },
    });
    expect(r.stdout).toBe('sandbox\n/tmp\nhello\n');
    expect(os.hostname()).not.toBe('sandbox');
  });

  it('without env, the command gets this process environment, changes included', async () => {
    process.env.NSBOX_TEST_VAR = 'set at runtime';
    try {
      const r = await run('sh', ['-c', 'echo "$NSBOX_TEST_VAR"; echo "$PATH"']);
      expect(r.stdout).toBe(`set at runtime\n${process.env.PATH}\n`);
    } finally {
      delete process.env.NSBOX_TEST_VAR;
    }
    expect((await run('sh', ['-c', 'echo "${NSBOX_TEST_VAR-unset}"'])).stdout).toBe('unset\n');
  });

  it('stdin is piped in and stdout/stderr out', async () => {
    const child = spawnIsolated('/bin/sh', ['-c', 'cat; echo err >&2'], { rootfs: rootfs.dir });
    child.stdin?.end('from node\n');
    const r = await finish(child);
    expect(r).toMatchObject({ stdout: 'from node\n', stderr: 'err\n', code: 0, signal: null });
  });

  it('extra binds (read-only honoured) and tmpfs mounts', async () => {
    const shared = fs.mkdtempSync(`${os.tmpdir()}/nsbox-bind-`);
    fs.writeFileSync(`${shared}/file`, 'from host');
    try {
      const r = await run('/bin/sh', ['-c', 'cat /mnt/file; echo x > /mnt/new 2>/dev/null || echo read-only; echo t > /tmp/t && cat /tmp/t'], {
        rootfs: rootfs.dir,
        mounts: [
          { type: 'bind', source: shared, target: '/mnt', readonly: true },
          { type: 'tmpfs', target: '/tmp' },
        ],
      });
      expect(r.stdout).toBe('from hostread-only\nt\n');
      expect(fs.existsSync(`${rootfs.dir}/tmp/t`)).toBe(false); // it went to the tmpfs
    } finally {
      fs.rmSync(shared, { recursive: true, force: true });
    }
  });

  it('readonlyRoot: the rootfs cannot be written inside, its own mounts still can', async () => {
    const r = await run('/bin/sh', ['-c', 'echo x > /etc/new 2>/dev/null || echo root-read-only; echo y > /dev/null && echo dev-writable'], {
      rootfs: rootfs.dir,
      readonlyRoot: true,
    });
    expect(r.stdout).toBe('root-read-only\ndev-writable\n');
    expect(fs.existsSync(`${rootfs.dir}/etc/new`)).toBe(false);
    expect((await run('/bin/sh', ['-c', 'echo x > /tmp/written && echo root-writable; rm /tmp/written'], { rootfs: rootfs.dir })).stdout).toBe('root-writable\n');
  });

  it('noNewPrivileges sets no_new_privs for the command', async () => {
    const flag = async (noNewPrivileges: boolean) =>
      (await run('/bin/cat', ['/proc/self/status'], { rootfs: rootfs.dir, noNewPrivileges })).stdout.match(/NoNewPrivs:\s+(\d)/)?.[1];
    expect(await flag(true)).toBe('1');
    expect(await flag(false)).toBe('0');
  });

  it('nice applies to the whole sandbox: the init and what the command starts', async () => {
    const niceness = async (nice?: number) =>
      (await run('/bin/ps', ['-e', '-o', 'ni='], { rootfs: rootfs.dir, nice })).stdout.trim().split(/\s+/);
    expect(await niceness(7)).toEqual(['7', '7']);
    expect(await niceness(-3)).toEqual(['-3', '-3']);
    expect(await niceness()).toEqual([String(os.getPriority()), String(os.getPriority())]);
  });

  it('trace: each setup step and the start of the command, timed inside', async () => {
    const child = spawnIsolated('/bin/true', [], { rootfs: rootfs.dir, trace: true, stdio: 'ignore' });
    const traced: { step: string; microseconds: number }[] = [];
    child.on('trace', (t: { step: string; microseconds: number }) => traced.push(t));
    await child.exited;
    expect(traced.map((t) => t.step)).toEqual(expect.arrayContaining(['mount proc on /proc', `pivot_root into ${rootfs.dir}`, 'execute /bin/true']));
    expect(traced.at(-1)?.step).toBe('execute /bin/true');
    for (const t of traced) expect(t.microseconds).toBeGreaterThanOrEqual(0);
    expect(traced.reduce((sum, t) => sum + t.microseconds, 0)).toBeGreaterThan(0);
  });

  it('events come in ChildProcess order: spawn, exit, close', async () => {
    const child = spawnIsolated('/bin/true', [], { rootfs: rootfs.dir, stdio: 'ignore' });
    const events: string[] = [];
    const closed = new Promise((r) => child.once('close', r));
    for (const name of ['spawn', 'exit', 'close', 'error'] as const) child.on(name, () => events.push(name));
    await closed;
    expect(events).toEqual(['spawn', 'exit', 'close']);
    expect(child.exitCode).toBe(0);
  });
});
