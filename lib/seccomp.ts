/**
 * The `seccomp` option: nsbox's default profile, OCI `linux.seccomp` objects (the format Docker,
 * Podman and Kubernetes profiles are written in, including Docker's `archMap`, `includes` and
 * `excludes`), validated here and compiled by the addon with libseccomp, once per distinct
 * profile (see docs/security.md).
 * @module
 */
import os from 'os';
import type { Capability } from './capabilities';
import { invalidArgType, invalidArgValue, outOfRange } from './errors';

/** A seccomp action, as the OCI runtime spec spells it. */
export type OciSeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG';

/** An argument comparison of an OCI seccomp rule. */
export interface OciSeccompArg {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';
}

/** Docker's conditions on a rule: capabilities the sandbox has, its architecture, the kernel. */
export interface OciSeccompFilter {
  caps?: readonly string[];
  arches?: readonly string[];
  minKernel?: string;
}

/** One rule of an OCI seccomp profile. */
export interface OciSeccompRule {
  names?: readonly string[];
  /** The older, single-name form. */
  name?: string;
  action: OciSeccompAction;
  errnoRet?: number;
  args?: readonly OciSeccompArg[];
  includes?: OciSeccompFilter;
  excludes?: OciSeccompFilter;
  comment?: string;
}

/** The `linux.seccomp` object of an OCI runtime config (and of Docker's profile files). */
export interface OciSeccomp {
  defaultAction: OciSeccompAction;
  defaultErrnoRet?: number;
  architectures?: readonly string[];
  /** Docker's form: per native architecture, the sub-architectures it adds. */
  archMap?: readonly { architecture: string; subArchitectures?: readonly string[] }[];
  syscalls?: readonly OciSeccompRule[];
  flags?: readonly string[];
}

/** The `seccomp` option. */
export type SeccompOption = 'default' | false | OciSeccomp;

/** What the addon compiles (src/seccomp.h). */
export interface NativeSeccompProfile {
  defaultAction: number;
  badArchAction: number;
  arches: string[];
  rules: { names: string[]; action: number; args: { index: number; op: number; value: bigint; valueTwo: bigint }[] }[];
}

const RET = { killProcess: 0x80000000, killThread: 0, trap: 0x00030000, errno: 0x00050000, trace: 0x7ff00000, log: 0x7ffc0000, allow: 0x7fff0000 };
const OPS: Readonly<Record<OciSeccompArg['op'], number>> = {
  SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7,
};
const { EPERM, ENOSYS } = os.constants.errno;

/** libseccomp's name of this machine's architecture, and the OCI one. */
const NATIVE = process.arch === 'arm64' ? { lib: 'aarch64', oci: 'SCMP_ARCH_AARCH64' } : { lib: 'x86_64', oci: 'SCMP_ARCH_X86_64' };
const ARCHES: Readonly<Record<string, string>> = {
  SCMP_ARCH_X86: 'x86', SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_X32: 'x32', SCMP_ARCH_ARM: 'arm', SCMP_ARCH_AARCH64: 'aarch64',
};

/** The SECCOMP_RET_* value of an action; `where` names the rule (`seccomp.syscalls[3]`) or, with `field`, the profile's default. */
function action(name: unknown, errnoRet: unknown, where: string, field = 'action', errnoField = 'errnoRet'): number {
  const errno = errnoRet === undefined ? EPERM : errnoRet;
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return RET.killThread;
    case 'SCMP_ACT_KILL_PROCESS': return RET.killProcess;
    case 'SCMP_ACT_TRAP': return RET.trap;
    case 'SCMP_ACT_ALLOW': return RET.allow;
    case 'SCMP_ACT_LOG': return RET.log;
    case 'SCMP_ACT_ERRNO':
    case 'SCMP_ACT_TRACE':
      if (typeof errno !== 'number' || !Number.isInteger(errno) || errno < 0 || errno > 0xffff) throw outOfRange(`${where}.${errnoField}`, 'an integer from 0 to 65535', errno);
      return (name === 'SCMP_ACT_ERRNO' ? RET.errno : RET.trace) | errno;
    default:
      throw invalidArgValue(`${where}.${field}`, 'must be an OCI seccomp action such as SCMP_ACT_ERRNO (SCMP_ACT_NOTIFY needs a listener nsbox does not offer)', name);
  }
}

