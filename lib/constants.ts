/**
 * Linux ABI constants (stable across kernels and architectures nsbox supports), kept in one
 * place so that option parsing and plan building can be tested without the addon.
 * @module
 */

/** A namespace kind, named as in `/proc/PID/ns` (except `mount`, which the kernel calls `mnt`). */
export type Namespace = 'pid' | 'mount' | 'uts' | 'ipc' | 'net' | 'user' | 'cgroup' | 'time';

/** Every namespace kind, in the order `namespaces()` lists them. */
export const NAMESPACES: readonly Namespace[] = ['pid', 'mount', 'uts', 'ipc', 'net', 'user', 'cgroup', 'time'];

/** `CLONE_NEW*` flag of each namespace kind (also the `nstype` of setns(2)). */
export const CLONE_FLAGS: Readonly<Record<Namespace, number>> = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  net: 0x40000000,
  time: 0x00000080,
};

/** `CLONE_FS`: unshares cwd/root bookkeeping, which setns(2) into a mount namespace requires. */
export const CLONE_FS = 0x00000200;

/** The file name of each namespace under `/proc/PID/ns`. */
export const NS_FILES: Readonly<Record<Namespace, string>> = {
  pid: 'pid',
  mount: 'mnt',
  uts: 'uts',
  ipc: 'ipc',
  net: 'net',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

/** A mount(2) flag, by its `mount -o` / `MS_*` name. */
export type MountFlag =
  | 'rdonly'
  | 'nosuid'
  | 'nodev'
  | 'noexec'
  | 'synchronous'
  | 'remount'
  | 'mandlock'
  | 'dirsync'
  | 'nosymfollow'
  | 'noatime'
  | 'nodiratime'
  | 'bind'
  | 'move'
  | 'rec'
  | 'silent'
  | 'unbindable'
  | 'private'
  | 'slave'
  | 'shared'
  | 'relatime'
  | 'strictatime'
  | 'lazytime';

/** `MS_*` value of each mount flag. */
export const MOUNT_FLAGS: Readonly<Record<MountFlag, number>> = {
  rdonly: 0x1,
  nosuid: 0x2,
  nodev: 0x4,
  noexec: 0x8,
  synchronous: 0x10,
  remount: 0x20,
  mandlock: 0x40,
  dirsync: 0x80,
  nosymfollow: 0x100,
  noatime: 0x400,
  nodiratime: 0x800,
  bind: 0x1000,
  move: 0x2000,
  rec: 0x4000,
  silent: 0x8000,
  unbindable: 0x20000,
  private: 0x40000,
  slave: 0x80000,
  shared: 0x100000,
  relatime: 0x200000,
  strictatime: 0x1000000,
  lazytime: 0x2000000,
};

/** A umount2(2) flag. */
export type UmountFlag = 'force' | 'detach' | 'expire' | 'nofollow';

/** `MNT_*` / `UMOUNT_*` value of each umount flag. */
export const UMOUNT_FLAGS: Readonly<Record<UmountFlag, number>> = {
  force: 0x1,
  detach: 0x2,
  expire: 0x4,
  nofollow: 0x8,
};

/** The wire formats shared with src/sys/wire.h (test/05.wire.test.ts checks every value). */
export const WIRE = {
  magic: 0x6e73626f,
  version: 2,
  options: {
    init: 0x1, setsid: 0x2, dieWithParent: 0x4, becomeRoot: 0x8, foreground: 0x10, inheritEnv: 0x20, trace: 0x40, noNewPrivs: 0x80,
    waitParent: 0x100, subreaper: 0x200,
  },
  op: {
    mount: 1, openRoot: 2, mkdir: 3, symlink: 5, pivotRoot: 6, sethostname: 7, chdir: 8, exec: 9, device: 10, loopbackUp: 11, setdomainname: 12,
    timeNs: 13, joinNs: 14, ifaceUp: 15, setpriority: 16, readonly: 17, caps: 18, seccomp: 19, mask: 20, keyring: 21, rlimit: 22, ensure: 23, writeFile: 24, chmod: 25, identity: 26, overlay: 27,
  },
  inRoot: 0x1,
  optional: 0x2,
  create: 0x4,
  report: { error: 1, spawned: 2, exit: 3, trace: 4, usage: 5 },
  spawn: {
    magic: 0x6e737370,
    version: 1,
    headerSize: 40,
    strings: 5,
    options: { dieWithParent: 0x1, inheritEnv: 0x2, mapsByChild: 0x4, mapsByParent: 0x8, joinAsRoot: 0x10, veth: 0x20, keepCaps: 0x40 },
  },
  start: {
    fds: 1, setgroups: 2, uidMap: 3, gidMap: 4, caps: 5, exec: 6, join: 7, unshare: 8, request: 9, pipes: 10, image: 11, clone: 12, veth: 13,
    helper: 14, joinRoot: 15, command: 16, cgroup: 17,
  },
  stdio: { pipe: -1, ignore: -2 },
} as const;
