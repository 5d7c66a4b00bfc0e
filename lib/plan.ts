/**
 * Options become a plan: a flat list of setup steps (bubblewrap's SetupOp idea) that the helper
 * executes in order inside the new namespaces. Built and validated completely here, so a failure
 * inside can name its step, and so the plan can be tested without running anything.
 * @module
 */
import os from 'os';
import { CLONE_FLAGS, MOUNT_FLAGS, WIRE } from './constants';
import type { MountSpec, ResolvedOptions } from './options';
import type { UsernsRequest } from './userns';

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** One setup step, as data. */
export interface PlanStep {
  op: keyof typeof WIRE.op;
  /** Text, or bytes (a seccomp program). */
  strings: (string | Uint8Array)[];
  /** Op-specific number (mkdir mode, exec argc). */
  a: number;
  /** Op-specific bits (NSBOX_IN_ROOT). */
  b: number;
  /** mount(2) flags for mount steps. */
  flags: number;
  /** The step in words, used in error messages: `mount proc on /proc`. */
  describe: string;
  /** The path an error in this step is about. */
  path: string | undefined;
}

/** What the helper runs inside the new namespaces (the request's second part, see request.ts). */
export interface Plan {
  /** `WIRE.options` bits. */
  options: number;
  steps: PlanStep[];
}

const MS = MOUNT_FLAGS;
/** The devices of a minimal /dev, with their (fixed, Linux-wide) major/minor numbers. */
const DEVICES: readonly [string, number, number][] = [
  ['null', 1, 3],
  ['zero', 1, 5],
  ['full', 1, 7],
  ['random', 1, 8],
  ['urandom', 1, 9],
  ['tty', 5, 0],
];

/** The kernel's dev_t encoding (new_encode_dev), as glibc's makedev. */
function makedev(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12);
}

function step(op: PlanStep['op'], describe: string, strings: PlanStep['strings'], extra: Partial<PlanStep> = {}): PlanStep {
  return { op, strings, a: 0, b: 0, flags: 0, describe, path: undefined, ...extra };
}

function mountStep(source: string, target: string, fstype: string, flags: number, data: string, describe: string, inRoot: boolean): PlanStep {
  return step('mount', describe, [source, target, fstype, data], { flags, b: inRoot ? WIRE.inRoot : 0, path: target });
}

/** The minimal /dev bubblewrap's --dev makes: a tmpfs with device binds, devpts, shm and the usual links. */
function devSteps(at = '/dev'): PlanStep[] {
  const steps = [mountStep('tmpfs', at, 'tmpfs', MS.nosuid, 'mode=0755', `mount tmpfs on ${at}`, true)];
  for (const [dev, major, minor] of DEVICES) {
    // The device bound from the host's /dev where mknod is refused (a user namespace).
    steps.push(step('device', `create ${at}/${dev}`, [`${at}/${dev}`, `/dev/${dev}`], { b: WIRE.inRoot, flags: makedev(major, minor), path: `${at}/${dev}` }));
  }
  // /dev is already a tmpfs: shm needs no mount of its own, only the sticky, world-writable mode.
  steps.push(step('mkdir', `create ${at}/pts`, [`${at}/pts`], { a: 0o755, b: WIRE.inRoot, path: `${at}/pts` }));
  steps.push(step('mkdir', `create ${at}/shm`, [`${at}/shm`], { a: 0o1777, b: WIRE.inRoot, path: `${at}/shm` }));
  steps.push(mountStep('devpts', `${at}/pts`, 'devpts', MS.nosuid | MS.noexec, 'newinstance,ptmxmode=0666,mode=620', `mount devpts on ${at}/pts`, true));
  const links: [string, string][] = [
    ['/proc/self/fd', `${at}/fd`],
    ['/proc/self/fd/0', `${at}/stdin`],
    ['/proc/self/fd/1', `${at}/stdout`],
    ['/proc/self/fd/2', `${at}/stderr`],
    ['pts/ptmx', `${at}/ptmx`],
  ];
  for (const [target, link] of links) {
    steps.push(step('symlink', `link ${link} to ${target}`, [target, link], { b: WIRE.inRoot, path: link }));
  }
  return steps;
}

