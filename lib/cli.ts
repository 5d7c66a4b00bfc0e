#!/usr/bin/env node
/**
 * The `nsbox` command: `nsbox run [options] -- CMD [ARGS...]`, a scripted `unshare --fork --pid
 * --mount-proc [--root]` built on spawnIsolated. Its exit code is the command's, or 128 + n when
 * the command died of signal n; bad usage exits 2, its own failures 125 (126/127 when the command
 * cannot be executed / is not found, as in shells). The table is in EXIT_STATUS and the README.
 * @module
 */
import fs from 'fs';
import os from 'os';
import tty from 'tty';
import path from 'path';
import { CAPABILITIES, DEFAULT_CAPABILITIES, capabilityName, type Capability } from './capabilities';
import { NsboxError } from './errors';
import type { OciSeccomp } from './seccomp';
import type { BindMount, IsolatedOptions, MountSpec } from './options';
import type { IsolatedProcess } from './child';
import { spawnIsolated } from './spawn';
import { dryRun } from './dry-run';

const EXIT_STATUS = `Exit status:
  N        the command's own exit status
  128+N    the command died of signal N
  2        bad usage: an unknown flag, a value nsbox refuses, no command
  125      nsbox itself failed (the sandbox could not be set up, the addon did not load)
  126      the command could not be executed
  127      the command was not found`;

const USAGE = `Usage: nsbox COMMAND [options]

Linux namespaces from the command line.

Commands:
  run [options] [--] COMMAND [ARGS...]   run COMMAND as PID 1 of new namespaces
  help [COMMAND]                         show this help, or COMMAND's (nsbox run --help)

Options:
  -h, --help          show this help
  -V, --version       print nsbox's version

${EXIT_STATUS}`;

