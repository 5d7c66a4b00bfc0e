/**
 * The options of `spawnIsolated`: their types, defaults and validation. Everything a user can
 * get wrong is rejected here, with a TypeError or RangeError, before any syscall.
 * @module
 */
import os from 'os';
import path from 'path';
import { capabilitySets, type CapabilitiesOption, type CapabilitySets } from './capabilities';
import type { Namespace } from './constants';
import { invalidArgType, invalidArgValue, outOfRange } from './errors';
import { presetOptions, type Preset } from './preset';
import { resolveLimits, type LimitsOption, type ResolvedLimits } from './cgroup';
import { resolveRlimits, type ResolvedRlimit, type RlimitsOption } from './rlimits';
import { defaultNativeProfile, nativeProfile, type NativeSeccompProfile, type OciSeccomp, type SeccompOption } from './seccomp';
import { joinList, namespaceSet, time, utsName, veth } from './option-namespaces';
import { abortSignal, bool, checkArgs, checkNoNul, environment, idMap, mountSpecs, nice, optionalString, stdio, timeout } from './option-values';

/** How one of the command's fds is connected, as in `child_process`. */
export type StdioName = 'pipe' | 'inherit' | 'ignore';
/** One entry of a per-fd `stdio` array: a name, an fd of this process to pass, or the default. */
export type StdioEntry = StdioName | number | null | undefined;

/**
 * A host directory or file bound into the sandbox, recursively (bwrap's `--bind`, `--ro-bind`,
 * `--dev-bind`; `optional` is `--bind-try`). Read-only covers every mount below the source.
 */
export interface BindMount {
  type: 'bind' | 'ro-bind' | 'dev-bind';
  /** Host path. */
  source: string;
  /** Absolute path inside the sandbox; made in the rootfs if missing (a file for a file source). */
  target: string;
  /** Mount it read-only (default false; always with `ro-bind`). */
  readonly?: boolean;
  /** A missing source skips this mount instead of failing (default false). */
  optional?: boolean;
}

/** A fresh procfs (`proc`), a minimal `/dev` like the default one (`dev`), or a POSIX message queue filesystem (`mqueue`) at `target`. */
export interface KernelFsMount {
  type: 'proc' | 'dev' | 'mqueue';
  target: string;
}

/** A directory made in the sandbox (bwrap's `--dir`), parents included. */
export interface DirEntry {
  type: 'dir';
  target: string;
  /** Default 0o755. */
  mode?: number;
}

/** A symbolic link at `target` pointing to `linkTo` (bwrap's `--symlink`). */
export interface SymlinkEntry {
  type: 'symlink';
  target: string;
  linkTo: string;
}

/** A file with this content (bwrap's `--file` and `--ro-bind-data`). */
export interface FileEntry {
  type: 'file';
  target: string;
  content: string | Uint8Array;
  /** Default 0o644. */
  mode?: number;
  readonly?: boolean;
}

/** Makes an existing mount read-only, recursively (bwrap's `--remount-ro`). */
export interface RemountReadonly {
  type: 'remount-ro';
  target: string;
}

/**
 * overlayfs at `target`: `lower` layers in overlayfs order (the first is the topmost), host paths.
 * Without `upper`, a writable layer in a tmpfs whose changes vanish with the sandbox (bwrap's
 * `--tmp-overlay`); with it, `work` too (both on the same filesystem, as overlayfs wants).
 */
export interface OverlayMount {
  type: 'overlay';
  target: string;
  lower: readonly string[];
  upper?: string;
  work?: string;
}

/** Changes the mode of a path inside (bwrap's `--chmod`). */
export interface ChmodEntry {
  type: 'chmod';
  target: string;
  mode: number;
}

/** A fresh tmpfs inside the sandbox. */
export interface TmpfsMount {
  type: 'tmpfs';
  /** Absolute path inside the sandbox; it must exist in the rootfs. */
  target: string;
  /** Size limit in bytes (default: the kernel's, half of RAM). */
  size?: number;
  /** Permission bits of its root (default 0o755). */
  mode?: number;
}

