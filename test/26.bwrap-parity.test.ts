/**
 * Parity with bubblewrap: the same scenarios run by bwrap (installed in CI from Debian, for the
 * comparison only) and by nsbox, and what the command inside sees compared: mount points, their
 * types and read-only flags, which writes succeed, and its uid.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { bwrapInstalled, describeAsRoot, inCI } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { run } from './helpers/run';
import type { IsolatedOptions } from '../lib';

const haveBwrap = bwrapInstalled();

// eslint-disable-next-line no-console
if (!haveBwrap && !inCI) console.warn('skipping the bubblewrap parity tests: bwrap is not installed (apt-get install bubblewrap)');

describeAsRoot('parity with bubblewrap', () => {
  let work: string;
  let script: string;
  let rootfs: Rootfs;
  beforeAll(() => {
    if (!haveBwrap && inCI) throw new Error('bwrap is not installed: .ci/apt-packages has bubblewrap');
    // Readable where both sandboxes look: not under /tmp, which both replace.
    work = fs.mkdtempSync('/var/tmp/nsbox-parity-');
    fs.chmodSync(work, 0o755);
    script = path.join(work, 'what-it-sees.sh');
    fs.copyFileSync(path.join(__dirname, 'helpers', 'what-it-sees.sh'), script);
    rootfs = buildRootfs(['sh', 'awk', 'sed', 'grep', 'tr', 'tail', 'touch', 'id']);
    fs.mkdirSync(path.join(rootfs.dir, 'var', 'tmp'), { recursive: true });
  });
  afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
    rootfs.remove();
  });

  const bwrap = (args: string[]): string => execFileSync('bwrap', [...args, 'sh', script], { encoding: 'utf8' });
  const nsbox = async (options: IsolatedOptions): Promise<string> => {
    const r = await run('/bin/sh', [script], options);
    expect(r.stderr).toBe('');
    return r.stdout;
  };

  (haveBwrap || inCI ? it : it.skip)("bwrap --ro-bind / / --tmpfs /tmp --proc /proc --dev /dev --unshare-pid = { rootfs: '/', readonlyRoot: true, mounts: [tmpfs /tmp] }", async () => {
    const theirs = bwrap(['--ro-bind', '/', '/', '--tmpfs', '/tmp', '--proc', '/proc', '--dev', '/dev', '--unshare-pid']);
    const ours = await nsbox({ rootfs: '/', readonlyRoot: true, mounts: [{ type: 'tmpfs', target: '/tmp' }] });
    expect(ours).toBe(theirs);
    expect(ours).toMatch(/^\/: \S+ ro\n/);
    expect(ours).toMatch(/write \/etc\/x refused\n/);
  });

  (haveBwrap || inCI ? it : it.skip)('bwrap --bind ROOTFS / --ro-bind SCRIPTDIR --proc /proc --dev /dev --unshare-pid = { rootfs, mounts: [ro-bind] }', async () => {
    const theirs = bwrap(['--bind', rootfs.dir, '/', '--ro-bind', work, work, '--proc', '/proc', '--dev', '/dev', '--unshare-pid']);
    const ours = await nsbox({ rootfs: rootfs.dir, mounts: [{ type: 'ro-bind', source: work, target: work }] });
    expect(ours).toBe(theirs);
  });

  (haveBwrap || inCI ? it : it.skip)('bwrap --unshare-user --uid 1000 --gid 1000 = { user: true, uid: 1000, gid: 1000 } (who it is)', async () => {
    const theirs = bwrap(['--ro-bind', '/', '/', '--tmpfs', '/tmp', '--proc', '/proc', '--dev', '/dev', '--unshare-pid', '--unshare-user', '--uid', '1000', '--gid', '1000']);
    const ours = await nsbox({ rootfs: '/', readonlyRoot: true, mounts: [{ type: 'tmpfs', target: '/tmp' }], user: true, uid: 1000, gid: 1000 });
    expect(ours.split('\n').filter((l) => l.startsWith('uid') || l.startsWith('write'))).toEqual(theirs.split('\n').filter((l) => l.startsWith('uid') || l.startsWith('write')));
    expect(ours).toMatch(/uid 1000\n/);
  });
});
