/**
 * The typed mount list: each type against the real kernel, in an empty rootfs (targets and their
 * parents are made inside it), the failures named by index, type and target (a missing source's
 * `path` is the source), and symlinks resolved inside the root: nothing outside it is ever created.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { spawnIsolated, type MountSpec } from '../lib';
import { resolveOptions } from '../lib/options';
import { describeAsRoot } from './helpers/privilege';
import { run } from './helpers/run';
import { readablePackage, runAsNobody } from './helpers/unprivileged';

describe('mounts: validation', () => {
  it.each([
    ['an unknown type', { type: 'nfs', target: '/x' }, TypeError],
    ['an overlay without layers', { type: 'overlay', target: '/x', lower: [] }, TypeError],
    ['an overlay with upper but no work', { type: 'overlay', target: '/x', lower: ['/a'], upper: '/u' }, TypeError],
    ['a relative target', { type: 'dir', target: 'x' }, TypeError],
    ['a symlink without linkTo', { type: 'symlink', target: '/x' }, TypeError],
    ['a file without content', { type: 'file', target: '/x' }, TypeError],
    ['a chmod without mode', { type: 'chmod', target: '/x' }, TypeError],
    ['a mode past 0o7777', { type: 'dir', target: '/x', mode: 0o17777 }, RangeError],
  ])('refuses %s', (_what, spec, type) => {
    expect(() => resolveOptions('true', [], { rootfs: '/r', mounts: [spec] } as never)).toThrow(type);
  });
});

describe("mounts that write: never into the host's own tree", () => {
  it.each([
    ['without a rootfs', undefined],
    ["with rootfs: '/'", '/'],
  ])('%s, dir, file, symlink and chmod are refused unless a filesystem of the sandbox is mounted there first', (_what, rootfs) => {
    const base = rootfs ? { rootfs } : {};
    for (const m of [{ type: 'dir', target: '/etc/x' }, { type: 'file', target: '/etc/x', content: '' }, { type: 'symlink', target: '/etc/x', linkTo: 'y' }, { type: 'chmod', target: '/etc/passwd', mode: 0o777 }]) {
      expect(() => resolveOptions('true', [], { ...base, mounts: [m] } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/host's own files/) }));
    }
    expect(() => resolveOptions('true', [], { ...base, mounts: [{ type: 'tmpfs', target: '/tmp' }, { type: 'file', target: '/tmp/x', content: 'ok' }] })).not.toThrow();
    expect(() => resolveOptions('true', [], { rootfs: '/r', mounts: [{ type: 'file', target: '/etc/x', content: 'ok' }] })).not.toThrow();
  });
});

describeAsRoot('mounts, in an empty rootfs', () => {
  let root: string;
  let outside: string;
  const system: MountSpec[] = [
    { type: 'ro-bind', source: '/usr', target: '/usr' },
    { type: 'symlink', target: '/bin', linkTo: 'usr/bin' },
    ...['/lib', '/lib64'].filter((d) => fs.existsSync(d)).map((d): MountSpec => ({ type: 'ro-bind', source: d, target: d })),
  ];
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-empty-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-outside-'));
    fs.chmodSync(root, 0o755);
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('makes what is missing: /proc, /dev, targets and their parents; file, dir, symlink, tmpfs, mqueue, chmod, remount-ro', async () => {
    const r = await run('/bin/sh', ['-c', 'cat /etc/motd; stat -c "%a %F" /data/a/b /etc/motd; readlink /bin; touch /tmp/w && echo tmp rw; touch /usr/x 2>&1 | grep -o "Read-only"; grep -c mqueue /proc/self/mounts; ls -d /proc/1 /dev/null; ls /jail/dev | tr "\\n" " "'], {
      rootfs: root,
      mounts: [
        ...system,
        { type: 'file', target: '/etc/motd', content: 'hello\n', mode: 0o640 },
        { type: 'dir', target: '/data/a/b', mode: 0o700 },
        { type: 'tmpfs', target: '/tmp' },
        { type: 'mqueue', target: '/dev/mqueue' },
        { type: 'dev', target: '/jail/dev' },
        { type: 'chmod', target: '/etc/motd', mode: 0o600 },
        { type: 'remount-ro', target: '/usr' },
      ],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello\n700 directory\n600 regular file\nusr/bin\ntmp rw\nRead-only\n1\n/dev/null\n/proc/1\nfd full null ptmx pts random shm stderr stdin stdout tty urandom zero ');
  });

  it('an optional bind of a missing source is skipped; a required one fails naming its index, type, target, and the source as path', async () => {
    const skipped = await run('/bin/sh', ['-c', 'ls /opt 2>&1 | grep -c "No such"'], { rootfs: root, mounts: [...system, { type: 'bind', source: '/nonexistent', target: '/opt', optional: true }] });
    expect(skipped.stdout).toBe('1\n');
    const child = spawnIsolated('/bin/true', [], { rootfs: root, mounts: [...system, { type: 'bind', source: '/nonexistent', target: '/opt' }] });
    const n = system.length;
    await expect(child.exited).rejects.toMatchObject({ code: 'ENOENT', path: '/nonexistent', step: `mounts[${n}]: bind /nonexistent on /opt`, stepIndex: expect.any(Number) });
  });

  it('a target reached through a symlink pointing out of the root is made inside the root, never outside', async () => {
    fs.symlinkSync(outside, path.join(root, 'evil')); // an absolute link: a path inside the new root
    // Where it points does not exist inside the root: refused, and nothing made anywhere.
    const dangling = spawnIsolated('/bin/true', [], { rootfs: root, mounts: [...system, { type: 'dir', target: '/evil/made' }] });
    await expect(dangling.exited).rejects.toMatchObject({ code: 'ENOENT', step: `mounts[${system.length}]: dir /evil/made` });
    expect(fs.readdirSync(outside)).toEqual([]);
    // Where it points exists inside the root: the target is made there.
    fs.mkdirSync(path.join(root, outside), { recursive: true });
    const r = await run('/bin/sh', ['-c', 'ls -d /evil/made'], { rootfs: root, mounts: [...system, { type: 'dir', target: '/evil/made' }, { type: 'tmpfs', target: '/evil/made' }] });
    expect(r.stdout).toBe('/evil/made\n');
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.existsSync(path.join(root, outside, 'made'))).toBe(true);
  });
});

describeAsRoot('uid, gid and groups inside', () => {
  it('the command runs as that user, with no capability unless listed (then ambient), and no group of root', async () => {
    const status = 'id -u; id -g; id -G; grep -E "^Cap(Eff|Amb)" /proc/self/status';
    expect((await run('/bin/sh', ['-c', status], { uid: 1000 })).stdout).toBe('1000\n1000\n1000\nCapEff:\t0000000000000000\nCapAmb:\t0000000000000000\n');
    expect((await run('/bin/sh', ['-c', status], { uid: 1000, gid: 100, groups: [5, 6] })).stdout).toMatch(/^1000\n100\n100 5 6\n/);
    expect((await run('/bin/sh', ['-c', status], { uid: 1000, capabilities: ['CAP_NET_BIND_SERVICE'] })).stdout).toMatch(/CapEff:\t0000000000000400\nCapAmb:\t0000000000000400\n$/);
  });

  it('user: true, uid: 1000 maps 1000 inside to the caller (root here, and uid 65534), and the setup still works', async () => {
    const script = 'id -u; cat /proc/self/uid_map; ls /proc/1 >/dev/null && echo proc';
    const r = await run('/bin/sh', ['-c', script], { user: true, uid: 1000 });
    expect(r.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['1000', '1000 0 1', 'proc', '']);
    const pkg = readablePackage();
    try {
      const nobody = await runAsNobody(pkg, `
        const c = nsbox.spawnIsolated('/bin/sh', ['-c', ${JSON.stringify(script)}], { user: true, uid: 1000, stdio: ['ignore', 'pipe', 'inherit'] });
        let text = ''; c.stdout.on('data', (d) => (text += d));
        await c.exited; out(text);
      `);
      expect(nobody.stderr).toBe('');
      expect((JSON.parse(nobody.stdout) as string).split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['1000', '1000 65534 1', 'proc', '']);
    } finally {
      pkg.remove();
    }
  });

  it('refuses what cannot be done: groups in a user namespace of your own ids, ids out of range', () => {
    expect(() => resolveOptions('true', [], { user: true, uid: 1, groups: [2] })).toThrow(TypeError);
    expect(() => resolveOptions('true', [], { uid: -1 })).toThrow(RangeError);
    expect(() => resolveOptions('true', [], { uid: 2 ** 32 })).toThrow(RangeError);
  });
});

describeAsRoot("rootfs: '/', bwrap's classic sandbox", () => {
  it("{ rootfs: '/', readonlyRoot: true, mounts: [tmpfs /tmp] }: the host's tree, read-only to the last submount, a private /tmp", async () => {
    const marker = `nsbox-classic-${process.pid}`;
    const r = await run('/bin/sh', ['-c', `ls /; touch /etc/${marker} 2>&1; mkdir /sys/fs/cgroup/pids/${marker} 2>&1; touch /tmp/${marker} && echo tmp ok; ps -e -o pid= | wc -l`], {
      rootfs: '/',
      readonlyRoot: true,
      mounts: [{ type: 'tmpfs', target: '/tmp' }],
    });
    const lines = r.stdout.trim().split('\n');
    for (const entry of fs.readdirSync('/').filter((e) => ['etc', 'usr', 'home', 'var'].includes(e))) expect(lines).toContain(entry);
    expect(r.stdout).toMatch(new RegExp(`touch: cannot touch '/etc/${marker}': Read-only file system`));
    expect(r.stdout).toMatch(/mkdir: cannot create directory .*: Read-only file system/);
    expect(r.stdout).toMatch(/tmp ok\n\s*\d+\n$/);
    expect(Number(lines[lines.length - 1])).toBeLessThan(6); // its own PID namespace and /proc
    for (const file of [`/etc/${marker}`, `/sys/fs/cgroup/pids/${marker}`, `/tmp/${marker}`]) expect(fs.existsSync(file)).toBe(false);
  });

  it("a missing target is not made in the host's tree: the mount fails instead", async () => {
    const child = spawnIsolated('/bin/true', [], { rootfs: '/', mounts: [{ type: 'tmpfs', target: `/nsbox-not-here-${process.pid}` }] });
    await expect(child.exited).rejects.toMatchObject({ code: 'ENOENT', step: `mounts[0]: tmpfs on /nsbox-not-here-${process.pid}` });
    expect(fs.existsSync(`/nsbox-not-here-${process.pid}`)).toBe(false);
  });
});

describeAsRoot('overlay', () => {
  let lower: string;
  beforeEach(() => {
    lower = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-lower-'));
    fs.chmodSync(lower, 0o755);
    fs.writeFileSync(path.join(lower, 'a'), 'lower\n');
  });
  afterEach(() => fs.rmSync(lower, { recursive: true, force: true }));

  it('without upper: a writable layer that vanishes (also in a user namespace); the lower layer never changes', async () => {
    for (const extra of [{}, { user: true }]) {
      const r = await run('/bin/sh', ['-c', 'echo changed > /mnt/a; echo new > /mnt/b; cat /mnt/a /mnt/b'], { rootfs: '/', mounts: [{ type: 'overlay', target: '/mnt', lower: [lower] }], ...extra });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('changed\nnew\n');
      expect(fs.readdirSync(lower)).toEqual(['a']);
      expect(fs.readFileSync(path.join(lower, 'a'), 'utf8')).toBe('lower\n');
    }
  });

  it('an overlay the kernel refuses fails naming its entry (a lower layer that does not exist)', async () => {
    const child = spawnIsolated('/bin/true', [], { rootfs: '/', mounts: [{ type: 'overlay', target: '/mnt', lower: ['/nonexistent-layer'] }] });
    await expect(child.exited).rejects.toMatchObject({ code: 'ENOENT', syscall: 'mount', step: 'mounts[0]: overlay /nonexistent-layer on /mnt', path: '/mnt' });
  });

  it('with upper and work: the changes land in upper; layers in overlayfs order (the first is on top)', async () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-top-'));
    const upper = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-upper-'));
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-work-'));
    fs.writeFileSync(path.join(top, 'a'), 'top\n');
    try {
      const r = await run('/bin/sh', ['-c', 'cat /mnt/a; echo kept > /mnt/c'], { rootfs: '/', mounts: [{ type: 'overlay', target: '/mnt', lower: [top, lower], upper, work }] });
      expect(r.stdout).toBe('top\n');
      expect(fs.readFileSync(path.join(upper, 'c'), 'utf8')).toBe('kept\n');
    } finally {
      for (const d of [top, upper, work]) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