/** A veth pair between the sandbox and this process's network namespace. */
export interface VethOptions {
  /** Address of this end, `a.b.c.d/prefix`. */
  host: string;
  /** Address of the end inside, `a.b.c.d/prefix`. */
  inside: string;
  /** Interface name of this end (at most 15 bytes). Default `nsb<pid>-<n>`. */
  hostName?: string;
  /** Interface name inside. Default `eth0`. */
  insideName?: string;
}

/** The namespace kinds a new sandbox can share with an existing one (see `join`). */
export type JoinableNamespace = 'mount' | 'uts' | 'ipc' | 'net' | 'cgroup' | 'time';

/** What to join: a running sandbox's handle, a pid, or a namespace file (`/proc/1234/ns/net`, or one kept by `persistNamespace`). */
export type JoinTarget = { readonly pid: number | undefined; readonly pidfd: number | undefined } | number | string;

/** Clock offsets of a time namespace, in seconds (fractions allowed, negative allowed). */
export interface TimeOffsets {
  monotonicOffset?: number;
  boottimeOffset?: number;
}

/** One line of a uid or gid map: `count` ids from `inside` map to ids from `outside` on the host. */
export interface IdMap {
  inside: number;
  outside: number;
  count: number;
}

/** An extra mount made inside the sandbox before the command starts. */
export type MountSpec = BindMount | TmpfsMount | KernelFsMount | DirEntry | SymlinkEntry | FileEntry | RemountReadonly | ChmodEntry | OverlayMount;