/** Steps that are the same in every plan: built, frozen and encoded once (see encodePlan). */
function constant(step: PlanStep): PlanStep {
  Object.freeze(step.strings);
  return Object.freeze(step);
}
const DEV_STEPS = devSteps().map(constant);

/**
 * /proc as the OCI runtimes leave it to a container (runtime-spec's default maskedPaths and
 * readonlyPaths): what reads kernel memory, keys, timers and scheduler internals masked, and the
 * sysctl, bus, fs, irq and sysrq files read-only (the classic ways to run code on the host:
 * core_pattern, sysrq-trigger).
 */
const MASKED_PATHS = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi'];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function maskSteps(inRoot: boolean): PlanStep[] {
  const b = inRoot ? WIRE.inRoot : 0;
  return [
    ...MASKED_PATHS.map((p) => step('mask', `mask ${p}`, [p], { b, path: p })),
    ...READONLY_PATHS.map((p) => step('mask', `make ${p} read-only`, [p], { a: 1, b, path: p })),
  ];
}
const MASK_STEPS_IN_ROOT = maskSteps(true).map(constant);
const MASK_STEPS = maskSteps(false).map(constant);
const ENSURE_PROC = constant(ensureTarget('/proc', '', 'make /proc in the rootfs'));
const ENSURE_DEV = constant(ensureTarget('/dev', '', 'make /dev in the rootfs'));
const KEYRING_STEP = constant(step('keyring', 'join a session keyring of its own', []));
const PROC_STEP_IN_ROOT = constant(mountStep('proc', '/proc', 'proc', MS.nosuid | MS.nodev | MS.noexec, '', 'mount proc on /proc', true));
const PROC_STEP = constant(mountStep('proc', '/proc', 'proc', MS.nosuid | MS.nodev | MS.noexec, '', 'mount proc on /proc', false));
const PRIVATE_ROOT_STEP = constant(mountStep('', '/', '', MS.rec | MS.private, '', 'make / private (no propagation to the host)', false));

/** Makes `target` in the new root if it is missing (a file when `source` is one), parents included. */
function ensureTarget(target: string, source: string, describe: string, skipIfMissing = 0, create = true): PlanStep {
  return step('ensure', describe, [target, source], {
    a: 0o755,
    b: WIRE.inRoot | (skipIfMissing > 0 ? WIRE.optional : 0) | (create ? WIRE.create : 0),
    flags: skipIfMissing,
    path: source || target,
  });
}

const dirname = (p: string): string => p.slice(0, p.lastIndexOf('/')) || '/';

/**
 * The steps of one `mounts` entry, each named `mounts[i]: ...` in errors. `create`: missing
 * targets may be made (in a rootfs directory; never in the host's own tree).
 */
