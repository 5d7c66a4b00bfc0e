/**
 * No leaks: after hundreds of spawns, good and failed, this process has the same fds and no
 * zombie children, the host's mount table is unchanged, and no sandbox process is alive.
 */
import os from 'os';
import path from 'path';
import { spawnIsolated, type IsolatedOptions } from '../lib';
import { describeAsRoot } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { finish } from './helpers/run';
import { holdPidNamespace, processesInPidNamespace, type HeldNamespace, snapshot, waitFor, zombieChildren, openFds } from './helpers/host';

const ROUNDS = 60; // x 6 kinds = 360 spawns

describeAsRoot('no leaks', () => {
  let rootfs: Rootfs;
  beforeAll(() => {
    rootfs = buildRootfs(['sh', 'true', 'sleep']);
  });
  afterAll(() => rootfs.remove());

  it('hundreds of spawns leave fds, zombies and mounts as they were', async () => {
    const namespaces: HeldNamespace[] = [];
    const kinds: [string, string[], IsolatedOptions][] = [
      ['/bin/true', [], { rootfs: rootfs.dir }],
      ['/bin/sh', ['-c', 'echo out; echo err >&2; exit 3'], { rootfs: rootfs.dir, init: false }],
      ['/bin/nope', [], { rootfs: rootfs.dir }], // exec fails
      ['/bin/true', [], { rootfs: path.join(os.tmpdir(), 'nsbox-missing') }], // setup fails
      ['/bin/true', [], { stdio: ['ignore', 1000, 'ignore'] }], // fails before the helper runs
      ['/bin/sleep', ['10'], { rootfs: rootfs.dir, stdio: 'ignore' }], // killed
    ];
    const runOne = async ([command, args, options]: (typeof kinds)[number]): Promise<void> => {
      const child = spawnIsolated(command, args, options);
      if (command === '/bin/sleep') {
        // Alive until we kill it, so its namespace can be recorded and checked afterwards.
        child.once('spawn', () => {
          namespaces.push(holdPidNamespace(child.pid as number));
          child.kill('SIGKILL');
        });
      }
      const closed = new Promise((r) => child.once('close', r));
      await finish(child).catch(() => undefined);
      await closed;
    };
    for (const kind of kinds) await runOne(kind); // warm-up: the helper memfd and cached fds open once
    for (const ns of namespaces.splice(0)) ns.release();
    const before = snapshot();
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(kinds.map(runOne));
    }
    expect(namespaces).toHaveLength(ROUNDS);
    for (const ns of namespaces) expect(processesInPidNamespace(ns.inode)).toEqual([]);
    for (const ns of namespaces) ns.release();
    // Stream handles close on the next turns of the loop.
    expect(await waitFor(() => openFds() === before.fds, 2000)).toBe(true);
    const after = snapshot();
    expect(after.fds).toBe(before.fds);
    expect(after.zombies).toBe(0);
    expect(zombieChildren()).toBe(0);
    expect(after.mountinfo).toBe(before.mountinfo);
  }, 120_000);
});