/** Options of {@link spawnIsolated}. Every option is optional; unknown names are a TypeError. */
export interface IsolatedOptions {
  /** New PID namespace: the command tree sees itself as PIDs 1, 2, ... Default `true`. */
  pid?: boolean;
  /** New mount namespace, private from the host. Default `true`. Required by `rootfs`, `proc`, `dev`, `mounts`. */
  mount?: boolean;
  /** New UTS namespace (hostname, domain name). Default `false`, or `true` when `hostname` is set. */
  uts?: boolean;
  /** New IPC namespace (System V IPC, POSIX message queues). Default `false`. */
  ipc?: boolean;
  /**
   * New network namespace, with only `lo`, brought up. Default `false`. With `veth`, also a veth
   * pair to this process's network namespace, addressed on both ends (configured through netlink;
   * the host end disappears with the sandbox).
   * @example net: { veth: { host: '10.200.0.1/30', inside: '10.200.0.2/30' } }
   */
  net?: boolean | { veth?: VethOptions };
  /** New cgroup namespace: the command sees its cgroup as the root. Default `false`. */
  cgroup?: boolean;
  /**
   * New time namespace (Linux 5.6+), optionally with the CLOCK_MONOTONIC and CLOCK_BOOTTIME
   * offsets, in seconds, that the command sees (`/proc/uptime` shows the boottime one).
   * Default `false`.
   */
  time?: boolean | TimeOffsets;
  /**
   * Namespaces to create, as a shorthand: `'all'` for every kind, or a list (the kinds not listed
   * are not created). The per-kind options (`pid: false`, ...) still win.
   */
  namespaces?: 'all' | readonly Namespace[];
  /**
   * Share namespaces with an existing sandbox or process instead of creating them:
   * `{ net: otherSandbox, uts: '/proc/1234/ns/uts' }`. A joined kind is not created. The user and
   * PID namespaces cannot be joined at spawn; use `sandbox.exec()` to run inside all of them.
   */
  join?: Partial<Record<JoinableNamespace, JoinTarget>>;
  /**
   * New user namespace: the command is root inside and has no privilege outside. This is what
   * lets an unprivileged user create the other namespaces. Default `false`, or `true` when a map
   * is given. Without maps, uid and gid 0 inside map to this process's euid and egid.
   */
  user?: boolean;
  /** uid map of the user namespace (several lines, or ids other than your own, need root). */
  uidMap?: readonly IdMap[];
  /** gid map of the user namespace (same rules as `uidMap`). */
  gidMap?: readonly IdMap[];
  /** Host directory to use as `/`, entered with pivot_root. Default: the host's root. */
  rootfs?: string;
  /**
   * Make the root read-only inside, every mount below it included (its own `/proc`, `/dev` and
   * `mounts` keep their flags). Without `rootfs`, the host's tree, in the sandbox's mount namespace
   * only (bwrap's `--ro-bind / /`). Default `false`.
   */
  readonlyRoot?: boolean;
  /** Mount a fresh procfs on `/proc`, so `ps` sees only the sandbox. Default: `pid && mount`. */
  proc?: boolean;
  /** Mount a minimal `/dev` (null, zero, full, random, urandom, tty, pts, shm) in the rootfs. Default: `true` with `rootfs`. */
  dev?: boolean;
  /** Extra bind and tmpfs mounts, made in order after `/proc` and `/dev` (without `rootfs`, on the host's tree, in the sandbox's mount namespace). */
  mounts?: readonly MountSpec[];
  /** Hostname inside (implies `uts: true`). */
  hostname?: string;
  /** NIS domain name inside (implies `uts: true`). */
  domainname?: string;
  /** `true` (default): a minimal init is PID 1 and runs the command as its child, reaping orphans and forwarding signals. `false`: the command itself is PID 1. */
  init?: boolean;
  /** Working directory inside the sandbox. Default: `/` with `rootfs`, else this process's cwd. */
  cwd?: string;
  /** Environment of the command. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** `argv[0]` of the command. Default: the command as given. */
  argv0?: string;
  /** `'pipe'` (default), `'inherit'`, `'ignore'`, or one entry per fd (at most 64). */
  stdio?: StdioName | readonly StdioEntry[];
  /** Kill the whole sandbox when this process dies, even by SIGKILL. Default `true`. */
  dieWithParent?: boolean;
  /** Run the command in a new session, detached from this process's terminal (CVE-2017-5226). Default `true`; set `false` to share an interactive terminal. */
  newSession?: boolean;
  /**
   * Set no_new_privs for the command (as bubblewrap always does): setuid binaries and file
   * capabilities no longer raise privileges. Default `true`; `false` must be asked for.
   */
  noNewPrivileges?: boolean;
  /**
   * The command's capabilities (bounding, permitted, effective and inheritable sets): `'default'`
   * (Podman's set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL NET_BIND_SERVICE SETFCAP SETGID SETPCAP
   * SETUID SYS_CHROOT), `'none'`, `'all'`, or a list, which is also raised into the ambient set so
   * that a command whose uid is not 0 really has it. The same inside a user namespace.
   * @example capabilities: ['CAP_NET_BIND_SERVICE']
   */
  capabilities?: CapabilitiesOption;
  /**
   * A seccomp filter for the command, installed as its last step before exec: `'default'` (nsbox's
   * profile, at least as strict as Docker's default for a container without CAP_SYS_ADMIN; see
   * docs/security.md), `false`, or an OCI `linux.seccomp` object (Docker and Podman profile files
   * work unchanged). Calls of any other architecture (i386, x32) kill the process.
   */
  seccomp?: SeccompOption;
  /**
   * Lift the default seccomp profile's namespace rules (`unshare`, `setns`, `clone` with
   * CLONE_NEW*), for container tools run inside. Default `false`.
   */
  nestedNamespaces?: boolean;
  /**
   * `'untrusted'`: the strictest sandbox this host allows, for code nobody reviewed: every
   * namespace kind (user wherever it works; a root caller's root inside is nobody outside), a
   * network with only `lo`, `capabilities: 'none'`, the default seccomp profile, no_new_privs, a
   * read-only root with a private writable `/tmp`, and an environment of only `PATH`, `HOME` and
   * `TERM`. Options given next to it win, one by one.
   * @example spawnIsolated('sh', ['-c', snippet], { preset: 'untrusted', timeout: 2000 })
   */
  preset?: Preset;
  /**
   * Make the sandbox the foreground process group of the terminal on its stdin (when stdin is a
   * terminal), for interactive shells: job control and the shell's exit then work although the
   * caller's process group is invisible from the new PID namespace. Needs `newSession: false`.
   * Default `false`.
   */
  foreground?: boolean;
  /**
   * Scheduling niceness of the whole sandbox (its setup, its init and everything the command
   * starts), -20 to 19, as nice(1) sets it. A positive value keeps a busy sandbox from taking CPU
   * time from this process's event loop, and needs no privilege; a value below this process's
   * needs CAP_SYS_NICE. Default: this process's niceness.
   */
  nice?: number;
  /**
   * Diagnostics: the sandbox emits `trace` events, `{ step, microseconds }`, for each setup step
   * and for starting the command, timed inside. Default `false`.
   */
  trace?: boolean;
  /** Aborting it kills the sandbox with `killSignal`; `exited` rejects with an AbortError. */
  signal?: AbortSignal;
  /** Milliseconds after which the sandbox gets `killSignal`. Default: none. */
  timeout?: number;
  /** Signal for `timeout`, `signal` and `kill()` without an argument. Default `'SIGTERM'`. */
  killSignal?: NodeJS.Signals | number;
  /**
   * After `timeout` sent `killSignal`, SIGKILL follows this many milliseconds later if the
   * command is still alive (one that traps SIGTERM cannot outlive its timeout). Default 2000;
   * `false` to wait for it.
   */
  forceKillAfter?: number | false;
  /**
   * setrlimit(2) for the command and everything it starts: `{ nofile: 256, cpu: [10, 11], as: 1 << 30 }`,
   * each a number (soft = hard) or `[soft, hard]`, `Infinity` for unlimited. Seconds for `cpu`,
   * bytes for `as`, `data`, `fsize`, `stack`, `core`, `memlock`, counts for `nofile`, `nproc`.
   * @example rlimits: { nofile: 64, nproc: 32, cpu: 5 }
   */
  rlimits?: RlimitsOption;
  /**
   * cgroup limits for the whole sandbox (setup included): `memory` and `memorySwap` in bytes,
   * `pids`, `cpu` in cores. A cgroup is made below this process's own (per hierarchy), entered
   * before the helper runs, and removed once the sandbox is gone; see docs/limits.md.
   * @example limits: { memory: 256 << 20, pids: 64, cpu: 0.5 }
   */
  limits?: LimitsOption;
  /**
   * The user the command runs as inside (as `child_process`'s `uid`/`gid`, bwrap's `--uid`/`--gid`).
   * Rootless, the single-id map follows it: `user: true, uid: 1000` maps 1000 inside to you.
   * A command whose uid is not 0 keeps no capability unless `capabilities` lists it. Default 0.
   */
  uid?: number;
  /** The group inside. Default: `uid`'s number, else 0. */
  gid?: number;
  /** Supplementary groups inside (needs maps written by root). Default: none (the setup's). */
  groups?: readonly number[];
}