function userMountSteps(spec: MountSpec, i: number, create: boolean): PlanStep[] {
  const at = `mounts[${i}]`;
  const target = spec.target;
  const ensureStep = (t: string, source: string, describe: string, skip = 0): PlanStep => ensureTarget(t, source, describe, skip, create);
  switch (spec.type) {
    case 'tmpfs': {
      const data = [spec.size === undefined ? '' : `size=${spec.size}`, `mode=${(spec.mode ?? 0o755).toString(8)}`].filter(Boolean).join(',');
      const words = `${at}: tmpfs on ${target}`;
      return [ensureStep(target, '', words), mountStep('tmpfs', target, 'tmpfs', MS.nosuid | MS.nodev, data, words, true)];
    }
    case 'proc':
    case 'mqueue': {
      const words = `${at}: ${spec.type} on ${target}`;
      return [ensureStep(target, '', words), mountStep(spec.type, target, spec.type, MS.nosuid | MS.nodev | MS.noexec, '', words, true)];
    }
    case 'dir': {
      const words = `${at}: dir ${target}`;
      return [ensureStep(target, '', words), step('chmod', words, [target], { a: spec.mode ?? 0o755, b: WIRE.inRoot, path: target })];
    }
    case 'symlink': {
      const words = `${at}: symlink ${target} -> ${spec.linkTo}`;
      return [ensureStep(dirname(target), '', words), step('symlink', words, [spec.linkTo, target], { b: WIRE.inRoot, path: target })];
    }
    case 'file': {
      const words = `${at}: file ${target}`;
      const content = typeof spec.content === 'string' ? Buffer.from(spec.content, 'utf8') : spec.content;
      const steps = [ensureStep(dirname(target), '', words), step('writeFile', words, [target, content], { a: spec.mode ?? 0o644, flags: content.length, b: WIRE.inRoot, path: target })];
      if (spec.readonly) steps.push(step('mask', `${at}: make ${target} read-only`, [target], { a: 1, b: WIRE.inRoot, path: target }));
      return steps;
    }
    case 'remount-ro':
      return [readonlyStep(target, `${at}: remount ${target} read-only`)];
    case 'dev':
      return [ensureStep(target, '', `${at}: dev on ${target}`), ...devSteps(target)];
    case 'overlay': {
      const words = `${at}: overlay ${spec.lower.join(':')} on ${target}`;
      // overlayfs reads ':' and ',' as separators and '\\' as its escape.
      const lower = spec.lower.map((l) => l.replace(/[\\:,]/g, (c) => `\\${c}`)).join(':');
      return [ensureStep(target, '', words), step('overlay', words, [target, lower, spec.upper ?? '', spec.work ?? ''], { b: WIRE.inRoot, path: target })];
    }
    case 'chmod':
      return [step('chmod', `${at}: chmod ${spec.mode.toString(8)} ${target}`, [target], { a: spec.mode, b: WIRE.inRoot, path: target })];
    default: {
      // bind, ro-bind, dev-bind: recursive; read-only for the whole subtree, which came along.
      const words = `${at}: ${spec.type} ${spec.source} on ${target}`;
      const steps = [mountStep(spec.source, target, '', MS.bind | MS.rec, '', words, true)];
      if (spec.readonly) steps.push(readonlyStep(target, `${at}: make ${target} read-only`));
      return [ensureStep(target, spec.source, words, spec.optional ? steps.length : 0), ...steps];
    }
  }
}

/** Read-only for the mount at `target` and every mount below it, its locked flags kept. */
function readonlyStep(target: string, describe: string): PlanStep {
  return step('readonly', describe, [target], { b: WIRE.inRoot, path: target });
}

function rootfsSteps(o: ResolvedOptions, rootfs: string): PlanStep[] {
  // '/': the host's tree, copied whole as the new root (the helper's open_tree + move_mount);
  // a directory: bound onto itself, which pivot_root needs.
  const host = rootfs === '/';
  const steps = host
    ? [step('openRoot', "copy the host's mount tree as the new root", ['/'], { path: '/' })]
    : [
        step('mount', `bind rootfs ${rootfs} onto itself`, [rootfs, rootfs, '', ''], { flags: MS.bind | MS.rec, path: rootfs }),
        step('openRoot', `open rootfs ${rootfs}`, [rootfs], { path: rootfs }),
      ];
  // An empty rootfs gets its /proc and /dev, before it may turn read-only.
  if (o.proc) steps.push(ENSURE_PROC);
  if (o.dev) steps.push(ENSURE_DEV);
  // Before anything is mounted on it: the mounts made after keep their own flags.
  if (o.readonlyRoot) steps.push(readonlyStep('/', `make rootfs ${rootfs} read-only`));
  if (o.proc) steps.push(PROC_STEP_IN_ROOT);
  if (o.maskProc) steps.push(...MASK_STEPS_IN_ROOT);
  if (o.dev) steps.push(...DEV_STEPS);
  for (const [i, spec] of o.mounts.entries()) steps.push(...userMountSteps(spec, i, !host));
  steps.push(step('pivotRoot', `pivot_root into ${rootfs}`, [], { path: rootfs }));
  return steps;
}

