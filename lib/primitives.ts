/**
 * In-process namespace primitives. Each acts on the calling thread or process, and the kernel
 * decides which: this module makes that explicit (see docs/threads.md). Node is always
 * multi-threaded, so some calls cannot work here at all; they are refused with a pointer to
 * `spawnIsolated`, which runs its setup in a single-threaded helper instead.
 * @module
 */
import { CLONE_FLAGS, CLONE_FS, MOUNT_FLAGS, UMOUNT_FLAGS, type MountFlag, type Namespace, type UmountFlag } from './constants';
import { invalidArgType, invalidArgValue, systemError, type NativeFailure } from './errors';
import { native } from './native';

/**
 * What a namespace call reaches, stated by the caller:
 * - `'thread'`: the calling thread only (mount, net, uts, ipc, cgroup). libuv's pool threads stay
 *   behind, so async `fs` calls and `dns.lookup` still see the old namespace.
 * - `'children'`: only children created afterwards by this thread (pid, time). The next child
 *   becomes PID 1 of the new PID namespace; a second one then fails with ENOMEM.
 */
export interface ThreadScope {
  scope: 'thread' | 'children';
}

/** Options of {@link mount}. */
export interface MountOptions {
  /** Filesystem type (`proc`, `tmpfs`, `overlay`, ...); omit for bind, move and propagation changes. */
  type?: string;
  /** mount(2) flags by name. */
  flags?: readonly MountFlag[];
  /** Filesystem-specific data (`size=1m,mode=755`). */
  data?: string;
}

/** Options of {@link umount}. */
export interface UmountOptions {
  /** umount2(2) flags by name, e.g. `['detach']` for a lazy unmount. */
  flags?: readonly UmountFlag[];
}

const SCOPES: Readonly<Record<Namespace, ThreadScope['scope'] | 'refused'>> = {
  mount: 'thread',
  net: 'thread',
  uts: 'thread',
  ipc: 'thread',
  cgroup: 'thread',
  pid: 'children',
  time: 'children',
  user: 'refused',
};

function check(result: NativeFailure | undefined, path?: string): void {
  if (result) throw systemError(result, { path });
}

function refuseUser(call: string): never {
  throw Object.assign(
    new TypeError(
      `${call}(user) is refused by the kernel in a multi-threaded process, and Node always is one. ` +
        'Use spawnIsolated(command, args, { user: true }) to run a command in a new user namespace.',
    ),
    { code: 'ERR_NSBOX_THREADED' },
  );
}

function checkScope(call: string, kinds: readonly Namespace[], options: ThreadScope | undefined): void {
  for (const ns of kinds) {
    const needed = SCOPES[ns];
    if (needed === undefined) throw invalidArgValue('namespace', `must be one of ${Object.keys(SCOPES).join(', ')}`, ns);
    if (needed === 'refused') refuseUser(call);
    if (options?.scope !== needed) {
      throw Object.assign(
        new TypeError(
          `${call}(${ns}) reaches ${needed === 'thread' ? 'the calling thread only' : 'only children created afterwards'}; ` +
            `pass { scope: '${needed}' } to say you mean it (see docs/threads.md)`,
        ),
        { code: 'ERR_NSBOX_SCOPE' },
      );
    }
  }
}

function stringArg(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidArgType(name, 'a non-empty string', value);
  return value;
}

function flagBits<T extends string>(name: string, flags: readonly T[] | undefined, table: Readonly<Record<T, number>>): number {
  if (flags === undefined) return 0;
  if (!Array.isArray(flags as unknown)) throw invalidArgType(name, 'an array of flag names', flags);
  return flags.reduce((bits, flag) => {
    const bit = table[flag];
    if (bit === undefined) throw invalidArgValue(name, `has an unknown flag (known: ${Object.keys(table).join(', ')})`, flag);
    return bits | bit;
  }, 0);
}

/**
 * unshare(2): moves the calling thread into new namespaces.
 * `'user'` is always refused (the kernel rejects it for threaded processes).
 * @example unshare('uts', { scope: 'thread' }); sethostname('sandbox');
 */
export function unshare(namespaces: Namespace | readonly Namespace[], options: ThreadScope): void {
  const kinds = typeof namespaces === 'string' ? [namespaces] : namespaces;
  if (!Array.isArray(kinds as unknown) || kinds.length === 0) throw invalidArgType('namespaces', 'a namespace name or a non-empty array of them', namespaces);
  checkScope('unshare', kinds, options);
  check(native().unshare(kinds.reduce((bits, ns) => bits | CLONE_FLAGS[ns], 0)));
}

/**
 * setns(2): moves the calling thread into an existing namespace, given by a file such as
 * `/proc/1234/ns/net` or an open fd of one. For a mount namespace the thread's filesystem context
 * is unshared first, as the kernel requires.
 * @example setns('/proc/1234/ns/uts', { type: 'uts', scope: 'thread' });
 */
export function setns(target: string | number, options: ThreadScope & { type: Namespace }): void {
  if (typeof target !== 'string' && !(typeof target === 'number' && Number.isInteger(target) && target >= 0)) {
    throw invalidArgType('target', 'a namespace file path or fd', target);
  }
  const type = options?.type;
  checkScope('setns', [type], options);
  const binding = native();
  if (type === 'mount') check(binding.unshare(CLONE_FS));
  check(binding.setns(target, CLONE_FLAGS[type]), typeof target === 'string' ? target : undefined);
}

/**
 * chroot(2) for the whole process (every thread). A root process can escape a chroot; prefer
 * `spawnIsolated` with `rootfs`, which uses pivot_root in a private mount namespace.
 */
export function chroot(path: string): void {
  check(native().chroot(stringArg('path', path)), path);
}

/**
 * pivot_root(2): makes `newRoot` the root of the calling process's mount namespace and puts the old
 * root at `putOld`. It changes the root and cwd of every process in that namespace still using
 * the old root, so call it only in a mount namespace of your own.
 */
export function pivotRoot(newRoot: string, putOld: string): void {
  check(native().pivotRoot(stringArg('newRoot', newRoot), stringArg('putOld', putOld)), newRoot);
}

/**
 * mount(2). It changes the mount namespace of the calling thread, for every process in it.
 * @example mount('tmpfs', '/mnt/scratch', { type: 'tmpfs', flags: ['nosuid', 'nodev'], data: 'size=1m' });
 */
export function mount(source: string | null, target: string, options: MountOptions = {}): void {
  if (source !== null && typeof source !== 'string') throw invalidArgType('source', 'a string or null', source);
  stringArg('target', target);
  if (options.type !== undefined) stringArg('type', options.type);
  if (options.data !== undefined && typeof options.data !== 'string') throw invalidArgType('data', 'a string', options.data);
  const flags = flagBits('flags', options.flags, MOUNT_FLAGS);
  check(native().mount(source, target, options.type ?? null, flags, options.data ?? null), target);
}

/**
 * umount2(2), for every process in the calling thread's mount namespace.
 * @example umount('/mnt/scratch', { flags: ['detach'] });
 */
export function umount(target: string, options: UmountOptions = {}): void {
  check(native().umount(stringArg('target', target), flagBits('flags', options.flags, UMOUNT_FLAGS)), target);
}

/**
 * sethostname(2), in the UTS namespace of the calling thread: unshare it first, or this changes
 * the host's name.
 */
export function sethostname(name: string): void {
  stringArg('name', name);
  if (Buffer.byteLength(name) > 64) throw invalidArgValue('name', 'must be at most 64 bytes', name);
  check(native().sethostname(name));
}
