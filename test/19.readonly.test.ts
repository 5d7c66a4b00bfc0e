/**
 * Read-only covers the whole subtree: a mount below a read-only bind's source, or inside a
 * read-only rootfs, refuses writes (EROFS) as bubblewrap's --ro-bind does; before, a write there
 * reached the host. And the read-only remount keeps the flags the kernel locked, so a rootless
 * read-only bind of something on a nosuid mount works (it failed with EPERM).
 *
 * The mounts below the sources are made in a private mount namespace (an outer sandbox running
 * a Node script), never on the host. Each refusal has its control: the same write, without
 * read-only, lands.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { describeAsRoot } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { run } from './helpers/run';
import { NOBODY, readablePackage, type ReadablePackage } from './helpers/unprivileged';

/** What the inner script reports for one write: the shell's stderr and status. */
interface Attempt {
  name: string;
  code: number | null;
  stderr: string;
  error?: string;
}

const INNER = `
const nsbox = require(process.argv[2]);
const [rootfs, src] = process.argv.slice(3);
const write = (name, options, file) => new Promise((resolve) => {
  const child = nsbox.spawnIsolated('/bin/sh', ['-c', 'echo x > ' + file], { rootfs, ...options });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.exited.then((r) => resolve({ name, code: r.code, stderr }), (e) => resolve({ name, code: null, stderr, error: e.code + ' ' + e.message }));
});
(async () => {
  const user = process.getuid() !== 0 ? { user: true } : {};
  const ro = [{ type: 'bind', source: src, target: '/mnt', readonly: true }];
  const rw = [{ type: 'bind', source: src, target: '/mnt' }];
  const results = [
    await write('ro-bind submount', { ...user, mounts: ro }, '/mnt/sub/f'),
    await write('ro-bind top', { ...user, mounts: ro }, '/mnt/f'),
    await write('rw-bind submount', { ...user, mounts: rw }, '/mnt/sub/g'),
  ];
  if (!user.user) {
    results.push(await write('readonlyRoot submount', { readonlyRoot: true }, '/data/f'));
    results.push(await write('rw root submount', {}, '/data/g'));
  }
  console.log(JSON.stringify(results));
})();
`;

describeAsRoot('read-only is recursive and keeps locked flags', () => {
  let rootfs: Rootfs;
  let pkg: ReadablePackage;
  let work: string;
  beforeAll(() => {
    rootfs = buildRootfs(['sh']);
    fs.mkdirSync(path.join(rootfs.dir, 'data'));
    pkg = readablePackage();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-ro-'));
    fs.chmodSync(work, 0o755);
    fs.writeFileSync(path.join(work, 'inner.js'), INNER, { mode: 0o644 });
    execFileSync('gcc', ['-O2', '-Wall', '-o', path.join(work, 'enosys'), path.join(__dirname, 'helpers', 'enosys.c')]);
  });
  afterAll(() => {
    rootfs.remove();
    pkg.remove();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** In a private mount namespace: SRC a nosuid,nodev tmpfs with a tmpfs at SRC/sub and one at rootfs/data, then the inner script (as `user`). */
  async function attempts(asUser: string): Promise<Attempt[]> {
    const src = path.join(work, 'src');
    const script = [
      `mkdir -p ${src}`,
      `mount -t tmpfs -o nosuid,nodev,mode=0777 outer ${src}`,
      `mkdir -m 0777 ${src}/sub`,
      `mount -t tmpfs -o mode=0777 below ${src}/sub`,
      `mount -t tmpfs -o mode=0777 data ${rootfs.dir}/data`,
      `exec ${asUser} ${process.execPath} ${work}/inner.js ${pkg.dir}/dist ${rootfs.dir} ${src}`,
    ].join(' && ');
    // The outer sandbox mounts and nests sandboxes: it gets what the hardening takes away.
    const r = await run('/bin/sh', ['-c', script], { proc: false, capabilities: 'all', seccomp: false });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as Attempt[];
  }

  it('as root: writes below a read-only bind and inside a read-only root are EROFS; without read-only they land', async () => {
    const byName = Object.fromEntries((await attempts('')).map((a) => [a.name, a]));
    for (const name of ['ro-bind submount', 'ro-bind top', 'readonlyRoot submount']) {
      expect(byName[name]).toMatchObject({ code: 2, stderr: expect.stringMatching(/Read-only file system/) });
    }
    for (const name of ['rw-bind submount', 'rw root submount']) expect(byName[name]).toEqual({ name, code: 0, stderr: '' });
  });

  it('before Linux 5.12 (mount_setattr answering ENOSYS): the mountinfo walk gives the same refusals', async () => {
    const byName = Object.fromEntries((await attempts(`${work}/enosys mount_setattr`)).map((a) => [a.name, a]));
    for (const name of ['ro-bind submount', 'ro-bind top', 'readonlyRoot submount']) {
      expect(byName[name]).toMatchObject({ code: 2, stderr: expect.stringMatching(/Read-only file system/) });
    }
    for (const name of ['rw-bind submount', 'rw root submount']) expect(byName[name]).toEqual({ name, code: 0, stderr: '' });
  });

  it('rootless: a read-only bind of a nosuid mount works (locked flags kept), and refuses writes below it', async () => {
    const byName = Object.fromEntries((await attempts(`setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups`)).map((a) => [a.name, a]));
    expect(byName['ro-bind submount']).toMatchObject({ code: 2, stderr: expect.stringMatching(/Read-only file system/) });
    expect(byName['ro-bind top']).toMatchObject({ code: 2, stderr: expect.stringMatching(/Read-only file system/) });
    expect(byName['rw-bind submount']).toEqual({ name: 'rw-bind submount', code: 0, stderr: '' });
  });
});
