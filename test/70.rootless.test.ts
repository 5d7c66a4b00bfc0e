/**
 * Rootless: an unprivileged user (uid 65534) runs spawnIsolated with a user namespace, PID and
 * mount namespaces and a rootfs; it is root inside and can do nothing outside that 65534 could not.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { describeAsRoot } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { outputs } from './helpers/node';
import { readablePackage, runAsNobody, type ReadablePackage } from './helpers/unprivileged';
import { run } from './helpers/run';

// Root sets this up (the rootfs, a package copy 65534 can read); the spawns run as 65534.
describeAsRoot('rootless (as uid 65534)', () => {
  let rootfs: Rootfs;
  let pkg: ReadablePackage;
  let rootOwned: string;
  beforeAll(() => {
    rootfs = buildRootfs(['sh', 'ps', 'id', 'cat', 'hostname', 'sleep', 'cut']);
    pkg = readablePackage();
    rootOwned = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-rootowned-'));
    fs.chmodSync(rootOwned, 0o755);
    fs.writeFileSync(path.join(rootOwned, 'file'), 'root data\n', { mode: 0o644 });
  });
  afterAll(() => {
    rootfs.remove();
    pkg.remove();
    fs.rmSync(rootOwned, { recursive: true, force: true });
  });

  it('without a user namespace the kernel says EPERM, and the error says what to add', async () => {
    const r = await runAsNobody(pkg, `
      const child = nsbox.spawnIsolated('/bin/true');
      await child.exited.catch((e) => out({ code: e.code, step: e.step, syscall: e.syscall }));
    `);
    expect(outputs(r)).toEqual([{ code: 'EPERM', syscall: 'clone', step: 'create pid namespace (unprivileged: add user: true)' }]);
  });

  it('a namespace the kernel refuses later (unshared by the clone child) is named too', async () => {
    const r = await runAsNobody(pkg, `
      const child = nsbox.spawnIsolated('/bin/true', [], { pid: false, mount: false, net: true });
      await child.exited.catch((e) => out({ code: e.code, step: e.step, syscall: e.syscall }));
    `);
    expect(outputs(r)).toEqual([{ code: 'EPERM', syscall: 'unshare', step: 'create net namespace (unprivileged: add user: true)' }]);
  });

  it('user + pid + mount + rootfs: root inside, PID 1, a fresh /proc', async () => {
    const r = await runAsNobody(pkg, `
      const child = nsbox.spawnIsolated('/bin/sh', ['-c', 'id -u; cat /proc/self/uid_map; ps -e -o pid=,comm='], { user: true, rootfs: ${JSON.stringify(rootfs.dir)} });
      let text = ''; child.stdout.on('data', (d) => (text += d));
      child.stderr.pipe(process.stderr);
      const status = await child.exited;
      out({ uid: process.getuid(), status, lines: text.trim().split('\\n').map((l) => l.trim().split(/\\s+/).join(' ')) });
    `);
    expect(r.stderr).toBe('');
    expect(outputs(r)).toMatchObject([{ uid: 65534, status: { code: 0, signal: null }, lines: ['0', '0 65534 1', '1 nsbox-init', '2 sh', expect.stringMatching(/^\d+ ps$/)] }]);
  });

  it('root inside cannot do what uid 65534 cannot outside', async () => {
    const file = path.join(rootOwned, 'file');
    const r = await runAsNobody(pkg, `
      const child = nsbox.spawnIsolated('/bin/sh', ['-c', 'echo owned > /mnt/file; echo "write $?"; cat /mnt/file'], {
        user: true, rootfs: ${JSON.stringify(rootfs.dir)}, mounts: [{ type: 'bind', source: ${JSON.stringify(rootOwned)}, target: '/mnt' }],
      });
      let text = ''; child.stdout.on('data', (d) => (text += d));
      await child.exited;
      out(text);
    `);
    const [text] = outputs(r) as [string];
    expect(text).toMatch(/write [12]\nroot data\n/);
    expect(fs.readFileSync(file, 'utf8')).toBe('root data\n');
  });

  it('nice: raising it needs no privilege, lowering it is refused and the step named', async () => {
    const r = await runAsNobody(pkg, `
      const raised = nsbox.spawnIsolated('/bin/ps', ['-e', '-o', 'ni='], { user: true, rootfs: ${JSON.stringify(rootfs.dir)}, nice: 5 });
      let text = ''; raised.stdout.on('data', (d) => (text += d));
      await raised.exited;
      const lowered = nsbox.spawnIsolated('/bin/true', [], { user: true, rootfs: ${JSON.stringify(rootfs.dir)}, nice: -1, stdio: 'ignore' });
      const err = await lowered.exited.catch((e) => e);
      out({ niceness: text.trim().split(/\\s+/), code: err.code, step: err.step });
    `);
    expect(r.stderr).toBe('');
    expect(outputs(r)).toEqual([{ niceness: ['5', '5'], code: 'EACCES', step: 'set niceness to -1' }]);
  });

  it('signals and teardown work from the unprivileged parent', async () => {
    const r = await runAsNobody(pkg, `
      const fs = require('fs');
      const child = nsbox.spawnIsolated('/bin/sh', ['-c', '(sleep 100 &); echo ready; sleep 100'], { user: true, rootfs: ${JSON.stringify(rootfs.dir)} });
      await new Promise((resolve) => child.stdout.once('data', resolve));
      await new Promise((resolve) => setTimeout(resolve, 100));
      // The orphaned sleep now has the init (child.pid) as parent; find it from the host.
      const ppid = (p) => { try { const s = fs.readFileSync('/proc/' + p + '/stat', 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]); } catch { return -1; } };
      const adopted = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p) && ppid(p) === child.pid);
      child.kill('SIGTERM');
      out(await child.exited);
      out({ adopted: adopted.length, alive: adopted.filter((p) => fs.existsSync('/proc/' + p)).length });
    `);
    expect(r.stderr).toBe('');
    expect(outputs(r)).toMatchObject([{ code: null, signal: 'SIGTERM' }, { adopted: 2, alive: 0 }]);
  });

  it("every namespace rootless (namespaces: 'all'), and exec into the sandbox", async () => {
    const r = await runAsNobody(pkg, `
      const box = nsbox.spawnIsolated('/bin/sh', ['-c', 'echo ready; read x'], {
        namespaces: 'all', rootfs: ${JSON.stringify(rootfs.dir)}, hostname: 'rootless-box', time: { boottimeOffset: 100000 },
      });
      await new Promise((resolve) => box.stdout.once('data', resolve));
      const inside = box.exec('/bin/sh', ['-c', 'hostname; id -u; cut -d. -f1 /proc/uptime; cat /proc/1/comm']);
      let text = ''; inside.stdout.on('data', (d) => (text += d));
      inside.stderr.pipe(process.stderr);
      out(await inside.exited);
      out(text.trim().split('\\n'));
      box.stdin.end('\\n');
      out(await box.exited);
    `);
    expect(r.stderr).toBe('');
    const [execStatus, lines, boxStatus] = outputs(r) as [unknown, string[], unknown];
    expect(execStatus).toMatchObject({ code: 0, signal: null });
    expect(lines[0]).toBe('rootless-box');
    expect(lines[1]).toBe('0');
    expect(Number(lines[2])).toBeGreaterThan(100000);
    expect(lines[3]).toBe('nsbox-init');
    expect(boxStatus).toMatchObject({ code: 0, signal: null });
  });

  it('as root, a multi-range map is written by the parent and the command is root of it', async () => {
    const r = await run('/bin/sh', ['-c', 'id -u; cat /proc/self/uid_map /proc/self/gid_map'], {
      rootfs: rootfs.dir,
      uidMap: [{ inside: 0, outside: 100000, count: 65536 }],
      gidMap: [{ inside: 0, outside: 200000, count: 65536 }],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['0', '0 100000 65536', '0 200000 65536', '']);
  });
});
