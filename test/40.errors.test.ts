/**
 * Errors: Node's shape (code, errno, syscall, path) plus the setup step that failed; a command
 * that does not exist is an 'error' event and a rejected `exited`, never a silent exit 127.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { NsboxError, spawnIsolated, type IsolatedOptions } from '../lib';
import { describeAsRoot } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { run } from './helpers/run';

async function failure(command: string, args: string[], options: IsolatedOptions): Promise<{ err: NsboxError; events: string[] }> {
  const child = spawnIsolated(command, args, options);
  const events: string[] = [];
  for (const name of ['spawn', 'exit', 'error'] as const) child.on(name, () => events.push(name));
  const closed = new Promise((r) => child.once('close', r));
  const err = await child.exited.then(
    () => {
      throw new Error('expected the spawn to fail');
    },
    (e: NsboxError) => e,
  );
  await closed;
  return { err, events };
}

describeAsRoot('errors', () => {
  let rootfs: Rootfs;
  beforeAll(() => {
    rootfs = buildRootfs(['sh', 'cat']);
  });
  afterAll(() => rootfs.remove());

  it('a missing rootfs is ENOENT with the path, naming the step', async () => {
    const missing = path.join(os.tmpdir(), 'nsbox-no-such-rootfs');
    const { err, events } = await failure('/bin/sh', [], { rootfs: missing });
    expect(err).toBeInstanceOf(NsboxError);
    expect(err).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'mount', path: missing, step: `bind rootfs ${missing} onto itself` });
    expect(err.message).toBe(`bind rootfs ${missing} onto itself: ENOENT (no such file or directory)`);
    expect(events).toEqual(['error']);
  });

  it.each([true, false])('a command missing inside is an error event with ENOENT (init: %s)', async (init) => {
    const { err, events } = await failure('/bin/nope', ['x'], { rootfs: rootfs.dir, init });
    expect(err).toMatchObject({ code: 'ENOENT', syscall: 'execve', path: '/bin/nope', step: 'execute /bin/nope' });
    expect(err.spawnargs).toEqual(['/bin/nope', 'x']);
    expect(events).toEqual(['error']);
  });

  it('PATH is searched inside the sandbox, with the command env PATH', async () => {
    // cat exists on the host in /usr/bin, but in this rootfs only in /bin.
    const { err } = await failure('cat', [], { rootfs: rootfs.dir, env: { PATH: '/usr/local/bin' } });
    expect(err.code).toBe('ENOENT');
    expect((await run('cat', ['/etc/group'], { rootfs: rootfs.dir, env: { PATH: '/bin' } })).code).toBe(0);
  });

  it('a command that is not executable is EACCES', async () => {
    const { err } = await failure('/etc/passwd', [], { rootfs: rootfs.dir });
    expect(err).toMatchObject({ code: 'EACCES', syscall: 'execve' });
  });

  it('a failing mount names itself: mount proc on /proc', async () => {
    const noProc = buildRootfs(['true']);
    // A missing /proc is made now; a file where the directory should be is not replaced.
    fs.rmdirSync(path.join(noProc.dir, 'proc'));
    fs.writeFileSync(path.join(noProc.dir, 'proc'), '');
    try {
      const { err } = await failure('/bin/true', [], { rootfs: noProc.dir });
      expect(err).toMatchObject({ code: 'ENOTDIR', step: 'mount proc on /proc', path: '/proc', syscall: 'mount' });
      expect(err.message).toMatch(/^mount proc on \/proc: ENOTDIR/);
    } finally {
      noProc.remove();
    }
  });

  it('a failure before the helper runs (a stdio fd that is not open) names the start stage', async () => {
    const { err, events } = await failure('/bin/true', [], { stdio: ['ignore', 1000, 'ignore'] });
    expect(err).toMatchObject({ code: 'EBADF', syscall: 'fcntl', step: 'pass the stdio and control file descriptors' });
    expect(events).toEqual(['error']);
  });

  it('a bad cwd names the chdir step', async () => {
    const { err } = await failure('/bin/sh', [], { rootfs: rootfs.dir, cwd: '/nowhere' });
    expect(err).toMatchObject({ code: 'ENOENT', syscall: 'chdir', step: 'chdir to /nowhere' });
  });

  it('a hostile rootfs cannot point a mount at the host: targets resolve beneath the root', async () => {
    // /proc in the rootfs is an absolute symlink to a directory that also exists on the host.
    const hostile = buildRootfs(['sh', 'cat']);
    const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-escape-'));
    try {
      fs.rmdirSync(path.join(hostile.dir, 'proc'));
      fs.mkdirSync(path.join(hostile.dir, hostDir), { recursive: true });
      fs.symlinkSync(hostDir, path.join(hostile.dir, 'proc'));
      // If the mount had followed the link on the host, /proc inside would be empty.
      const r = await run('/bin/cat', ['/proc/1/comm'], { rootfs: hostile.dir });
      expect(r.stdout).toBe('nsbox-init\n');
      expect(fs.readdirSync(hostDir)).toEqual([]);
    } finally {
      hostile.remove();
      fs.rmSync(hostDir, { recursive: true, force: true });
    }
  });

  it('with no error listener, a failure still rejects exited (and does not throw)', async () => {
    const child = spawnIsolated('/bin/nope', [], { rootfs: rootfs.dir });
    await expect(child.exited).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
