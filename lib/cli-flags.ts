/**
 * The flags of `nsbox run`, nsbox's own and bubblewrap's: what each takes and what it does to the
 * run being built (cli-parse.ts reads the words; this table applies them).
 * @module
 */
import fs from 'fs';
import path from 'path';
import type { OciSeccomp } from './seccomp';
import type { BindMount, IsolatedOptions, MountSpec } from './options';
import { usage } from './cli-usage';

/** The profile in a --seccomp file: JSON of an OCI linux.seccomp object. */
function seccompFile(file: string): OciSeccomp {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return usage(`--seccomp: cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as OciSeccomp;
  } catch (e) {
    return usage(`--seccomp: ${file} is not JSON: ${(e as Error).message}`);
  }
}

/**
 * What the flags of `nsbox run` build, in the order given: the options, the mounts, the
 * environment, and the modifiers (`--perms`, `--size`, `--overlay-src`) waiting for the operation
 * they apply to, as bwrap keeps them.
 */
export interface RunState {
  options: IsolatedOptions;
  /** Option path -> the flag that set it, as typed. */
  flags: Map<string, string>;
  mounts: MountSpec[];
  capAdd: string[];
  capDrop: string[];
  untrusted: boolean;
  user: boolean;
  noInit: boolean;
  newSession: boolean;
  killAfter: string | undefined;
  /** undefined until an environment flag: then a copy of process.env, changed in order. */
  env: Record<string, string> | undefined;
  perms: number | undefined;
  size: number | undefined;
  overlaySrc: string[];
  /** A bwrap mount flag on '/' (`--ro-bind / /`, `--bind DIR /`): the rootfs. */
  root: { source: string; readonly: boolean; typed: string } | undefined;
  /** `--proc /proc`, `--dev /dev`: nsbox's own /proc and /dev (undefined: not given). */
  proc: boolean | undefined;
  dev: boolean | undefined;
}

type Apply = (s: RunState, v: readonly string[], typed: string) => void;

export interface FlagSpec {
  /** How many words follow the flag. */
  n: number;
  apply: Apply;
  /** The value in --help, for "takes N values" messages. */
  takes?: ('perms' | 'size')[];
  /** An operation that takes the pending --overlay-src layers. */
  overlay?: boolean;
}


/** A bwrap octal mode (`--perms 0700`, `--chmod 755 PATH`). */
function octal(flag: string, value: string): number {
  if (!/^[0-7]{1,5}$/.test(value) || Number.parseInt(value, 8) > 0o7777) usage(`${flag} takes an octal mode up to 07777, got '${value}'`);
  return Number.parseInt(value, 8);
}

/** A uid or gid, as bwrap takes them. */
function idValue(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 0xfffffffe) usage(`${flag} takes a number from 0 to 4294967294, got '${value}'`);
  return Number(value);
}

/**
 * The content of an fd given on the command line (`--file FD DEST`), which is then closed, as bwrap
 * does. It must be one the caller passed (as with bwrap, a wrong number reads whatever is there,
 * possibly one of Node's own pipes); Node's epoll and eventfds are refused, and an fd that cannot be
 * read is left alone.
 */
function fdContent(typed: string, value: string): Buffer {
  if (!/^\d+$/.test(value)) usage(`${typed}: FD must be a file descriptor number, got '${value}'`);
  const fd = Number(value);
  let content: Buffer;
  try {
    // Node's event loop (epoll, eventfds) is never a file to read.
    if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith('anon_inode:')) usage(`${typed}: fd ${fd} is not a file, a pipe or a socket`);
    content = fs.readFileSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return usage(`${typed}: cannot read fd ${fd}: ${code === 'ENOENT' ? 'EBADF' : (code ?? (e as Error).message)}`);
  }
  fs.closeSync(fd);
  return content;
}

const isRoot = (target: string): boolean => target.startsWith('/') && path.posix.normalize(target).replace(/\/+$/, '') === '';

/** Appends a mount, named by its flag in errors. */
function addMount(s: RunState, spec: MountSpec, typed: string): void {
  s.flags.set(`mounts[${s.mounts.length}]`, typed);
  s.mounts.push(spec);
}

/**
 * --bind, --ro-bind, --dev-bind and their -try forms. One on '/' is the rootfs (bwrap mounts on
 * an empty root; nsbox's root is the host's tree unless one is given).
 */
function bindFlag(type: BindMount['type'], optional: boolean): Apply {
  return (s, v, typed) => {
    const [source = '', target = ''] = v.length === 1 ? splitMount(v[0]!, typed.split(' ')[0]!) : v;
    if (v.length === 2 && isRoot(target)) {
      if (s.root) usage(`${typed}: the root is already given by ${s.root.typed}`);
      if (s.options.rootfs !== undefined) usage(`${typed}: the root is already given by --rootfs`);
      s.root = { source, readonly: type === 'ro-bind', typed };
      return;
    }
    // The SRC:DST form keeps what it always made: a bind, read-only for --ro-bind.
    const spec: BindMount = v.length === 1 ? (type === 'ro-bind' ? { type: 'bind', source, target, readonly: true } : { type, source, target }) : { type, source, target };
    if (optional) spec.optional = true;
    addMount(s, spec, typed);
  };
}

function splitMount(value: string, flag: string): [string, string] {
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1) usage(`${flag} takes SRC DEST (or SRC:DST), got '${value}'`);
  return [value.slice(0, at), value.slice(at + 1)];
}

/** A mount flag that cannot be on '/' in nsbox (the root comes from --bind/--ro-bind SRC / or --rootfs). */
function notOnRoot(typed: string, target: string): void {
  if (isRoot(target)) usage(`${typed}: nsbox cannot make '/' this way; give the root with --ro-bind / /, --bind DIR / or --rootfs DIR`);
}

const set =
  <K extends keyof IsolatedOptions>(key: K, value: IsolatedOptions[K]): Apply =>
  (s, _v, typed) => {
    s.options[key] = value;
    s.flags.set(key, typed);
  };

const env = (s: RunState): Record<string, string> => (s.env ??= { ...(process.env as Record<string, string>) });

/** The flags of `nsbox run`: nsbox's own and bubblewrap's, each applied in the order given. */
export const FLAGS: Record<string, FlagSpec> = {
  // nsbox's own
  rootfs: {
    n: 1,
    apply: (s, [dir], typed) => {
      if (s.root) usage(`--rootfs: the root is already given by ${s.root.typed}`);
      set('rootfs', dir)(s, [], typed.split(' ')[0]!);
    },
  },
  'readonly-root': { n: 0, apply: set('readonlyRoot', true) },
  'no-new-privs': { n: 0, apply: set('noNewPrivileges', true) },
  'allow-new-privs': { n: 0, apply: set('noNewPrivileges', false) },
  'cap-add': { n: 1, apply: (s, [cap]) => void s.capAdd.push(cap!) },
  'cap-drop': { n: 1, apply: (s, [cap]) => void s.capDrop.push(cap!) },
  seccomp: {
    n: 1,
    apply: (s, [file]) => {
      // bwrap's --seccomp FD (a compiled BPF program) is not nsbox's --seccomp FILE (OCI JSON).
      if (/^\d+$/.test(file!) && !fs.existsSync(file!)) usage(`bubblewrap's --seccomp FD (a compiled BPF program on an fd) is not supported by nsbox run: its --seccomp takes a FILE of OCI JSON`);
      set('seccomp', seccompFile(file!))(s, [], `--seccomp ${file}`);
    },
  },
  'no-seccomp': { n: 0, apply: set('seccomp', false) },
  untrusted: {
    n: 0,
    apply: (s, v, typed) => {
      s.untrusted = true;
      set('preset', 'untrusted')(s, v, typed);
    },
  },
  nice: {
    n: 1,
    apply: (s, [n], typed) => {
      if (!/^-?\d+$/.test(n!)) usage(`--nice takes an integer, got '${n}'`);
      set('nice', Number(n))(s, [], typed.split(' ')[0]!);
    },
  },
  hostname: { n: 1, apply: (s, [name]) => set('hostname', name)(s, [], '--hostname') },
  ipc: { n: 0, apply: set('ipc', true) },
  net: { n: 0, apply: set('net', true) },
  cgroup: { n: 0, apply: set('cgroup', true) },
  user: {
    n: 0,
    apply: (s, v, typed) => {
      s.user = true;
      set('user', true)(s, v, typed);
    },
  },
  all: { n: 0, apply: set('namespaces', 'all') },
  cwd: { n: 1, apply: (s, [dir]) => set('cwd', dir)(s, [], '--cwd') },
  'no-init': { n: 0, apply: (s) => void (s.noInit = true) },
  'kill-after': { n: 1, apply: (s, [secs]) => void (s.killAfter = secs) },
  'no-proc': { n: 0, apply: (s) => void (s.proc = false) },
  'no-dev': { n: 0, apply: (s) => void (s.dev = false) },
  'new-session': { n: 0, apply: (s) => void (s.newSession = true) },
  'dry-run': { n: 0, apply: () => undefined },
  help: { n: 0, apply: () => undefined },
  version: { n: 0, apply: () => undefined },
  // bubblewrap's: mounts, in order
  bind: { n: 2, apply: bindFlag('bind', false) },
  'ro-bind': { n: 2, apply: bindFlag('ro-bind', false) },
  'dev-bind': { n: 2, apply: bindFlag('dev-bind', false) },
  'bind-try': { n: 2, apply: bindFlag('bind', true) },
  'ro-bind-try': { n: 2, apply: bindFlag('ro-bind', true) },
  'dev-bind-try': { n: 2, apply: bindFlag('dev-bind', true) },
  tmpfs: {
    n: 1,
    takes: ['perms', 'size'],
    apply: (s, [target], typed) => {
      notOnRoot(typed, target!);
      addMount(s, { type: 'tmpfs', target: target!, ...(s.size === undefined ? {} : { size: s.size }), ...(s.perms === undefined ? {} : { mode: s.perms }) }, typed);
    },
  },
  proc: {
    n: 1,
    apply: (s, [target], typed) => {
      notOnRoot(typed, target!);
      // On /proc: nsbox's own, the PID namespace's, with the OCI paths masked.
      if (path.posix.normalize(target!) === '/proc') s.proc = true;
      else addMount(s, { type: 'proc', target: target! }, typed);
    },
  },
  dev: {
    n: 1,
    apply: (s, [target], typed) => {
      notOnRoot(typed, target!);
      // On /dev of a rootfs: nsbox's own minimal /dev (the same nodes as bwrap's).
      if (path.posix.normalize(target!) === '/dev' && (s.root !== undefined || s.options.rootfs !== undefined)) s.dev = true;
      else addMount(s, { type: 'dev', target: target! }, typed);
    },
  },
  mqueue: {
    n: 1,
    apply: (s, [target], typed) => {
      notOnRoot(typed, target!);
      addMount(s, { type: 'mqueue', target: target! }, typed);
    },
  },
  dir: {
    n: 1,
    takes: ['perms'],
    apply: (s, [target], typed) => {
      notOnRoot(typed, target!);
      addMount(s, { type: 'dir', target: target!, ...(s.perms === undefined ? {} : { mode: s.perms }) }, typed);
    },
  },
  symlink: {
    n: 2,
    apply: (s, [linkTo, target], typed) => {
      notOnRoot(typed, target!);
      addMount(s, { type: 'symlink', target: target!, linkTo: linkTo! }, typed);
    },
  },
  'remount-ro': {
    n: 1,
    apply: (s, [target], typed) => {
      if (isRoot(target!)) set('readonlyRoot', true)(s, [], typed);
      else addMount(s, { type: 'remount-ro', target: target! }, typed);
    },
  },
  chmod: {
    n: 2,
    apply: (s, [mode, target], typed) => addMount(s, { type: 'chmod', target: target!, mode: octal('--chmod', mode!) }, typed),
  },
  perms: {
    n: 1,
    apply: (s, [mode]) => {
      if (s.perms !== undefined) usage('--perms given twice for the same operation');
      s.perms = octal('--perms', mode!);
    },
  },
  size: {
    n: 1,
    apply: (s, [bytes]) => {
      if (s.size !== undefined) usage('--size given twice for the same operation');
      if (!/^(\d+|0x[0-9a-f]+)$/i.test(bytes!) || Number(bytes) <= 0 || !Number.isSafeInteger(Number(bytes))) usage(`--size takes a positive number of bytes, got '${bytes}'`);
      s.size = Number(bytes);
    },
  },
  'overlay-src': { n: 1, apply: (s, [src]) => void s.overlaySrc.push(src!) },
  'tmp-overlay': {
    n: 1,
    overlay: true,
    apply: (s, [target], typed) => {
      if (s.overlaySrc.length === 0) usage(`${typed}: needs at least one --overlay-src before it`);
      notOnRoot(typed, target!);
      // bwrap takes the layers bottom to top; nsbox's lower, as overlayfs's, top first.
      addMount(s, { type: 'overlay', target: target!, lower: [...s.overlaySrc].reverse() }, typed);
    },
  },
  overlay: {
    n: 3,
    overlay: true,
    apply: (s, [upper, work, target], typed) => {
      if (s.overlaySrc.length === 0) usage(`${typed}: needs at least one --overlay-src before it`);
      notOnRoot(typed, target!);
      addMount(s, { type: 'overlay', target: target!, lower: [...s.overlaySrc].reverse(), upper: upper!, work: work! }, typed);
    },
  },
  file: {
    n: 2,
    takes: ['perms'],
    apply: (s, [fd, target], typed) => {
      notOnRoot(typed, target!);
      addMount(s, { type: 'file', target: target!, content: fdContent(typed, fd!), ...(s.perms === undefined ? {} : { mode: s.perms }) }, typed);
    },
  },
  'bind-data': {
    n: 2,
    takes: ['perms'],
    apply: (s, [fd, target], typed) => {
      notOnRoot(typed, target!);
      addMount(s, { type: 'file', target: target!, content: fdContent(typed, fd!), mode: s.perms ?? 0o600 }, typed);
    },
  },
  'ro-bind-data': {
    n: 2,
    takes: ['perms'],
    apply: (s, [fd, target], typed) => {
      notOnRoot(typed, target!);
      addMount(s, { type: 'file', target: target!, content: fdContent(typed, fd!), mode: s.perms ?? 0o600, readonly: true }, typed);
    },
  },
  // bubblewrap's: who, where, what environment
  uid: { n: 1, apply: (s, [uid], typed) => set('uid', idValue('--uid', uid!))(s, [], typed) },
  gid: { n: 1, apply: (s, [gid], typed) => set('gid', idValue('--gid', gid!))(s, [], typed) },
  chdir: { n: 1, apply: (s, [dir]) => set('cwd', dir)(s, [], '--chdir') },
  argv0: { n: 1, apply: (s, [argv0]) => set('argv0', argv0)(s, [], '--argv0') },
  setenv: {
    n: 2,
    apply: (s, [name, value]) => {
      if (!name || name.includes('=')) usage(`--setenv takes VAR VALUE, and VAR cannot be empty or hold '=', got '${name}'`);
      env(s)[name] = value!;
    },
  },
  unsetenv: { n: 1, apply: (s, [name]) => void delete env(s)[name!] },
  clearenv: { n: 0, apply: (s) => void (s.env = {}) },
  // bubblewrap's: namespaces and the process
  'unshare-user': { n: 0, apply: (s, v, typed) => FLAGS.user!.apply(s, v, typed) },
  'unshare-ipc': { n: 0, apply: set('ipc', true) },
  'unshare-pid': { n: 0, apply: set('pid', true) },
  'unshare-net': { n: 0, apply: set('net', true) },
  'unshare-uts': { n: 0, apply: set('uts', true) },
  'unshare-cgroup': { n: 0, apply: set('cgroup', true) },
  'unshare-all': {
    n: 0,
    apply: (s, v, typed) => {
      for (const key of ['user', 'ipc', 'pid', 'net', 'uts', 'cgroup'] as const) set(key, true)(s, v, typed);
      s.user = true;
    },
  },
  'share-net': { n: 0, apply: set('net', false) },
  'die-with-parent': { n: 0, apply: () => undefined },
  'as-pid-1': { n: 0, apply: (s) => void (s.noInit = true) },
};


/** bubblewrap's flags nsbox does not offer: refused by name rather than misread. */
export const BWRAP_UNSUPPORTED = new Set([
  'args', 'userns', 'userns2', 'pidns', 'lock-file', 'sync-fd', 'info-fd', 'json-status-fd', 'block-fd', 'userns-block-fd',
  'exec-label', 'file-label', 'add-seccomp-fd', 'unshare-user-try', 'unshare-cgroup-try', 'disable-userns', 'assert-userns-disabled',
  'ro-overlay', 'bind-fd', 'ro-bind-fd', 'level-prefix',
]);

export const SHORT: Record<string, string> = { '-h': 'help', '-V': 'version' };
