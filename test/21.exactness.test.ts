/**
 * Exact under every interleaving: the regression tests of the exactness review (issue 8, items
 * 4-12 and 14-15), each against the real kernel.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { spawnIsolated } from '../lib';
import { resolveOptions } from '../lib/options';
import { DIST, outputs, runNode } from './helpers/node';
import { describeAsRoot } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { finish, run } from './helpers/run';
import { readablePackage, runAsNobody, type ReadablePackage } from './helpers/unprivileged';

/** Children of a process, and which of them are zombies, read from /proc. */
const CHILDREN_OF = `
  const fs = require('fs');
  const children = () => fs.readdirSync('/proc/self/task').flatMap((t) => fs.readFileSync('/proc/self/task/' + t + '/children', 'utf8').trim().split(' ').filter(Boolean));
  const zombies = () => children().filter((p) => { try { return fs.readFileSync('/proc/' + p + '/stat', 'utf8').split(') ')[1][0] === 'Z'; } catch { return false; } });
`;

describeAsRoot('exactness', () => {
  let rootfs: Rootfs;
  let tools: string;
  beforeAll(() => {
    rootfs = buildRootfs(['sh', 'ls', 'id', 'sleep', 'cat', 'wc', 'env']);
    tools = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-tools-'));
    execFileSync('gcc', ['-O2', '-Wall', '-o', path.join(tools, 'pty-run'), path.join(__dirname, 'helpers', 'pty-run.c')]);
    execFileSync('gcc', ['-static', '-O2', '-Wall', '-o', path.join(tools, 'count-sigint'), path.join(__dirname, 'helpers', 'count-sigint.c')]);
  });
  afterAll(() => {
    rootfs.remove();
    fs.rmSync(tools, { recursive: true, force: true });
  });

  it('4: exec into a sandbox with multi-range maps runs as its root, every time', async () => {
    const map = [{ inside: 0, outside: 100000, count: 65536 }];
    const box = spawnIsolated('/bin/sleep', ['30'], { rootfs: rootfs.dir, uidMap: map, gidMap: map, stdio: 'ignore' });
    await new Promise((resolve) => box.once('spawn', resolve));
    for (let i = 0; i < 10; i++) {
      const r = await finish(box.exec('/bin/sh', ['-c', 'id -u; id -g; ls /']));
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^0\n0\nbin\n/);
    }
    box.kill('SIGKILL');
    await box.exited;
  });

  it('5: a worker that ends leaves no zombie, whether its sandboxes die with it or outlive it', async () => {
    const r = await runNode(`
      ${CHILDREN_OF}
      const { Worker } = require('worker_threads');
      const w = new Worker(\`
        const { parentPort } = require('worker_threads');
        const { spawnIsolated } = require(${JSON.stringify(DIST)});
        const boxes = [0, 1, 2].map(() => spawnIsolated('sleep', ['30'], { stdio: 'ignore' }));
        boxes.push(spawnIsolated('sleep', ['0.3'], { stdio: 'ignore', dieWithParent: false }));
        let started = 0;
        for (const b of boxes) b.once('spawn', () => ++started === boxes.length && parentPort.postMessage(boxes.map((b) => b.pid)));
      \`, { eval: true });
      const pids = await new Promise((resolve) => w.once('message', resolve));
      await w.terminate();
      await new Promise((resolve) => setTimeout(resolve, 800));
      out({ pids: pids.length, children: children().length, zombies: zombies().length });
    `);
    expect(r.stderr).toBe('');
    expect(outputs(r)).toEqual([{ pids: 4, children: 0, zombies: 0 }]);
  });

  it("6: on a terminal the command's own group is the foreground one, not the init's: Ctrl-C arrives once", () => {
    const out = execFileSync(path.join(tools, 'pty-run'), [process.execPath, path.join(__dirname, '..', 'dist', 'cli.js'), 'run', '--', path.join(tools, 'count-sigint')], { encoding: 'utf8' });
    // The init in the foreground group would get the terminal's SIGINT too, and forward it.
    expect(out).toMatch(/foreground own, init background\r?\n/);
    expect(out).toMatch(/sigint 1\r?\n/);
  });

  it('7: pid: false leaves nothing of the command behind once exited resolved, daemons included', async () => {
    const r = await run('/bin/sh', ['-c', 'sleep 30 & echo $!; setsid sh -c "sleep 30 & echo \\$!" ; echo done'], { pid: false, mount: false });
    expect(r.code).toBe(0);
    const pids = r.stdout.trim().split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('9: a plan larger than any pipe: 20,000 environment variables (1.2 MB), as root and as uid 65534', async () => {
    const env: Record<string, string> = { PATH: '/bin' };
    for (let i = 0; i < 20000; i++) env[`NSBOX_VAR_${i}`] = 'x'.repeat(40);
    const r = await run('/bin/sh', ['-c', 'env | wc -l'], { rootfs: rootfs.dir, env });
    expect(r.stderr).toBe('');
    expect(Number(r.stdout.trim())).toBeGreaterThanOrEqual(20001);
    const pkg: ReadablePackage = readablePackage();
    try {
      const nobody = await runAsNobody(pkg, `
        const env = { PATH: '/bin:/usr/bin' };
        for (let i = 0; i < 20000; i++) env['NSBOX_VAR_' + i] = 'x'.repeat(40);
        const c = nsbox.spawnIsolated('sh', ['-c', 'env | wc -l'], { user: true, env, stdio: ['ignore', 'pipe', 'inherit'] });
        let text = ''; c.stdout.on('data', (d) => (text += d));
        out({ ...(await c.exited), lines: Number(text.trim()) });
      `);
      expect(nobody.stderr).toBe('');
      expect(outputs(nobody)).toMatchObject([{ code: 0, signal: null, lines: expect.any(Number) }]);
      expect((outputs(nobody)[0] as { lines: number }).lines).toBeGreaterThanOrEqual(20001);
    } finally {
      pkg.remove();
    }
  });

  it('10: kill() before the command ran resolves exited with that signal, with and without the init', async () => {
    for (const init of [true, false]) {
      const child = spawnIsolated('/bin/sleep', ['30'], { rootfs: rootfs.dir, init, stdio: 'ignore' });
      const exits: unknown[] = [];
      child.on('exit', (code, signal) => exits.push([code, signal]));
      expect(child.kill('SIGTERM')).toBe(true);
      await expect(child.exited).resolves.toMatchObject({ code: null, signal: 'SIGTERM' });
      expect(exits).toEqual([[null, 'SIGTERM']]);
      expect(child.killed).toBe(true);
    }
  });

  it("the command's status survives its exit record arriving with the spawn report (40 at once)", async () => {
    const results = await Promise.all(Array.from({ length: 40 }, () => spawnIsolated('/bin/sh', ['-c', 'kill -TERM $$'], { stdio: 'ignore' }).exited));
    for (const r of results) expect(r).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  it('11: a failure nobody observes is thrown, as child_process does; early failures give streams that end', async () => {
    const unobserved = await runNode(`nsbox.spawnIsolated('/bin/nope', [], { stdio: 'ignore' });`);
    expect(unobserved.code).not.toBe(0);
    expect(unobserved.stderr).toMatch(/execute \/bin\/nope: ENOENT/);
    const child = spawnIsolated('/bin/true', [], { join: { net: '/nonexistent/ns' } });
    expect(child.stdout).not.toBeNull();
    const ended = new Promise((resolve) => child.stdout?.once('close', resolve));
    child.stdout?.on('data', () => undefined);
    child.stdin?.write('dropped');
    await expect(child.exited).rejects.toMatchObject({ code: 'ENOENT', path: '/nonexistent/ns' });
    await ended;
  });

  it('12: a namespace the host refuses names the sysctl and its remedy (user.max_user_namespaces = 0 in a user namespace of ours)', async () => {
    const script = `const c = require(${JSON.stringify(DIST)}).spawnIsolated('true', [], { user: true }); c.exited.then(() => console.log('ran'), (e) => console.log(e.message));`;
    const r = await run('/bin/sh', ['-c', `echo 0 > /proc/sys/user/max_user_namespaces && exec ${process.execPath} -e "${script.replace(/"/g, '\\"')}"`], { user: true, capabilities: 'all', seccomp: false });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^create user namespace \(user\.max_user_namespaces is 0.*sysctl -w user\.max_user_namespaces=\d+\): ENOSPC/);
    // The host's own limit is untouched.
    expect(Number(fs.readFileSync('/proc/sys/user/max_user_namespaces', 'utf8'))).toBeGreaterThan(0);
  });

  it('a failed join names the namespaces it was to enter', async () => {
    await expect(spawnIsolated('/bin/true', [], { join: { net: '/proc/self/ns/uts' } }).exited).rejects.toMatchObject({
      code: 'EINVAL',
      step: 'enter the net namespace to join',
    });
  });

  it("extra stdio entries given as 'pipe' are duplex, as in child_process (also for an exec that waits for its sandbox)", async () => {
    const talk = async (child: ReturnType<typeof spawnIsolated>): Promise<string> => {
      const fd3 = child.stdio[3] as NodeJS.ReadWriteStream;
      let out = '';
      fd3.on('data', (d: Buffer) => (out += d));
      fd3.write('hello\n');
      await child.exited;
      return out;
    };
    const script = ['-c', 'read line <&3; echo got:$line >&3'];
    expect(await talk(spawnIsolated('/bin/sh', script, { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] }))).toBe('got:hello\n');
    const box = spawnIsolated('/bin/sleep', ['30'], { stdio: 'ignore' });
    expect(await talk(box.exec('/bin/sh', script, { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] }))).toBe('got:hello\n');
    box.kill('SIGKILL');
    await box.exited;
  });

  it('14-15: internal wiring and out-of-range numbers are refused before any syscall', async () => {
    expect(() => resolveOptions('true', [], { helperJoins: [{ kind: 'bogus' }] } as never)).toThrow(expect.objectContaining({ code: 'ERR_NSBOX_UNKNOWN_OPTION' }));
    try {
      resolveOptions('true', [], { bogus: 1 } as never);
    } catch (e) {
      expect((e as Error).message).not.toMatch(/helperJoins/);
    }
    for (const fd of [2 ** 32 + 1, 2 ** 31, -1, 1.5]) {
      expect(() => resolveOptions('true', [], { stdio: ['pipe', 'pipe', 'pipe', fd] })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    }
    const child = spawnIsolated('/bin/sleep', ['30'], { stdio: 'ignore' });
    for (const grace of [Number.NaN, -1, Infinity, 2 ** 31, 1.5]) {
      await expect(child.stop(grace)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    }
    expect(child.killed).toBe(false);
    await child.stop(0);
  });
});