const RUN_USAGE = `Usage: nsbox run [options] [--] COMMAND [ARGS...]

Runs COMMAND as PID 1 of new PID and mount namespaces, with a fresh /proc. Run by a user other
than root, it adds a user namespace (as bwrap does), in which that user is root.

Options:
  --rootfs DIR        use DIR as the root filesystem (pivot_root), with a minimal /dev
  --readonly-root     the rootfs read-only inside
  --no-new-privs      setuid binaries and file capabilities no longer raise privileges (the default)
  --allow-new-privs   let them (no_new_privs off)
  --cap-add CAP       keep capability CAP (CAP_NET_RAW or NET_RAW; ALL for every one) (repeatable)
  --cap-drop CAP      drop capability CAP from the default set (ALL for every one) (repeatable)
  --seccomp FILE      the seccomp profile in FILE: JSON of an OCI linux.seccomp object (Docker's format)
  --no-seccomp        no seccomp filter
  --untrusted         the strictest sandbox this host allows (preset: 'untrusted'); flags given
                      with it win
  --nice N            run the whole sandbox at niceness N (-20..19), as nice(1)
  --hostname NAME     new UTS namespace with this hostname
  --ipc               new IPC namespace
  --net               new network namespace (only lo, up)
  --cgroup            new cgroup namespace
  --user              new user namespace (root inside, you outside: works without root)
  --all               a new namespace of every kind
  --cwd DIR           working directory inside
  --bind SRC:DST      bind-mount host SRC on DST (repeatable; SRC DEST is bwrap's form, below)
  --ro-bind SRC:DST   the same, read-only (repeatable)
  --tmpfs DST         mount a tmpfs on DST (repeatable)
  --no-init           the command itself is PID 1 (no reaping, default signal handling off)
  --kill-after SECS   after a signal that asks the sandbox to end (INT, TERM, HUP, QUIT) or a
                      hang-up of the terminal, SIGKILL it SECS later if it still runs (default 2)
  --no-proc           keep the host's /proc (ps then shows the host's processes)
  --no-dev            no minimal /dev in the rootfs
  --new-session       detach the command from the terminal even when it is interactive
  --dry-run           print the plan (dryRun's JSON: namespaces, maps, every setup step) and run
                      nothing
  -h, --help          show this help
  -V, --version       print nsbox's version

bubblewrap's flags (a bwrap command line runs under nsbox by changing the program's name):
  --bind SRC DEST, --ro-bind SRC DEST, --dev-bind SRC DEST    bind mounts (recursive)
  --bind-try, --ro-bind-try, --dev-bind-try SRC DEST         the same, skipped if SRC is missing
  --tmpfs DEST, --proc DEST, --dev DEST, --mqueue DEST       new filesystems
  --dir DEST, --symlink SRC DEST, --chmod OCTAL PATH         a directory, a link to SRC, a mode
  --file FD DEST, --bind-data FD DEST, --ro-bind-data FD DEST  a file with fd FD's content
  --remount-ro DEST   DEST read-only (recursively, unlike bwrap)
  --perms OCTAL       the mode of the next --tmpfs, --dir, --file, --bind-data, --ro-bind-data
  --size BYTES        the size of the next --tmpfs
  --overlay-src SRC   a lower layer (repeatable, bottom to top) of the next overlay:
  --tmp-overlay DEST  overlayfs on DEST, its writes in a tmpfs that vanishes with the sandbox
  --overlay RWSRC WORKDIR DEST   overlayfs on DEST, its writes in RWSRC
  --uid UID, --gid GID           who the command is inside
  --setenv VAR VALUE, --unsetenv VAR, --clearenv   the environment, changed in the order given
  --chdir DIR, --argv0 VALUE, --hostname NAME, --new-session, --cap-add CAP, --cap-drop CAP
  --unshare-user, --unshare-ipc, --unshare-pid, --unshare-net, --unshare-uts, --unshare-cgroup,
  --unshare-all, --share-net      namespaces (nsbox always makes new PID and mount ones)
  --as-pid-1          the same as --no-init
  --die-with-parent   accepted: nsbox always does
They are applied in the order given. A mount on '/' gives the root: --ro-bind / / (or --bind / /)
is the host's tree, read-only (or not), --bind DIR / is DIR; only then do --proc /proc and
--dev /dev decide whether the sandbox gets a new /proc and /dev, as in bwrap. Without one, unlike
bwrap (which starts from an empty root), the root stays the host's tree (or --rootfs) and the
mounts are made on it, in the sandbox only; --file, --bind-data, --ro-bind-data, --dir, --symlink
and --chmod, which would change the host's own files, then need a root. DEST must be absolute.
--bind and --ro-bind take SRC DEST unless their word holds a ':' and is followed by a flag, --
or nothing (then it is SRC:DST). bwrap's flags nsbox does not offer (--seccomp FD, --userns, --pidns, --lock-file, --sync-fd, --info-fd,
--json-status-fd, --block-fd, --userns-block-fd, --exec-label, --file-label, --add-seccomp-fd,
--args, --bind-fd, --ro-bind-fd, --ro-overlay, --unshare-user-try, --unshare-cgroup-try,
--disable-userns, --assert-userns-disabled, --level-prefix) are refused by name (exit 2).

The options end at -- or at the first word that is not one: nsbox run ls -la / works.

${EXIT_STATUS}`;

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * The forwarded signals that ask the sandbox to end. A PID 1 ignores each one it has no handler
 * for (the command with --no-init, or one that traps it), so a SIGKILL follows --kill-after
 * seconds later: nsbox never outlives the wish to end it.
 */
const ENDING: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']);

const DEFAULT_KILL_AFTER_S = 2;

/**
 * How often a terminal on fd 0-2 is checked for a hang-up. nsbox is told of one by SIGHUP only
 * when it leads the session or is in the foreground group, and an interactive sandbox takes the
 * foreground; a hung-up terminal answers every ioctl with EIO, so isatty() turns false.
 */
const HANGUP_POLL_MS = 250;

function fail(message: string, code = 125): never {
  process.stderr.write(`nsbox: ${message}\n`);
  process.exit(code);
}

/** --cap-add and --cap-drop, as Docker reads them: drops from the default set, then adds. */
function capabilitiesFrom(add: string[], drop: string[], untrusted: boolean): Capability[] {
  const named = (flag: string, value: string): Capability[] | 'ALL' => {
    if (value.toUpperCase() === 'ALL') return 'ALL';
    const cap = capabilityName(value);
    if (!cap) fail(`${flag} takes a capability such as CAP_NET_RAW or NET_RAW (or ALL), got '${value}'`, 2);
    return [cap];
  };
  let set = new Set<Capability>(untrusted ? [] : DEFAULT_CAPABILITIES);
  for (const value of drop) {
    const caps = named('--cap-drop', value);
    if (caps === 'ALL') set = new Set();
    else for (const cap of caps) set.delete(cap);
  }
  for (const value of add) {
    const caps = named('--cap-add', value);
    for (const cap of caps === 'ALL' ? CAPABILITIES : caps) set.add(cap);
  }
  return CAPABILITIES.filter((c) => set.has(c));
}

