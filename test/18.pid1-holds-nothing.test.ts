/**
 * PID 1 holds nothing that grants anything: a root command that takes every fd of the init
 * (pidfd_open(1) + pidfd_getfd) gets no pidfd and no namespace it could setns() into. (Before,
 * the init held a pidfd of Node, and setns() with it put the command in the host's mount
 * namespace.) The control passes the command such a pidfd itself, and the same setns() works.
 */
import { execFileSync } from 'child_process';
import path from 'path';
import { spawnIsolated, type IsolatedProcess } from '../lib';
import { describeAsRoot } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { finish } from './helpers/run';

describeAsRoot('the init holds nothing that grants anything', () => {
  let rootfs: Rootfs;
  let hostMountNs: IsolatedProcess;
  beforeAll(async () => {
    rootfs = buildRootfs(['sleep']);
    execFileSync('gcc', ['-static', '-O2', '-Wall', '-o', path.join(rootfs.dir, 'bin', 'grab'), path.join(__dirname, 'helpers', 'grab-init-fds.c')]);
    // A process in the host's mount namespace, whose pidfd the control hands to the command.
    hostMountNs = spawnIsolated('/bin/sleep', ['30'], { mount: false, stdio: 'ignore' });
    await new Promise((resolve) => hostMountNs.once('spawn', resolve));
  });
  afterAll(async () => {
    hostMountNs.kill('SIGKILL');
    await hostMountNs.exited;
    rootfs.remove();
  });

  it('by default a root command cannot take the init fds at all: pidfd_getfd is EPERM (no CAP_SYS_PTRACE)', async () => {
    const r = await finish(spawnIsolated('/bin/grab', [], { rootfs: rootfs.dir }));
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('init '))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('getfd ')).every((l) => l.endsWith(' EPERM'))).toBe(true);
    expect(lines.length).toBeGreaterThan(200);
  });

  it('with every capability and no filter, it takes them: none is a pidfd, none enters a namespace', async () => {
    const r = await finish(spawnIsolated('/bin/grab', [], { rootfs: rootfs.dir, capabilities: 'all', seccomp: false }));
    const lines = r.stdout.trim().split('\n');
    const taken = lines.filter((l) => l.startsWith('init '));
    expect(taken.length).toBeGreaterThan(0); // the attack works: the init's fds can be taken
    for (const line of taken) {
      expect(line).not.toMatch(/pidfd|mnt:|net:|pid:|user:/);
      expect(line).toMatch(/setns=EINVAL$/);
    }
  });

  it('control: with a pidfd of a process in the host mount namespace, the same setns() gets out', async () => {
    const pidfd = hostMountNs.pidfd as number;
    const r = await finish(spawnIsolated('/bin/grab', ['3'], { rootfs: rootfs.dir, stdio: ['ignore', 'pipe', 'pipe', pidfd], capabilities: 'all', seccomp: false }));
    expect(r.stdout).toMatch(/^own 3 anon_inode:\[pidfd\] setns=ok$/m);
  });
});
