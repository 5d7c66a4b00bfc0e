/**
 * Namespaces that outlive their processes: a namespace file bind-mounted onto an ordinary file,
 * as `ip netns add` and `unshare --net=FILE` do. The kernel keeps a namespace while anything
 * refers to it, and a mount is such a reference. The file is then usable with `setns` until it
 * is released.
 * @module
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { NS_FILES, type Namespace } from './constants';
import { invalidArgType, invalidArgValue, outOfRange, systemError } from './errors';
import { mount, umount } from './primitives';
import { SETUP_STATE, isSetupTracked, notReady } from './setup-state';

/** Any process handle with a host pid, such as an `IsolatedProcess`. */
export interface ProcessRef {
  /** Host pid; undefined for a process that never started. */
  readonly pid?: number | undefined;
}

/** Options of {@link releaseNamespace}. */
export interface ReleaseOptions {
  /** Delete the file once unmounted (default `true`). */
  remove?: boolean;
}

/** statfs(2) `f_type` of nsfs, the filesystem of every namespace file. */
const NSFS_MAGIC = 0x6e736673;

function pidOf(target: unknown): number {
  let pid: unknown = target;
  // A sandbox still being set up may still be in the host's namespaces: never persist those.
  if (isSetupTracked(target) && target[SETUP_STATE]() === 'pending') throw notReady('persist a namespace of a sandbox');
  if (typeof target === 'object' && target !== null) {
    pid = (target as ProcessRef).pid;
    if (pid === undefined) throw invalidArgValue('target', 'has no pid (the process never started)');
  }
  if (typeof pid !== 'number') throw invalidArgType('target', 'a pid or an object with a numeric pid', target);
  if (!Number.isInteger(pid) || pid <= 0) throw outOfRange('target', 'a positive integer', pid);
  return pid;
}

function kindOf(kind: unknown): Namespace {
  if (typeof kind !== 'string') throw invalidArgType('kind', 'a namespace name', kind);
  if (!Object.hasOwn(NS_FILES, kind)) throw invalidArgValue('kind', `must be one of ${Object.keys(NS_FILES).join(', ')}`, kind);
  return kind as Namespace;
}

/** An absolute path, so that Node's fs calls and the native mount resolve it alike. */
function fileOf(file: unknown): string {
  if (typeof file !== 'string' || file.length === 0) throw invalidArgType('file', 'a non-empty string', file);
  return path.resolve(file);
}

/** Node's fs error as an NsboxError, like the primitives throw (Node's errno is negative). */
function fsFailure(e: unknown, syscall: string, file: string): unknown {
  const errno = (e as NodeJS.ErrnoException | undefined)?.errno;
  return typeof errno === 'number' ? systemError({ errno: -errno, syscall }, { path: file }) : e;
}

/** Opens a process's namespace file; a vanished process is ESRCH rather than ENOENT. */
function openNamespace(pid: number, kind: Namespace): number {
  const source = `/proc/${pid}/ns/${NS_FILES[kind]}`;
  try {
    return fs.openSync(source, 'r');
  } catch (e) {
    const gone = (e as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(`/proc/${pid}`);
    throw gone ? systemError({ errno: os.constants.errno.ESRCH, syscall: 'open' }, { path: source }) : fsFailure(e, 'open', source);
  }
}

/** Creates `file` empty if it does not exist; true if this call created it. */
function createFile(file: string): boolean {
  try {
    fs.closeSync(fs.openSync(file, 'wx', 0o644));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fsFailure(e, 'open', file);
  }
}

/**
 * Keeps a namespace of a process alive after the process ends, by bind-mounting
 * `/proc/<pid>/ns/<kind>` onto `file` (created empty if missing), as `ip netns add` or
 * `unshare --net=FILE` do. Join it later with `setns(file, ...)`; free it with
 * {@link releaseNamespace}.
 *
 * The bind mount is made in the calling thread's mount namespace and is visible to every process
 * in it (after `unshare('mount', ...)`, only to that namespace). Needs CAP_SYS_ADMIN there.
 * For `'mount'`, the kernel refuses (EINVAL) a mount namespace that is not newer than the calling
 * thread's own (such as that one itself), and a file on a shared mount: either could make a
 * reference loop.
 *
 * Arguments are checked before any syscall: TypeError (`ERR_INVALID_ARG_TYPE`,
 * `ERR_INVALID_ARG_VALUE`) or RangeError (`ERR_OUT_OF_RANGE`). A sandbox handle whose setup has
 * not finished is refused with `ERR_NSBOX_NOT_READY` (wait for its 'spawn' event). System failures are NsboxErrors:
 * ESRCH for a process that is gone, the mount's errno otherwise (a file this call created is
 * then removed again).
 * @param target a host pid, or a process handle such as an `IsolatedProcess`
 * @example
 * const box = spawnIsolated('sleep', ['60'], { hostname: 'box' });
 * box.once('spawn', () => persistNamespace(box, 'uts', '/run/nsbox/box-uts'));
 */
export function persistNamespace(target: number | ProcessRef, kind: Namespace, file: string): void {
  const pid = pidOf(target);
  const ns = kindOf(kind);
  const where = fileOf(file);
  // Holding the namespace open pins it: the mount names the namespace of this pid as it was
  // checked, even if the process exits and its pid is reused before the mount.
  const fd = openNamespace(pid, ns);
  try {
    const created = createFile(where);
    try {
      mount(`/proc/self/fd/${fd}`, where, { flags: ['bind'] });
    } catch (e) {
      if (created) fs.rmSync(where, { force: true });
      throw e;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Undoes {@link persistNamespace}: unmounts `file` (lazily, `MNT_DETACH`) in the calling thread's
 * mount namespace and, unless `remove: false`, deletes it. The namespace itself ends once nothing
 * else refers to it (no process in it, no open fd, no other mount).
 *
 * Refuses (NsboxError EINVAL) a file that is not a namespace file, so that a wrong path never
 * unmounts a real filesystem; a missing file is ENOENT.
 */
export function releaseNamespace(file: string, options: ReleaseOptions = {}): void {
  const where = fileOf(file);
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
  if (options.remove !== undefined && typeof options.remove !== 'boolean') throw invalidArgType('remove', 'a boolean', options.remove);
  let type: number;
  try {
    type = fs.statfsSync(where).type;
  } catch (e) {
    throw fsFailure(e, 'statfs', where);
  }
  if (type !== NSFS_MAGIC) {
    throw systemError({ errno: os.constants.errno.EINVAL, syscall: 'umount2' }, { path: where, step: `${where} is not a persisted namespace (not on nsfs), not unmounting it` });
  }
  umount(where, { flags: ['detach'] });
  if (options.remove === false) return;
  try {
    fs.unlinkSync(where);
  } catch (e) {
    throw fsFailure(e, 'unlink', where);
  }
}