/**
 * Turns validated options into the plan the helper runs. Pure: no syscalls. `userns` is the
 * request's user namespace part (maps written by the parent make the helper wait for them).
 */
export function buildPlan(command: string, args: readonly string[], o: ResolvedOptions, userns: UsernsRequest | undefined, seccomp?: Uint8Array): Plan {
  const steps: PlanStep[] = [];
  // First of all, so that the setup too runs at the sandbox's priority.
  if (o.nice !== undefined) steps.push(step('setpriority', `set niceness to ${o.nice}`, [], { a: o.nice }));
  // First, while the host's /proc is still there to name the namespace by.
  for (const { kind, file } of o.helperJoins) {
    steps.push(step('joinNs', `join the ${kind} namespace of ${file}`, [file], { a: CLONE_FLAGS[kind], path: file }));
  }
  if (o.mount) {
    // First, before anything is mounted: nothing we do may propagate back to the host.
    steps.push(PRIVATE_ROOT_STEP);
    if (o.rootfs !== undefined) {
      steps.push(...rootfsSteps(o, o.rootfs));
    } else {
      // The host's tree, as bwrap's --ro-bind / /: read-only in this mount namespace only.
      if (o.readonlyRoot) steps.push(readonlyStep('/', "make the host's root read-only in the sandbox"));
      if (o.proc) steps.push(PROC_STEP);
      if (o.maskProc) steps.push(...MASK_STEPS);
      for (const [i, spec] of o.mounts.entries()) steps.push(...userMountSteps(spec, i, false));
    }
  }
  if (o.net) steps.push(step('loopbackUp', 'bring up lo', []));
  if (o.veth) {
    const { insideName, insideAddress, insidePrefix } = o.veth;
    steps.push(step('ifaceUp', `configure ${insideName} as ${insideAddress}/${insidePrefix}`, [insideName, insideAddress], { a: insidePrefix }));
  }
  if (o.hostname !== undefined) steps.push(step('sethostname', `set hostname to ${o.hostname}`, [o.hostname]));
  if (o.domainname !== undefined) steps.push(step('setdomainname', `set domain name to ${o.domainname}`, [o.domainname]));
  if (o.timeOffsets !== undefined) steps.push(step('timeNs', 'create time namespace', [o.timeOffsets]));
  if (o.cwd !== undefined) steps.push(step('chdir', `chdir to ${o.cwd}`, [o.cwd], { path: o.cwd }));
  steps.push(KEYRING_STEP);
  for (const r of o.rlimits) steps.push(step('rlimit', `limit ${r.name} to ${r.soft === r.hard ? r.soft : `${r.soft} (hard ${r.hard})`}`, [r.soft, r.hard], { a: r.resource }));
  if (o.identity) {
    const { uid, gid, groups } = o.identity;
    steps.push(step('identity', `become uid ${uid} gid ${gid}${groups ? ` groups ${groups.join(',') || '(none)'}` : ''}`, [groups?.join(',') ?? ''], { a: uid, flags: gid, b: groups ? 1 : 0 }));
  }
  // What the command may do, applied in its own process right before exec (seccomp last).
  const { mask, ambient, names } = o.capabilities;
  steps.push(step('caps', `keep capabilities ${names.length === 0 ? '(none)' : names.join(' ')}`, [], { flags: mask[0] + mask[1] * 2 ** 32, a: ambient ? 1 : 0 }));
  if (seccomp) steps.push(step('seccomp', 'install the seccomp filter', [seccomp], { a: seccomp.length }));
  steps.push(step('exec', `execute ${command}`, [command, o.argv0, ...args, ...(o.env ?? [])], { a: args.length + 1, path: command }));

  let options = 0;
  if (o.init) options |= WIRE.options.init;
  if (o.newSession) options |= WIRE.options.setsid;
  if (o.foreground) options |= WIRE.options.foreground;
  if (o.env === undefined) options |= WIRE.options.inheritEnv;
  if (o.trace) options |= WIRE.options.trace;
  if (o.noNewPrivileges) options |= WIRE.options.noNewPrivs;
  if (o.dieWithParent) options |= WIRE.options.dieWithParent;
  if (!o.pid) options |= WIRE.options.subreaper;
  if (userns?.writer === 'parent') options |= WIRE.options.becomeRoot;
  if (userns?.writer === 'parent' || o.veth) options |= WIRE.options.waitParent;
  return { options, steps };
}

