/**
 * In-process primitives, each in a fresh node process: they change the process (or thread) that
 * calls them, so never the test runner. What each call reaches is asserted, not just that it ran.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { namespaces, setns, spawnIsolated, unshare } from '../lib';
import { describeAsRoot } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { outputs, runNode } from './helpers/node';
import { snapshot } from './helpers/host';

describe('refusals, before any syscall', () => {
  it('user namespaces are refused with a pointer to spawnIsolated', () => {
    expect(() => unshare('user', { scope: 'thread' })).toThrow(expect.objectContaining({ code: 'ERR_NSBOX_THREADED', message: expect.stringMatching(/spawnIsolated/) }));
    expect(() => setns('/proc/self/ns/user', { type: 'user', scope: 'thread' })).toThrow(expect.objectContaining({ code: 'ERR_NSBOX_THREADED' }));
  });

  it('thread-scoped and child-scoped calls must say so', () => {
    expect(() => unshare('uts', undefined as never)).toThrow(expect.objectContaining({ code: 'ERR_NSBOX_SCOPE' }));
    expect(() => unshare('pid', { scope: 'thread' })).toThrow(expect.objectContaining({ code: 'ERR_NSBOX_SCOPE', message: expect.stringMatching(/children/) }));
    expect(() => unshare(['uts', 'nope' as never], { scope: 'thread' })).toThrow(TypeError);
  });
});

describe('namespaces()', () => {
  it('lists every namespace of this process with its inode and path', () => {
    const ns = namespaces();
    for (const kind of ['pid', 'mount', 'uts', 'ipc', 'net', 'user', 'cgroup'] as const) {
      expect(ns[kind]?.path).toBe(`/proc/self/ns/${kind === 'mount' ? 'mnt' : kind}`);
      expect(ns[kind]?.inode).toBe(fs.statSync(`/proc/self/ns/${kind === 'mount' ? 'mnt' : kind}`).ino);
    }
  });

  it('a missing process is ESRCH', () => {
    expect(() => namespaces(2 ** 22 + 1)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });
});

describeAsRoot('in-process primitives', () => {
  let rootfs: Rootfs;
  let mountsBefore: string;
  beforeAll(() => {
    rootfs = buildRootfs(['sh', 'true']);
    fs.mkdirSync(path.join(rootfs.dir, 'oldroot'));
    mountsBefore = snapshot().mountinfo;
  });
  afterAll(() => {
    rootfs.remove();
    expect(snapshot().mountinfo).toBe(mountsBefore);
  });

  it('unshare(uts) + sethostname: the calling thread sees the new name, the host keeps its own', async () => {
    const r = await runNode(`
      const os = require('os');
      nsbox.unshare('uts', { scope: 'thread' });
      nsbox.sethostname('inner-host');
      out(os.hostname());
    `);
    expect(outputs(r)).toEqual(['inner-host']);
    expect(os.hostname()).not.toBe('inner-host');
  });

  it('unshare(mount) reaches the calling thread only: the libuv pool still sees the old mounts', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-prim-'));
    try {
      const r = await runNode(`
        const fs = require('fs');
        // Start the libuv pool first: threads created later copy the main thread's namespaces.
        await Promise.all([1, 2, 3, 4].map(() => fs.promises.readdir('/')));
        nsbox.unshare('mount', { scope: 'thread' });
        nsbox.mount(null, '/', { flags: ['rec', 'private'] });
        nsbox.mount('tmpfs', ${JSON.stringify(dir)}, { type: 'tmpfs', flags: ['nosuid', 'nodev'], data: 'size=1m' });
        fs.writeFileSync(${JSON.stringify(dir)} + '/on-tmpfs', 'x');
        out(fs.readdirSync(${JSON.stringify(dir)}));                   // main thread: the tmpfs
        out(await fs.promises.readdir(${JSON.stringify(dir)}));        // pool thread: the host dir
        nsbox.umount(${JSON.stringify(dir)}, { flags: ['detach'] });
        out(fs.readdirSync(${JSON.stringify(dir)}));
      `);
      expect(r.stderr).toBe('');
      expect(outputs(r)).toEqual([['on-tmpfs'], [], []]);
      expect(fs.readdirSync(dir)).toEqual([]); // nothing reached the host
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mount errors carry code, syscall and path', async () => {
    const r = await runNode(`
      nsbox.unshare('mount', { scope: 'thread' });
      try { nsbox.mount('tmpfs', '/nonexistent/dir', { type: 'tmpfs' }); } catch (e) { out({ name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path }); }
    `);
    expect(outputs(r)).toEqual([{ name: 'NsboxError', code: 'ENOENT', errno: -2, syscall: 'mount', path: '/nonexistent/dir' }]);
  });

  it('setns joins a running sandbox: its hostname (uts) and its root (mount)', async () => {
    const child = spawnIsolated('/bin/sh', ['-c', 'echo ready; read x'], { rootfs: rootfs.dir, hostname: 'joined' });
    try {
      await new Promise((r) => child.stdout?.once('data', r));
      const r = await runNode(`
        const fs = require('fs'), os = require('os');
        nsbox.setns('/proc/${child.pid}/ns/uts', { type: 'uts', scope: 'thread' });
        out(os.hostname());
        nsbox.setns('/proc/${child.pid}/ns/mnt', { type: 'mount', scope: 'thread' });
        out(fs.readdirSync('/').sort());
      `);
      expect(r.stderr).toBe('');
      const [hostname, root] = outputs(r) as [string, string[]];
      expect(hostname).toBe('joined');
      expect(root).toEqual(expect.arrayContaining(['bin', 'dev', 'oldroot', 'proc', 'tmp']));
      expect(root).not.toContain('home');
    } finally {
      child.stdin?.end('\n');
      await child.exited;
    }
  });

  it('chroot reaches the whole process', async () => {
    const r = await runNode(`
      const fs = require('fs');
      nsbox.chroot(${JSON.stringify(rootfs.dir)});
      process.chdir('/');
      out(fs.readdirSync('/').sort());
      out((await fs.promises.readdir('/')).sort()); // a pool thread sees the same root
    `);
    const [sync, pool] = outputs(r) as [string[], string[]];
    expect(sync).toEqual(expect.arrayContaining(['bin', 'oldroot', 'proc']));
    expect(pool).toEqual(sync);
  });

  it('pivotRoot in a private mount namespace of the calling thread', async () => {
    const r = await runNode(`
      const fs = require('fs');
      const root = ${JSON.stringify(rootfs.dir)};
      nsbox.unshare('mount', { scope: 'thread' });
      nsbox.mount(null, '/', { flags: ['rec', 'private'] });
      nsbox.mount(root, root, { flags: ['bind', 'rec'] });
      nsbox.pivotRoot(root, root + '/oldroot');
      process.chdir('/');
      nsbox.umount('/oldroot', { flags: ['detach'] });
      out(fs.readdirSync('/').sort());
      out(fs.readdirSync('/oldroot'));
    `);
    expect(r.stderr).toBe('');
    const [root, old] = outputs(r) as [string[], string[]];
    expect(root).toEqual(expect.arrayContaining(['bin', 'oldroot', 'proc']));
    expect(old).toEqual([]);
  });

  it('namespaces(pid) tells a sandbox apart from its parent', async () => {
    const child = spawnIsolated('sleep', ['5'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const mine = namespaces();
    const theirs = namespaces(child.pid as number);
    child.kill('SIGKILL');
    await child.exited;
    expect(theirs.pid?.inode).not.toBe(mine.pid?.inode);
    expect(theirs.mount?.inode).not.toBe(mine.mount?.inode);
    expect(theirs.net?.inode).toBe(mine.net?.inode);
  });
});