/** A veth request after validation. */
export interface ResolvedVeth {
  hostName: string;
  insideName: string;
  hostAddress: string;
  hostPrefix: number;
  insideAddress: string;
  insidePrefix: number;
}

/** Options after validation, with every default filled in. */
export interface ResolvedOptions {
  /** The command's arguments, as validated (a copy). */
  args: string[];
  pid: boolean;
  mount: boolean;
  uts: boolean;
  ipc: boolean;
  net: boolean;
  veth: ResolvedVeth | undefined;
  cgroup: boolean;
  /** Namespaces the clone child setns() into, in order (all joinable kinds but time). */
  join: [Exclude<JoinableNamespace, 'time'>, JoinTarget][];
  /** The time namespace to join, if any (the helper enters it: see `helperJoins`). */
  timeJoin: JoinTarget | undefined;
  /**
   * Namespace files the helper itself enters, first thing, while the host's /proc still names
   * them: the time namespace (the clone child cannot enter one: it shares Node's memory) and, for
   * exec, the mount namespace after it. Filled in at the start (sandbox.ts `refine`), when the
   * sandboxes they name are set up.
   */
  helperJoins: { kind: 'time' | 'mount'; file: string }[];
  /** undefined: no time namespace; else the timens_offsets text ('' for none). */
  timeOffsets: string | undefined;
  user: boolean;
  uidMap: IdMap[];
  gidMap: IdMap[];
  rootfs: string | undefined;
  readonlyRoot: boolean;
  proc: boolean;
  dev: boolean;
  mounts: MountSpec[];
  hostname: string | undefined;
  domainname: string | undefined;
  init: boolean;
  cwd: string | undefined;
  /** `KEY=value` strings, or undefined to pass this process's environment as it is. */
  env: string[] | undefined;
  argv0: string;
  /** One entry per fd: 'pipe', 'ignore', or an fd of this process. */
  stdio: ('pipe' | 'ignore' | number)[];
  dieWithParent: boolean;
  newSession: boolean;
  foreground: boolean;
  nice: number | undefined;
  noNewPrivileges: boolean;
  capabilities: CapabilitySets;
  /** The seccomp profile to compile, or undefined for none. */
  seccomp: NativeSeccompProfile | undefined;
  /** Mask and make read-only the OCI default /proc paths (a mount namespace, and no CAP_SYS_ADMIN). */
  maskProc: boolean;
  trace: boolean;
  signal: AbortSignal | undefined;
  timeout: number | undefined;
  killSignal: number;
  /** Milliseconds from the timeout's signal to SIGKILL, or undefined for none. */
  forceKillAfter: number | undefined;
  rlimits: ResolvedRlimit[];
  limits: ResolvedLimits | undefined;
  /** The user the command runs as inside, when not root. */
  identity: { uid: number; gid: number; groups: number[] | undefined } | undefined;
}