/** The profile in a --seccomp file: JSON of an OCI linux.seccomp object. */
function seccompFile(file: string): OciSeccomp {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return fail(`--seccomp: cannot read ${file}: ${(e as Error).message}`, 2);
  }
  try {
    return JSON.parse(text) as OciSeccomp;
  } catch (e) {
    return fail(`--seccomp: ${file} is not JSON: ${(e as Error).message}`, 2);
  }
}

/** This package's version, from its package.json. */
function version(): string {
  return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * What the flags of `nsbox run` build, in the order given: the options, the mounts, the
 * environment, and the modifiers (`--perms`, `--size`, `--overlay-src`) waiting for the operation
 * they apply to, as bwrap keeps them.
 */
interface RunState {
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

interface FlagSpec {
  /** How many words follow the flag. */
  n: number;
  apply: Apply;
  /** The value in --help, for "takes N values" messages. */
  takes?: ('perms' | 'size')[];
  /** An operation that takes the pending --overlay-src layers. */
  overlay?: boolean;
}

const usage = (message: string): never => fail(message, 2);

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
const FLAGS: Record<string, FlagSpec> = {
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
const BWRAP_UNSUPPORTED = new Set([
  'args', 'userns', 'userns2', 'pidns', 'lock-file', 'sync-fd', 'info-fd', 'json-status-fd', 'block-fd', 'userns-block-fd',
  'exec-label', 'file-label', 'add-seccomp-fd', 'unshare-user-try', 'unshare-cgroup-try', 'disable-userns', 'assert-userns-disabled',
  'ro-overlay', 'bind-fd', 'ro-bind-fd', 'level-prefix',
]);

const SHORT: Record<string, string> = { '-h': 'help', '-V': 'version' };

/** The flag closest to a misspelt one (edit distance at most 2, or a unique prefix), for "did you mean". */
function closestFlag(word: string): string | undefined {
  const names = Object.keys(FLAGS);
  const prefixed = names.filter((n) => n.startsWith(word) && word.length >= 2);
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const d = distance(word, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

interface Token {
  name: string;
  values: string[];
  /** The flag as typed, with its values: `--ro-bind /a /b`. */
  typed: string;
}

/**
 * Splits `nsbox run` arguments into its flags and the command: the flags end at `--` or at the
 * first word that is not a flag (`nsbox run ls -la /`), as in env(1), sudo and bwrap. A flag takes
 * its values from the next words whatever they are (`--nice -5`); one value may be inline
 * (`--nice=3`). `--bind` and `--ro-bind` take SRC DEST, or the older single SRC:DST when that word
 * holds a ':' and the word after it is a flag, `--` or absent. An unknown flag is a usage error
 * with "did you mean"; one of bubblewrap's that nsbox does not offer is refused by name.
 */
function splitRun(argv: readonly string[]): { tokens: Token[]; command: string[] } {
  const tokens: Token[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return { tokens, command: argv.slice(i + 1) };
    if (!word.startsWith('-') || word === '-') return { tokens, command: argv.slice(i) };
    const [name = '', inline] = SHORT[word] ? [SHORT[word]] : word.startsWith('--') ? splitInline(word.slice(2)) : [''];
    const spec = FLAGS[name];
    if (!spec) {
      if (BWRAP_UNSUPPORTED.has(name)) usage(`bubblewrap's --${name} is not supported by nsbox run (nsbox run --help lists what is)`);
      const guess = word.startsWith('--') ? closestFlag(name) : undefined;
      usage(`unknown option '${word}'${guess ? `: did you mean --${guess}?` : ''} (nsbox run --help lists them)`);
    }
    const flag = word.startsWith('--') ? `--${name}` : word;
    let n = spec.n;
    if (inline !== undefined) {
      if (spec.n === 0) usage(`${flag} takes no value`);
      // --bind=SRC:DST is the single-word form.
      if (spec.n > 1 && !((name === 'bind' || name === 'ro-bind') && inline.includes(':'))) usage(`${flag} takes ${spec.n} values, not ${flag}=VALUE`);
      tokens.push({ name, values: [inline], typed: `${flag} ${inline}` });
      continue;
    }
    if ((name === 'bind' || name === 'ro-bind') && argv[i + 1]?.includes(':') && (i + 2 >= argv.length || argv[i + 2]!.startsWith('-'))) n = 1;
    if (i + n >= argv.length) usage(n === 1 ? `${flag} needs a value (nsbox run --help)` : `${flag} takes ${n} values (nsbox run --help)`);
    const values = argv.slice(i + 1, i + 1 + n);
    tokens.push({ name, values, typed: [flag, ...values].join(' ') });
    i += n;
  }
  return { tokens, command: [] };
}

function splitInline(flag: string): [string, string | undefined] {
  const at = flag.indexOf('=');
  return at < 0 ? [flag, undefined] : [flag.slice(0, at), flag.slice(at + 1)];
}

/** A parsed `nsbox run`: the command, its options, and which flag set which option. */
interface ParsedRun {
  command: string;
  args: string[];
  options: IsolatedOptions;
  /** Option path (`nice`, `mounts[1]`, `seccomp`) -> the flag that set it, as typed (`--ro-bind a:/b`). */
  flags: Map<string, string>;
  /** After a signal that asks the sandbox to end, SIGKILL this many ms later (--kill-after). */
  killAfterMs: number;
  /** --dry-run: print the plan, run nothing. */
  dryRun: boolean;
}

function parseRun(argv: string[]): ParsedRun {
  const { tokens, command: words } = splitRun(argv);
  const given = new Set(tokens.map((t) => t.name));
  if (given.has('version')) {
    process.stdout.write(`${version()}\n`);
    process.exit(0);
  }
  if (given.has('help')) {
    process.stdout.write(`${RUN_USAGE}\n`);
    process.exit(0);
  }
  const [command, ...args] = words;
  if (!command) fail('no command given (nsbox run --help)', 2);
  const s: RunState = {
    options: {},
    flags: new Map(),
    mounts: [],
    capAdd: [],
    capDrop: [],
    untrusted: false,
    user: false,
    noInit: false,
    newSession: false,
    killAfter: undefined,
    env: undefined,
    perms: undefined,
    size: undefined,
    overlaySrc: [],
    root: undefined,
    proc: undefined,
    dev: undefined,
  };
  for (const token of tokens) {
    const spec = FLAGS[token.name]!;
    spec.apply(s, token.values, token.typed);
    // bwrap's modifiers apply to the very next operation, which must be one they fit.
    if (token.name === 'perms' || token.name === 'size') continue;
    const takes = spec.takes ?? [];
    if (s.perms !== undefined && !takes.includes('perms')) usage(`--perms must be followed by an operation that creates a file (--tmpfs, --dir, --file, --bind-data, --ro-bind-data), not ${token.typed.split(' ')[0]}`);
    if (s.size !== undefined && !takes.includes('size')) usage(`--size must be followed by --tmpfs, not ${token.typed.split(' ')[0]}`);
    s.perms = undefined;
    s.size = undefined;
    if (token.name === 'overlay-src') continue;
    if (s.overlaySrc.length > 0 && !spec.overlay) usage(`--overlay-src must be followed by another --overlay-src, --tmp-overlay or --overlay, not ${token.typed.split(' ')[0]}`);
    s.overlaySrc = [];
  }
  if (s.perms !== undefined || s.size !== undefined) usage(`${s.perms !== undefined ? '--perms' : '--size'} must be followed by the operation it applies to`);
  if (s.overlaySrc.length > 0) usage('--overlay-src must be followed by --tmp-overlay or --overlay');
  const { options, flags } = s;
  // An interactive shell needs the terminal, as its foreground group; otherwise detach from it
  // (CVE-2017-5226).
  // tty.isatty, not process.stdin.isTTY: touching process.stdin would make the shared terminal
  // non-blocking under the shell's feet.
  const interactive = tty.isatty(0) && !s.newSession;
  Object.assign(options, { stdio: 'inherit', init: !s.noInit, newSession: !interactive, foreground: interactive });
  if (s.noInit) flags.set('init', given.has('as-pid-1') ? '--as-pid-1' : '--no-init');
  if (s.newSession) flags.set('newSession', '--new-session');
  if (s.capAdd.length > 0 || s.capDrop.length > 0) {
    const flag = s.capAdd.length > 0 && s.capDrop.length > 0 ? '--cap-add/--cap-drop' : s.capAdd.length > 0 ? '--cap-add' : '--cap-drop';
    options.capabilities = capabilitiesFrom(s.capAdd, s.capDrop, s.untrusted);
    flags.set('capabilities', flag);
  }
  // Without root, namespaces need a user namespace: take one rather than fail with EPERM.
  if (!s.user && process.geteuid?.() !== 0) options.user = true;
  if (s.root) {
    // bwrap's root: nothing but what its flags mount, so the host's /proc and /dev stay as they
    // are in the copy of the host's tree unless --proc /proc or --dev /dev asks for new ones.
    options.rootfs = s.root.source;
    flags.set('rootfs', s.root.typed);
    if (s.root.readonly) {
      options.readonlyRoot = true;
      flags.set('readonlyRoot', s.root.typed);
    }
    s.proc ??= false;
    s.dev ??= false;
  }
  if (s.proc !== undefined) {
    options.proc = s.proc;
    flags.set('proc', s.proc ? '--proc /proc' : '--no-proc');
  }
  if (s.dev !== undefined) {
    options.dev = s.dev;
    flags.set('dev', s.dev ? '--dev /dev' : '--no-dev');
  }
  // bwrap makes files on its own empty root; without a root given, nsbox's root is the host's
  // tree, and a file, directory, link or mode made there would change the host itself.
  if (options.rootfs === undefined) {
    const at = s.mounts.findIndex((m) => m.type === 'file' || m.type === 'dir' || m.type === 'symlink' || m.type === 'chmod');
    if (at >= 0) usage(`${flags.get(`mounts[${at}]`)}: would change the host's own files, as no root is given (bwrap starts from an empty one): give it with --ro-bind / /, --bind DIR / or --rootfs DIR`);
  }
  if (s.mounts.length > 0) options.mounts = s.mounts;
  if (s.env !== undefined) {
    options.env = s.env;
    flags.set('env', '--setenv/--unsetenv/--clearenv');
  }
  const killAfter = s.killAfter ?? String(DEFAULT_KILL_AFTER_S);
  if (!/^\d+(\.\d+)?$/.test(killAfter)) fail(`--kill-after takes a number of seconds, got '${killAfter}'`, 2);
  return { command, args, options, flags, killAfterMs: Math.round(Number(killAfter) * 1000), dryRun: given.has('dry-run') };
}

/**
 * An error of spawnIsolated in the words of the command line: the option it names becomes the
 * flag that set it (`The value of "nice" is out of range...` -> `--nice must be an integer from
 * -20 to 19, got 99`; `mounts[0]: bind ...` -> `--ro-bind a:/b: bind ...`). It reads the shapes
 * lib/errors.ts words (invalidArgType, invalidArgValue: `The "NAME" option ...`; outOfRange: `The
 * value of "NAME" is out of range. It must be ...`) and plan.ts's `mounts[i]:` steps; test 90
 * holds each shape. `undefined` for an option no flag set (the CLI's own, such as stdio): then
 * nsbox is at fault, not the usage.
 */
function inFlagTerms(message: string, flags: ReadonlyMap<string, string>): string | undefined {
  const step = /^mounts\[(\d+)\]/.exec(message);
  if (step) {
    const flag = flags.get(step[0]);
    return flag === undefined ? undefined : flag + message.slice(step[0].length);
  }
  const shape = /^The value of "([^"]+)" is out of range\. It must be (.*?)\. Received (.*)$/s.exec(message) ?? /^The "([^"]+)" option (.*?)\.?(?: Received (.*))?$/s.exec(message);
  if (!shape) return message;
  const [, name = '', rest = '', received] = shape;
  const words = shape[0].startsWith('The value') ? `must be ${rest}` : rest;
  const got = received === undefined ? '' : `, got ${/^type \w+ \((.*)\)$/s.exec(received)?.[1] ?? received}`;
  // The longest option path that set NAME or a part of it: `mounts[0]` for `mounts[0].target`.
  const key = [...flags.keys()].filter((k) => name === k || name.startsWith(`${k}.`) || name.startsWith(`${k}[`)).sort((a, b) => b.length - a.length)[0];
  if (key === undefined) return undefined;
  const flag = flags.get(key)!;
  if (key === name) return `${flag} ${words}${got}`;
  const part = name.slice(key.length).replace(/^\./, '');
  const field = key.startsWith('mounts[') ? ({ source: 'SRC', target: 'DST' } as Record<string, string>)[part] ?? part : part;
  return `${flag}: ${field} ${words}${got}`;
}

async function run(argv: string[]): Promise<number> {
  let parsed: ParsedRun;
  try {
    parsed = parseRun(argv);
  } catch (e) {
    return fail(`${(e as Error).message} (nsbox run --help)`, 2);
  }
  if (parsed.dryRun) {
    let plan: ReturnType<typeof dryRun>;
    try {
      plan = dryRun(parsed.command, parsed.args, parsed.options);
    } catch (e) {
      const err = e as NsboxError;
      const words = inFlagTerms(err.message, parsed.flags);
      return words === undefined ? fail(err.message, 125) : fail(words, 2);
    }
    // 64-bit syscall argument values are bigints: numbers where exact, else decimal strings.
    const json = JSON.stringify(plan, (_key, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v), 2);
    process.stdout.write(`${json}\n`);
    return 0;
  }
  // Handlers first: the sandbox runs as soon as it is cloned, and a signal meant for it may come
  // before spawnIsolated has returned (it did, under load); such a signal is passed on right after.
  let child: IsolatedProcess | undefined;
  const early: NodeJS.Signals[] = [];
  let killTimer: NodeJS.Timeout | undefined;
  const forward = (signal: NodeJS.Signals): void => {
    if (child) child.kill(signal);
    else early.push(signal);
    // Counted from the first such signal; later ones are forwarded too, and change nothing.
    if (ENDING.has(signal)) killTimer ??= setTimeout(() => child?.kill('SIGKILL'), parsed.killAfterMs);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  // A terminal that went away (a closed window, a lost ssh connection) is a hang-up.
  const terminals = [0, 1, 2].filter((fd) => tty.isatty(fd));
  const hangupWatch =
    terminals.length === 0
      ? undefined
      : setInterval(() => {
          if (terminals.every((fd) => tty.isatty(fd))) return;
          clearInterval(hangupWatch);
          forward('SIGHUP');
        }, HANGUP_POLL_MS).unref();
  try {
    child = spawnIsolated(parsed.command, parsed.args, parsed.options);
  } catch (e) {
    const err = e as NsboxError;
    // The addon would not load: nsbox failed, not the usage.
    if (err.code === 'ERR_NSBOX_ADDON') return fail(err.message, 125);
    // Options that parse but spawnIsolated refuses (--nice 99): bad usage, like the others,
    // in the flags' words. One no flag set is nsbox's own fault.
    const words = inFlagTerms(err.message, parsed.flags);
    return words === undefined ? fail(err.message, 125) : fail(words, 2);
  }
  for (const signal of early) child.kill(signal);
  try {
    const { code, signal } = await child.exited;
    return code ?? 128 + (signal ? os.constants.signals[signal] : 0);
  } catch (e) {
    const err = e as NsboxError;
    return fail(inFlagTerms(err.message, parsed.flags) ?? err.message, exitStatusFor(err));
  } finally {
    for (const signal of FORWARDED) process.off(signal, forward);
    clearInterval(hangupWatch);
    clearTimeout(killTimer);
  }
}

function exitStatusFor(err: NsboxError): number {
  if (err.syscall === 'execve') return err.code === 'ENOENT' ? 127 : 126;
  return 125;
}

const COMMANDS: Record<string, string> = { run: RUN_USAGE };

function main(argv: string[]): void {
  const [sub, ...rest] = argv;
  if (sub === undefined) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  if (sub === '-h' || sub === '--help' || sub === 'help') {
    const topic = sub === 'help' ? rest[0] : undefined;
    if (topic !== undefined && COMMANDS[topic] === undefined) fail(`no help for '${topic}': the commands are ${Object.keys(COMMANDS).join(', ')}`, 2);
    process.stdout.write(`${topic === undefined ? USAGE : COMMANDS[topic]}\n`);
    process.exit(0);
  }
  if (sub === '--version' || sub === '-V') {
    process.stdout.write(`${version()}\n`);
    process.exit(0);
  }
  if (sub !== 'run') fail(`unknown command '${sub}' (nsbox --help lists them)`, 2);
  run(rest).then(
    (code) => process.exit(code),
    (e: unknown) => fail(String(e)),
  );
}

main(process.argv.slice(2));