function u64(v: unknown, where: string): bigint {
  const n = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : v;
  if (typeof n !== 'bigint' || n < 0n || n >= 1n << 64n) throw outOfRange(where, 'an integer from 0 to 2**64 - 1', v);
  return n;
}

function kernelAtLeast(minimum: string): boolean {
  const [a = 0, b = 0] = minimum.split('.').map(Number);
  const [c = 0, d = 0] = os.release().split(/[.-]/).map(Number);
  return c > a || (c === a && d >= b);
}

/** Docker's includes/excludes: whether a rule applies to this sandbox. */
function applies(rule: OciSeccompRule, caps: ReadonlySet<Capability>): boolean {
  const inc = rule.includes ?? {};
  const exc = rule.excludes ?? {};
  if (inc.caps?.some((c) => !caps.has(c as Capability))) return false;
  if (exc.caps?.some((c) => caps.has(c as Capability))) return false;
  if (inc.arches && !inc.arches.includes(NATIVE.lib) && !inc.arches.includes(NATIVE.oci)) return false;
  if (exc.arches && (exc.arches.includes(NATIVE.lib) || exc.arches.includes(NATIVE.oci))) return false;
  if (inc.minKernel && !kernelAtLeast(inc.minKernel)) return false;
  if (exc.minKernel && kernelAtLeast(exc.minKernel)) return false;
  return true;
}

function architectures(p: OciSeccomp): string[] {
  const arches = new Set<string>([NATIVE.lib]);
  const named: unknown[] = [...(p.architectures ?? [])];
  for (const entry of p.archMap ?? []) {
    if (entry.architecture === NATIVE.oci) named.push(entry.architecture, ...(entry.subArchitectures ?? []));
  }
  for (const a of named) {
    if (typeof a !== 'string' || ARCHES[a] === undefined) throw invalidArgValue('seccomp.architectures', `has an unknown architecture (known: ${Object.keys(ARCHES).join(', ')})`, a);
    arches.add(ARCHES[a]);
  }
  return [...arches];
}

/**
 * An OCI profile, checked, as the addon compiles it. Only the native architecture and those the
 * profile names are let through; a call from any other (i386's `int 0x80` on x86-64, x32) kills
 * the process.
 */