const KNOWN: ReadonlySet<string> = new Set([
  'pid', 'mount', 'uts', 'ipc', 'net', 'cgroup', 'time', 'namespaces', 'join', 'user', 'uidMap', 'gidMap', 'rootfs', 'readonlyRoot', 'proc', 'dev',
  'mounts', 'hostname', 'domainname', 'init', 'cwd', 'env',
  'argv0', 'stdio', 'dieWithParent', 'newSession', 'foreground', 'nice', 'noNewPrivileges', 'capabilities', 'seccomp', 'nestedNamespaces', 'preset',
  'trace', 'signal', 'timeout', 'killSignal', 'forceKillAfter', 'rlimits', 'limits', 'uid', 'gid', 'groups',
]);


/** Validates the command, its arguments and the options, and fills in the defaults. */
export function resolveOptions(command: unknown, args: unknown, options: unknown): ResolvedOptions {
  if (typeof command !== 'string' || command.length === 0) throw invalidArgType('command', 'a non-empty string', command);
  checkNoNul('command', command);
  const argv = checkArgs(args);
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) throw invalidArgType('options', 'an object', options);
  // Each option is read once, here: what is validated is what runs, whatever a getter or a
  // Proxy would return on the next read.
  const o: Record<string, unknown> = {};
  const given = options as Record<string, unknown>;
  // A preset is options: those given next to it win, one by one.
  const preset = Object.hasOwn(given, 'preset') ? given.preset : undefined;
  if (preset !== undefined) Object.assign(o, presetOptions(preset));
  for (const key of Object.keys(options as object)) {
    if (!KNOWN.has(key)) {
      throw Object.assign(new TypeError(`Unknown option "${key}" (known: ${[...KNOWN].join(', ')})`), {
        code: 'ERR_NSBOX_UNKNOWN_OPTION',
      });
    }
    if (key !== 'preset') o[key] = given[key];
  }
  const join = joinList(o.join);
  const joined = new Set(join.map(([kind]) => kind));
  const wanted = namespaceSet(o.namespaces);
  const pid = bool(o, 'pid', wanted?.has('pid') ?? true);
  const mount = bool(o, 'mount', wanted?.has('mount') ?? !joined.has('mount'));
  const hostname = utsName(o, 'hostname');
  const domainname = utsName(o, 'domainname');
  const uts = bool(o, 'uts', (wanted?.has('uts') ?? false) || hostname !== undefined || domainname !== undefined);
  for (const [name, value] of [['hostname', hostname], ['domainname', domainname]] as const) {
    if (value !== undefined && !uts) throw invalidArgValue(name, 'needs a UTS namespace (uts: true)');
  }
  const timeOffsets = time(o.time, wanted?.has('time') ?? false);
  const uidMapRaw = idMap(o.uidMap, 'uidMap');
  const gidMapRaw = idMap(o.gidMap, 'gidMap');
  const user = bool(o, 'user', (wanted?.has('user') ?? false) || uidMapRaw !== undefined || gidMapRaw !== undefined);
  if (!user && (uidMapRaw || gidMapRaw)) throw invalidArgValue(uidMapRaw ? 'uidMap' : 'gidMap', 'needs a user namespace (user: true)');
  const rootfsRaw = optionalString(o, 'rootfs');
  const rootfs = rootfsRaw === undefined ? undefined : path.resolve(rootfsRaw);
  const proc = bool(o, 'proc', pid && mount);
  const dev = bool(o, 'dev', rootfs !== undefined && mount);
  const mounts = mountSpecs(o.mounts);
  if (!mount) {
    for (const [name, on] of [['rootfs', rootfs !== undefined], ['proc', proc], ['dev', dev], ['mounts', mounts.length > 0]] as const) {
      if (on) throw invalidArgValue(name, 'needs a mount namespace (mount: true)');
    }
  }
  if (dev && rootfs === undefined) throw invalidArgValue('dev', 'needs a rootfs (the host /dev is used without one)');
  checkWritesStayInside(mounts, rootfs);
  const readonlyRoot = bool(o, 'readonlyRoot', false);
  if (readonlyRoot && !mount) throw invalidArgValue('readonlyRoot', 'needs a mount namespace (mount: true)');
  // One source for what is created: the conflict check and the result read the same values.
  const ipc = bool(o, 'ipc', wanted?.has('ipc') ?? false);
  if (o.net !== undefined && typeof o.net !== 'boolean' && (typeof o.net !== 'object' || o.net === null || Array.isArray(o.net))) {
    throw invalidArgType('net', 'a boolean or { veth }', o.net);
  }
  const net = o.net === undefined ? (wanted?.has('net') ?? false) : o.net !== false;
  const cgroup = bool(o, 'cgroup', wanted?.has('cgroup') ?? false);
  const created = { mount, uts, ipc, net, cgroup, time: timeOffsets !== undefined };
  for (const kind of joined) {
    if (created[kind]) throw invalidArgValue(`join.${kind}`, `conflicts with creating a ${kind} namespace (${kind}: true, or listed in namespaces)`);
  }
  if (joined.has('mount') && (rootfs !== undefined || proc)) throw invalidArgValue('join.mount', 'cannot be combined with rootfs or proc (set proc: false)');
  const newSession = bool(o, 'newSession', true);
  const foreground = bool(o, 'foreground', false);
  if (foreground && newSession) throw invalidArgValue('foreground', 'needs the terminal shared (newSession: false)');
  const capabilities = capabilitySets(o.capabilities);
  const identity = identityOf(o);
  // An ordinary user inside gets no supplementary group of the setup's (root's) unless given,
  // wherever groups can be set at all (not in a user namespace of one's own ids).
  const ownIdsOnly = user && uidMapRaw === undefined;
  if (identity && identity.groups === undefined && !ownIdsOnly) identity.groups = [];
  if (identity?.groups?.length && ownIdsOnly) {
    throw invalidArgValue('groups', 'needs maps written by a privileged parent (uidMap, gidMap): a user namespace of your own ids cannot set groups');
  }
  if (identity && user && uidMapRaw && !uidMapRaw.some((l) => l.inside === 0)) {
    throw invalidArgValue('uidMap', 'must map 0 inside when uid is given with your own maps (nsbox sets up the sandbox as its root)');
  }
  const noNewPrivileges = bool(o, 'noNewPrivileges', true);
  const cwd = optionalString(o, 'cwd');
  const argv0 = optionalString(o, 'argv0') ?? command;
  return {
    args: argv,
    pid,
    mount,
    uts,
    ipc,
    net,
    veth: veth(o.net),
    cgroup,
    join: join.filter((j): j is [Exclude<JoinableNamespace, 'time'>, JoinTarget] => j[0] !== 'time'),
    timeJoin: join.find(([kind]) => kind === 'time')?.[1],
    helperJoins: [],
    timeOffsets,
    user,
    // Rootless, the single-id map follows the user asked for: uid inside is the caller outside.
    uidMap: user ? (uidMapRaw ?? [{ inside: identity?.uid ?? 0, outside: process.geteuid?.() ?? 0, count: 1 }]) : [],
    gidMap: user ? (gidMapRaw ?? [{ inside: identity?.gid ?? 0, outside: process.getegid?.() ?? 0, count: 1 }]) : [],
    identity,
    rootfs,
    readonlyRoot,
    proc,
    dev,
    mounts,
    hostname,
    domainname,
    init: bool(o, 'init', true),
    cwd: cwd === undefined ? undefined : path.posix.resolve(rootfs === undefined ? process.cwd() : '/', cwd),
    env: environment(o.env),
    argv0,
    stdio: stdio(o.stdio),
    dieWithParent: bool(o, 'dieWithParent', true),
    newSession,
    foreground,
    nice: nice(o.nice),
    noNewPrivileges,
    capabilities,
    seccomp: seccompProfile(o.seccomp, capabilities, bool(o, 'nestedNamespaces', false)),
    maskProc: mount && !capabilities.names.includes('CAP_SYS_ADMIN'),
    trace: bool(o, 'trace', false),
    signal: abortSignal(o.signal),
    timeout: timeout(o.timeout),
    killSignal: o.killSignal === undefined ? os.constants.signals.SIGTERM : signalNumber(o.killSignal, 'killSignal'),
    forceKillAfter: forceKillAfter(o.forceKillAfter),
    rlimits: resolveRlimits(o.rlimits),
    limits: resolveLimits(o.limits),
  };
}