/** The encoded size of a string: u32 length, the bytes, a NUL. */
export function stringSize(text: string | Uint8Array): number {
  if (typeof text !== 'string') return 4 + text.length + 1;
  return text.length === 0 ? 5 : 4 + Buffer.byteLength(text, 'utf8') + 1;
}

/** Writes a string as steps hold them; returns the offset after it. */
export function writeString(out: Buffer, text: string | Uint8Array, at: number): number {
  if (typeof text !== 'string') {
    at = writeU32(out, text.length, at);
    out.set(text, at);
    at += text.length;
    out[at++] = 0;
    return at;
  }
  if (text.length === 0) {
    // Most of a request's strings are empty (no maps, no veth): no encoder call for them.
    at = writeU32(out, 0, at);
    out[at++] = 0;
    return at;
  }
  const length = out.write(text, at + 4, 'utf8');
  writeU32(out, length, at);
  at += 4 + length;
  out[at++] = 0;
  return at;
}

function stepSize(s: PlanStep): number {
  let size = 24;
  for (const text of s.strings) size += stringSize(text);
  return size;
}

/** Writes a u32 in the host's byte order; returns the offset after it. */
export function writeU32(out: Buffer, v: number, at: number): number {
  return LITTLE_ENDIAN ? out.writeUInt32LE(v >>> 0, at) : out.writeUInt32BE(v >>> 0, at);
}

/** Writes one step at `at` in the layout of src/sys/wire.h; returns the offset after it. */
function writeStep(out: Buffer, s: PlanStep, at: number): number {
  at = writeU32(out, WIRE.op[s.op], at);
  at = writeU32(out, s.strings.length, at);
  at = writeU32(out, s.a, at);
  at = writeU32(out, s.b, at);
  // flags is a uint64: mount flags and dev_t both fit in 53 bits.
  const high = Math.floor(s.flags / 2 ** 32);
  at = LITTLE_ENDIAN ? writeU32(out, high, writeU32(out, s.flags, at)) : writeU32(out, s.flags, writeU32(out, high, at));
  for (const text of s.strings) at = writeString(out, text, at);
  return at;
}

/** The bytes of each frozen (same in every plan) step, made on first use. */
const encodedConstants = new Map<PlanStep, Buffer>();

function encodedConstant(s: PlanStep): Buffer {
  let bytes = encodedConstants.get(s);
  if (!bytes) {
    bytes = Buffer.alloc(stepSize(s));
    writeStep(bytes, s, 0);
    encodedConstants.set(s, bytes);
  }
  return bytes;
}

/** The encoded size of a plan, in bytes. */
export function planSize(plan: Plan): number {
  let size = 16;
  for (const s of plan.steps) size += Object.isFrozen(s) ? encodedConstant(s).length : stepSize(s);
  return size;
}

/**
 * Writes a plan at `at` in the layout of src/sys/wire.h; returns the offset after it. Strings are
 * written in place and the steps every plan shares copied from their bytes made once: this runs
 * on Node's thread for every spawn (measured: 37 -> 8 us).
 */
export function writePlan(out: Buffer, at: number, plan: Plan): number {
  at = writeU32(out, WIRE.magic, at);
  at = writeU32(out, WIRE.version, at);
  at = writeU32(out, plan.options, at);
  at = writeU32(out, plan.steps.length, at);
  for (const s of plan.steps) at = Object.isFrozen(s) ? at + encodedConstant(s).copy(out, at) : writeStep(out, s, at);
  return at;
}

/** Serializes a plan alone (tests and the fuzzer's corpus; a spawn encodes the whole request). */
export function encodePlan(plan: Plan): Uint8Array {
  const out = Buffer.allocUnsafe(planSize(plan));
  writePlan(out, 0, plan);
  return out;
}
