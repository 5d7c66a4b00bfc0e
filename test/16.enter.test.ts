/**
 * Entering a running sandbox (exec, like nsenter --target / docker exec) and starting a new one
 * that shares chosen namespaces with it (join).
 */
import fs from 'fs';
import { namespaces, spawnIsolated, type IsolatedProcess } from '../lib';
import { resolveOptions } from '../lib/options';
import { timeJoinFile } from '../lib/option-namespaces';
import { describeAsRoot } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { finish } from './helpers/run';

describe('join options', () => {
  it('refuse what cannot be joined, or is also to be created', () => {
    expect(() => resolveOptions('true', [], { join: { user: 1 } as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/exec/) }));
    expect(() => resolveOptions('true', [], { join: { pid: 1 } as never })).toThrow(TypeError);
    expect(() => resolveOptions('true', [], { join: { net: 1 }, net: true })).toThrow(/conflicts/);
    expect(() => resolveOptions('true', [], { join: { uts: 1 }, hostname: 'x' })).toThrow(/conflicts/);
    expect(() => resolveOptions('true', [], { join: { net: 'relative/path' } })).toThrow(TypeError);
    expect(resolveOptions('true', [], { join: { mount: 1 } }).mount).toBe(false);
    expect(resolveOptions('true', [], { join: { time: 42 } }).timeJoin).toBe(42);
    expect(timeJoinFile(42)).toBe('/proc/42/ns/time_for_children');
    // One source of defaults: a kind both listed in `namespaces` and joined is a conflict.
    expect(() => resolveOptions('true', [], { namespaces: ['pid', 'mount', 'net'], join: { net: 1 } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => resolveOptions('true', [], { namespaces: ['pid', 'mount'], join: { net: 1 } })).not.toThrow();
    // A join target object is a sandbox handle, or carries a real pid and pidfd.
    expect(() => resolveOptions('true', [], { join: { uts: { pidfd: 'x' } } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => resolveOptions('true', [], { join: { uts: { pid: 1, pidfd: 2 ** 32 + 3 } } })).toThrow(TypeError);
  });
});

describeAsRoot('entering and joining a running sandbox', () => {
  let rootfs: Rootfs;
  let box: IsolatedProcess;
  beforeAll(async () => {
    rootfs = buildRootfs(['sh', 'ps', 'hostname', 'cat', 'ls', 'true', 'sleep', 'head', 'cut', 'readlink']);
    box = spawnIsolated('/bin/sh', ['-c', 'echo ready; read line'], {
      rootfs: rootfs.dir,
      hostname: 'the-box',
      net: true,
      ipc: true,
      time: { boottimeOffset: 1_000_000 },
    });
    await new Promise((resolve) => box.stdout?.once('data', resolve));
  });
  afterAll(async () => {
    box.stdin?.end('\n');
    await box.exited;
    rootfs.remove();
  });

  it('exec sees the sandbox: its root, /proc, hostname, network and clocks', async () => {
    const r = await finish(box.exec('/bin/sh', ['-c', 'hostname; echo $$; ps -e -o comm= | head -2; ls /; cut -d. -f1 /proc/uptime; cat /proc/net/dev'], { cwd: '/tmp' }));
    const lines = r.stdout.split('\n');
    expect(r.stderr).toBe('');
    expect(lines[0]).toBe('the-box');
    expect(Number(lines[1])).toBeGreaterThan(2); // a PID in the sandbox's namespace
    expect(lines.slice(2, 4)).toEqual(['nsbox-init', 'sh']);
    expect(r.stdout).toMatch(/\nbin\ndev\netc\n/);
    expect(r.stdout).not.toMatch(/\nhome\n/);
    expect(r.stdout).toMatch(/\n1\d{6}\n/); // uptime shifted by a million seconds
    expect(r.stdout).toMatch(/\n +lo:/);
    expect(r.stdout).not.toMatch(/eth|ens|enp/);
  });

  it('exec reports its own status and takes signals', async () => {
    expect((await finish(box.exec('/bin/sh', ['-c', 'exit 9']))).code).toBe(9);
    const sleeper = box.exec('/bin/sleep', ['30'], { stdio: 'ignore' });
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    sleeper.kill('SIGTERM');
    expect(await sleeper.exited).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  it('exec into only some namespaces: the sandbox hostname, the host root', async () => {
    const r = await finish(box.exec('sh', ['-c', `hostname; test -d ${process.cwd()} && echo host-root`], { namespaces: ['uts'] }));
    expect(r.stdout).toBe('the-box\nhost-root\n');
  });

  it('a command missing inside the sandbox is ENOENT, as for spawns', async () => {
    await expect(box.exec('/bin/nope').exited).rejects.toMatchObject({ code: 'ENOENT', syscall: 'execve' });
  });

  it('namespaces() of the handle names the sandbox', () => {
    const mine = namespaces();
    const theirs = box.namespaces();
    expect(theirs).toEqual(namespaces(box.pid as number));
    for (const kind of ['pid', 'mount', 'uts', 'ipc', 'net'] as const) expect(theirs[kind]?.inode).not.toBe(mine[kind]?.inode);
  });

  it('join: a new sandbox shares the network, hostname and clocks of this one, by handle, pid or file', async () => {
    const r = await finish(
      spawnIsolated('/bin/sh', ['-c', 'hostname; readlink /proc/self/ns/net /proc/self/ns/ipc; cut -d. -f1 /proc/uptime'], {
        rootfs: rootfs.dir,
        join: { net: box, uts: box.pid as number, ipc: `/proc/${box.pid}/ns/ipc`, time: box },
      }),
    );
    const theirs = box.namespaces();
    const [hostname, netns, ipcns, uptime] = r.stdout.trim().split('\n');
    expect(hostname).toBe('the-box');
    expect(netns).toBe(theirs.net?.id);
    expect(ipcns).toBe(theirs.ipc?.id);
    expect(Number(uptime)).toBeGreaterThan(1_000_000);
  });

  it('joining a file that does not exist is an error naming it', async () => {
    const child = spawnIsolated('true', [], { join: { net: '/nonexistent/ns/net' } });
    await expect(child.exited).rejects.toMatchObject({ code: 'ENOENT', path: '/nonexistent/ns/net', step: 'open /nonexistent/ns/net to join its net namespace' });
  });

  it('exec into a sandbox that has exited is ESRCH', async () => {
    const short = spawnIsolated('true', [], { stdio: 'ignore' });
    await short.exited;
    await expect(short.exec('true').exited).rejects.toMatchObject({ code: 'ESRCH' });
    expect(() => short.namespaces()).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(fs.existsSync('/proc/self/ns/time')).toBe(true);
  });
});