function id(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xfffffffe) throw outOfRange(name, 'an integer from 0 to 4294967294', v);
  return v;
}

/** `uid`, `gid`, `groups`: undefined when none is given. */
function identityOf(o: Record<string, unknown>): ResolvedOptions['identity'] {
  const uid = id('uid', o.uid);
  const gid = id('gid', o.gid);
  const raw = o.groups;
  if (raw !== undefined && (!Array.isArray(raw) || raw.length > 64)) throw invalidArgType('groups', 'an array of at most 64 group ids', raw);
  const groups = raw === undefined ? undefined : (raw as unknown[]).map((g, i) => id(`groups[${i}]`, g) as number);
  if (uid === undefined && gid === undefined && groups === undefined) return undefined;
  return { uid: uid ?? 0, gid: gid ?? uid ?? 0, groups };
}

/**
 * `dir`, `file`, `symlink` and `chmod` entries write where they point: in a rootfs directory of
 * its own that is the sandbox's, but in the host's tree (no rootfs, or `rootfs: '/'`) it would
 * be the host's files, unless an earlier entry mounted a filesystem of the sandbox's own there
 * (`{ rootfs: '/', mounts: [tmpfs /tmp, file /tmp/x] }` is fine).
 */
function checkWritesStayInside(mounts: readonly MountSpec[], rootfs: string | undefined): void {
  if (rootfs !== undefined && rootfs !== '/') return;
  const own: string[] = [];
  const under = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
  mounts.forEach((m, i) => {
    if (m.type === 'tmpfs' || m.type === 'overlay' || m.type === 'dev' || m.type === 'proc' || m.type === 'mqueue') own.push(m.target);
    if ((m.type === 'dir' || m.type === 'file' || m.type === 'symlink' || m.type === 'chmod') && !own.some((d) => under(m.target, d))) {
      throw invalidArgValue(`mounts[${i}]`, `(${m.type} ${m.target}) would change the host's own files: give a rootfs directory, or mount a tmpfs there first`);
    }
  });
}

