/**
 * persistNamespace / releaseNamespace. Every mount happens in a fresh node process whose main
 * thread first enters a private mount namespace of its own, so nothing reaches this host; the
 * sandboxes it spawns inherit that namespace.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { NAMESPACES } from '../lib/constants';
import { NsboxError } from '../lib/errors';
import { persistNamespace, releaseNamespace } from '../lib/persist';
import { snapshot } from './helpers/host';
import { DIST, outputs, runNode } from './helpers/node';
import { describeAsRoot } from './helpers/privilege';

/** Larger than any pid_max, so never a living process. */
const NO_SUCH_PID = 2 ** 22 + 1;

function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-persist-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('argument checks, before any syscall', () => {
  const cases: [string, () => void, typeof TypeError | typeof RangeError, string][] = [
    ['a pid as a string', () => persistNamespace('123' as never, 'uts', path.join(dir, 'ns')), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['an object with a string pid', () => persistNamespace({ pid: '123' } as never, 'uts', path.join(dir, 'ns')), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a process that never started', () => persistNamespace({ pid: undefined }, 'uts', path.join(dir, 'ns')), TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['pid 0', () => persistNamespace(0, 'uts', path.join(dir, 'ns')), RangeError, 'ERR_OUT_OF_RANGE'],
    ['a fractional pid', () => persistNamespace(1.5, 'uts', path.join(dir, 'ns')), RangeError, 'ERR_OUT_OF_RANGE'],
    ['an unknown kind', () => persistNamespace(1, 'network' as never, path.join(dir, 'ns')), TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['a kind inherited from Object.prototype', () => persistNamespace(1, 'toString' as never, path.join(dir, 'ns')), TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['a kind that is not a string', () => persistNamespace(1, 5 as never, path.join(dir, 'ns')), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['an empty file name', () => persistNamespace(1, 'uts', ''), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['release: a file that is not a string', () => releaseNamespace(42 as never), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['release: options that are not an object', () => releaseNamespace(path.join(dir, 'ns'), null as never), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['release: remove that is not a boolean', () => releaseNamespace(path.join(dir, 'ns'), { remove: 'yes' as never }), TypeError, 'ERR_INVALID_ARG_TYPE'],
  ];

  it.each(cases)('%s', (_, call, type, code) => {
    const err = thrown(call);
    expect(err).toBeInstanceOf(type);
    expect(err).toMatchObject({ code });
    expect(fs.readdirSync(dir)).toEqual([]); // no file was created
  });

  it('the error of an unknown kind lists the kinds', () => {
    expect(thrown(() => persistNamespace(1, 'network' as never, path.join(dir, 'ns')))).toMatchObject({ message: expect.stringContaining(NAMESPACES.join(', ')) });
  });
});

describe('refusals that need no privilege', () => {
  it.each(NAMESPACES)('%s is a kind it accepts: a vanished process is ESRCH, and no file is left', (kind) => {
    const file = path.join(dir, kind);
    const err = thrown(() => persistNamespace({ pid: NO_SUCH_PID }, kind, file));
    expect(err).toBeInstanceOf(NsboxError);
    expect(err).toMatchObject({ code: 'ESRCH', path: `/proc/${NO_SUCH_PID}/ns/${kind === 'mount' ? 'mnt' : kind}` });
    expect(fs.existsSync(file)).toBe(false);
  });

  it('release refuses a file that is not a namespace (EINVAL) and leaves it alone', () => {
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, 'keep me');
    const err = thrown(() => releaseNamespace(file));
    expect(err).toBeInstanceOf(NsboxError);
    expect(err).toMatchObject({ code: 'EINVAL', path: file, message: expect.stringContaining('not a persisted namespace') });
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('release of a missing file is ENOENT', () => {
    expect(thrown(() => releaseNamespace(path.join(dir, 'missing')))).toMatchObject({ name: 'NsboxError', code: 'ENOENT' });
  });
});

describeAsRoot('a persisted namespace outlives its processes', () => {
  const persistJs = path.join(path.dirname(DIST), 'persist.js');
  let mountsBefore: string;
  beforeAll(() => {
    mountsBefore = snapshot().mountinfo;
  });
  afterAll(() => {
    expect(snapshot().mountinfo).toBe(mountsBefore);
  });

  /** Script prologue: a private mount namespace for the main thread, and a sandbox with its own UTS namespace. */
  const prologue = `
    const fs = require('fs'), os = require('os');
    const { persistNamespace, releaseNamespace } = require(${JSON.stringify(persistJs)});
    nsbox.unshare('mount', { scope: 'thread' });
    nsbox.mount(null, '/', { flags: ['rec', 'private'] });
    const box = nsbox.spawnIsolated('sleep', ['30'], { stdio: 'ignore', hostname: 'persisted', uts: true });
    await new Promise((resolve, reject) => { box.once('spawn', resolve); box.once('error', reject); });
    const before = nsbox.namespaces(box.pid);
    const error = (f) => { try { f(); return null; } catch (e) { return { name: e.name, code: e.code }; } };
  `;

  it('uts: the file keeps the namespace after the sandbox is gone; setns joins it; release frees it', async () => {
    const file = path.join(dir, 'uts');
    const r = await runNode(`${prologue}
      persistNamespace(box, 'uts', ${JSON.stringify(file)});
      box.kill('SIGKILL');
      await box.exited;
      const inode = before.uts.inode;
      // No process is left in the namespace: only the mount keeps it.
      const members = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
        try { return fs.statSync('/proc/' + p + '/ns/uts').ino === inode; } catch { return false; }
      });
      out({ alive: fs.existsSync('/proc/' + box.pid), members, inode, fileInode: fs.statSync(${JSON.stringify(file)}).ino, hostInode: nsbox.namespaces().uts.inode });
      nsbox.setns(${JSON.stringify(file)}, { type: 'uts', scope: 'thread' });
      out(os.hostname());
      releaseNamespace(${JSON.stringify(file)});
      out(fs.existsSync(${JSON.stringify(file)}));
      out(error(() => releaseNamespace(${JSON.stringify(file)})));
    `);
    expect(r.stderr).toBe('');
    const [state, hostname, exists, second] = outputs(r) as [{ alive: boolean; members: string[]; inode: number; fileInode: number; hostInode: number }, string, boolean, unknown];
    expect(state.alive).toBe(false);
    expect(state.members).toEqual([]);
    expect(state.fileInode).toBe(state.inode);
    expect(state.inode).not.toBe(state.hostInode);
    expect(hostname).toBe('persisted');
    expect(os.hostname()).not.toBe('persisted');
    expect(exists).toBe(false);
    expect(second).toEqual({ name: 'NsboxError', code: expect.stringMatching(/^(EINVAL|ENOENT)$/) });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('pid and mount too; remove: false keeps the file; a mount namespace cannot be persisted into itself', async () => {
    const pidFile = path.join(dir, 'pid');
    const mntFile = path.join(dir, 'mnt');
    const selfFile = path.join(dir, 'self-mnt');
    const r = await runNode(`${prologue}
      persistNamespace(box.pid, 'pid', ${JSON.stringify(pidFile)});
      persistNamespace(box, 'mount', ${JSON.stringify(mntFile)});
      // The calling thread's own mount namespace: the kernel's loop check says EINVAL.
      out(error(() => persistNamespace(process.pid, 'mount', ${JSON.stringify(selfFile)})));
      out(fs.existsSync(${JSON.stringify(selfFile)})); // the file it created is gone again
      box.kill('SIGKILL');
      await box.exited;
      out([fs.statSync(${JSON.stringify(pidFile)}).ino === before.pid.inode, fs.statSync(${JSON.stringify(mntFile)}).ino === before.mount.inode]);
      releaseNamespace(${JSON.stringify(pidFile)}, { remove: false });
      releaseNamespace(${JSON.stringify(mntFile)});
      const kept = fs.statSync(${JSON.stringify(pidFile)});
      out({ kept: kept.isFile(), size: kept.size, sameInode: kept.ino === before.pid.inode, mnt: fs.existsSync(${JSON.stringify(mntFile)}) });
      out(error(() => releaseNamespace(${JSON.stringify(pidFile)})));
    `);
    expect(r.stderr).toBe('');
    expect(outputs(r)).toEqual([
      { name: 'NsboxError', code: 'EINVAL' },
      false,
      [true, true],
      { kept: true, size: 0, sameInode: false, mnt: false },
      { name: 'NsboxError', code: 'EINVAL' },
    ]);
    expect(fs.readdirSync(dir)).toEqual(['pid']); // the kept file, which this host sees as an empty file
  });
});