export function nativeProfile(p: OciSeccomp, caps: ReadonlySet<Capability>): NativeSeccompProfile {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw invalidArgType('seccomp', "'default', false or an OCI linux.seccomp object", p);
  const rules: NativeSeccompProfile['rules'] = [];
  const list: unknown = p.syscalls ?? [];
  if (!Array.isArray(list)) throw invalidArgType('seccomp.syscalls', 'an array', list);
  for (const [i, raw] of (list as unknown[]).entries()) {
    const where = `seccomp.syscalls[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw invalidArgType(where, 'an object', raw);
    const rule = raw as OciSeccompRule;
    const names = rule.names ?? (rule.name === undefined ? [] : [rule.name]);
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || n.length === 0)) throw invalidArgType(`${where}.names`, 'an array of syscall names', names);
    const act = action(rule.action, rule.errnoRet, where);
    if (!applies(rule, caps)) continue;
    const args = (rule.args ?? []).map((a, j) => {
      const at = `${where}.args[${j}]`;
      if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw outOfRange(`${at}.index`, 'an integer from 0 to 5', a.index);
      const op = OPS[a.op];
      if (op === undefined) throw invalidArgValue(`${at}.op`, `must be one of ${Object.keys(OPS).join(', ')}`, a.op);
      return { index: a.index, op, value: u64(a.value, `${at}.value`), valueTwo: u64(a.valueTwo ?? 0, `${at}.valueTwo`) };
    });
    rules.push({ names: [...names], action: act, args });
  }
  const defaultAction = action(p.defaultAction, p.defaultErrnoRet, 'seccomp', 'defaultAction', 'defaultErrnoRet');
  return { defaultAction, badArchAction: RET.killProcess, arches: architectures(p), rules };
}

/** Namespace flags a `clone` may not carry: each one refused on its own (libseccomp compares masked-equal). */
const CLONE_NEW = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x00000080];
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;

/**
 * nsbox's default profile: everything allowed but what Docker's default profile refuses a
 * container without CAP_SYS_ADMIN, refused with EPERM: loading code into the kernel, kexec,
 * reboot, swap, clocks, accounting, quotas, keyrings, bpf, perf, userfaultfd, file handles, the
 * whole mount API, namespaces (`setns`, `unshare`, `clone` with CLONE_NEW*), io_uring, ptrace and
 * cross-process memory access, and the `ioctl`s that type into a terminal (TIOCSTI, TIOCLINUX,
 * compared on the low 32 bits: CVE-2019-10063). `clone3` answers ENOSYS (its flags are in memory,
 * out of a filter's reach), so libc falls back to `clone`. `nestedNamespaces` lifts the namespace
 * rules, for container tools run inside.
 */
export function defaultProfile(nestedNamespaces: boolean): OciSeccomp {
  const refused = [
    'acct', 'add_key', 'bpf', 'clock_adjtime', 'clock_adjtime64', 'clock_settime', 'clock_settime64', 'create_module', 'delete_module',
    'finit_module', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'get_kernel_syms', 'init_module', 'io_uring_enter', 'io_uring_register',
    'io_uring_setup', 'ioperm', 'iopl', 'kcmp', 'kexec_file_load', 'kexec_load', 'keyctl', 'lookup_dcookie', 'mount', 'mount_setattr',
    'move_mount', 'name_to_handle_at', 'nfsservctl', 'open_by_handle_at', 'open_tree', 'perf_event_open', 'pivot_root',
    'process_vm_readv', 'process_vm_writev', 'ptrace', 'query_module', 'quotactl', 'quotactl_fd', 'reboot', 'request_key', 'settimeofday',
    'stime', 'swapoff', 'swapon', 'syslog', '_sysctl', 'sysfs', 'umount', 'umount2', 'uselib', 'userfaultfd', 'ustat', 'vhangup', 'vm86',
    'vm86old',
  ];
  const syscalls: OciSeccompRule[] = [
    { names: refused, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
    ...[TIOCSTI, TIOCLINUX].map((request): OciSeccompRule => ({
      names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 1, value: 0xffffffff, valueTwo: request, op: 'SCMP_CMP_MASKED_EQ' }],
    })),
  ];
  if (!nestedNamespaces) {
    syscalls.push({ names: ['setns', 'unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM });
    for (const flag of CLONE_NEW) {
      syscalls.push({ names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }] });
    }
  }
  syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  return { defaultAction: 'SCMP_ACT_ALLOW', architectures: [NATIVE.oci], syscalls };
}

/** The default profile as the addon takes it, made once per `nestedNamespaces` (it names no capability). */
const defaults = new Map<boolean, NativeSeccompProfile>();

/** nsbox's default profile, ready to compile: the same object every time, so its program is found at once. */
export function defaultNativeProfile(nestedNamespaces: boolean): NativeSeccompProfile {
  let profile = defaults.get(nestedNamespaces);
  if (!profile) {
    profile = Object.freeze(nativeProfile(defaultProfile(nestedNamespaces), new Set()));
    defaults.set(nestedNamespaces, profile);
  }
  return profile;
}

/** BPF programs by the profile they were compiled from: compiling costs far more than a spawn. */
const compiled = new Map<string, Uint8Array>();
const byObject = new WeakMap<NativeSeccompProfile, Uint8Array>();
const MAX_CACHED = 64;

/** The BPF program of a profile, compiled by `compile` the first time it is seen. */
export function seccompProgram(profile: NativeSeccompProfile, compile: (p: NativeSeccompProfile) => Uint8Array | Error): Uint8Array | Error {
  const same = byObject.get(profile);
  if (same) return same;
  const key = JSON.stringify(profile, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  let program = compiled.get(key);
  if (!program) {
    const made = compile(profile);
    if (made instanceof Error) return made;
    program = made;
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, program);
  }
  byObject.set(profile, program);
  return program;
}