/** The `forceKillAfter` option: milliseconds, or undefined for `false`. */
function forceKillAfter(v: unknown): number | undefined {
  if (v === false) return undefined;
  if (v === undefined) return 2000;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) throw outOfRange('forceKillAfter', 'an integer number of milliseconds from 0 to 2**31 - 1, or false', v);
  return v;
}

/** The `seccomp` option as the profile to compile (undefined: none). */
function seccompProfile(v: unknown, caps: CapabilitySets, nestedNamespaces: boolean): NativeSeccompProfile | undefined {
  if (v === false) return undefined;
  const held = new Set(caps.names);
  if (v === undefined || v === 'default') return defaultNativeProfile(nestedNamespaces);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgType('seccomp', "'default', false or an OCI linux.seccomp object", v);
  return nativeProfile(v as OciSeccomp, held);
}

/** The number of a signal given by name (`'SIGTERM'`) or number; throws for unknown ones. */
export function signalNumber(signal: unknown, name = 'signal'): number {
  if (typeof signal === 'number') {
    if (!Number.isInteger(signal) || signal < 0 || signal > 64) throw outOfRange(name, 'a signal number from 0 to 64', signal);
    return signal;
  }
  if (typeof signal === 'string') {
    const n = (os.constants.signals as Record<string, number>)[signal];
    if (n === undefined) throw Object.assign(new TypeError(`Unknown signal: ${signal}`), { code: 'ERR_UNKNOWN_SIGNAL' });
    return n;
  }
  throw invalidArgType(name, 'a signal name or number', signal);
}
