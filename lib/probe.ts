/**
 * What this host supports, and why not when it does not, so that a tool can print an actionable
 * message instead of a bare EPERM. Reads `/proc` only: no process is spawned and no syscall
 * changes anything. The decisions are pure functions of file contents, exported for the tests
 * (the package index does not re-export them).
 * @module
 */
import fs from 'fs';
import { native } from './native';
import os from 'os';
import { limitsVerdicts } from './cgroup';
import { NS_FILES, type Namespace } from './constants';

/** The running kernel's version, from `/proc/sys/kernel/osrelease`. */
export interface KernelVersion {
  /** As the kernel spells it, e.g. `6.8.0-45-generic`. */
  release: string;
  /** `6` in `6.8.0`; 0 when the release cannot be read or parsed. */
  major: number;
  /** `8` in `6.8.0`; 0 when the release cannot be read or parsed. */
  minor: number;
}

/** A yes, or a no with the reason and what to do about it. */
export type Verdict = { supported: true; reason?: undefined } | { supported: false; reason: string };

/** Whether unprivileged users may create user namespaces (root always may). */
export type UserNamespaceSupport = { unprivileged: true; reason?: undefined } | { unprivileged: false; reason: string };

/**
 * The cgroup layout: `v2` (cgroup2 on `/sys/fs/cgroup`), `hybrid` (v1 hierarchies plus a cgroup2
 * one elsewhere, usually `/sys/fs/cgroup/unified`), `v1` (v1 hierarchies only) or `none`.
 * `unified` is where the cgroup2 hierarchy is mounted, whenever there is one.
 */
export type CgroupInfo = { version: 'v2' | 'hybrid'; unified: string } | { version: 'v1' | 'none'; unified?: undefined };

/** What {@link probe} reports, besides the overall verdict (see {@link ProbeResult}). */
export interface ProbeDetails {
  /** The running kernel. */
  kernel: KernelVersion;
  /** `CLONE_PIDFD` (Linux 5.3). */
  pidfd: boolean;
  /** Which namespace kinds this kernel has (`/proc/self/ns/<file>` exists). */
  namespaces: Record<Namespace, boolean>;
  /** Whether unprivileged users may create user namespaces, and if not, which sysctl stops them. */
  userNamespaces: UserNamespaceSupport;
  /** Time namespaces (Linux 5.6, `/proc/self/ns/time`). */
  timeNamespaces: boolean;
  /** Overlay mounts inside a user namespace (overlay available, Linux 5.11). */
  overlayInUserNamespace: Verdict;
  /** The cgroup layout this process sees. */
  cgroup: CgroupInfo;
  /**
   * Whether clone3 answers here (Linux 5.3, and no seccomp filter refusing it, as older Docker
   * profiles do). nsbox does not need it (it uses clone with CLONE_PIDFD); other tools may.
   */
  clone3: Verdict;
  /** Which `limits` work here (the controller exists where this process's cgroup can take a child), and why not. */
  limits: Record<'memory' | 'pids' | 'cpu', Verdict>;
}

/** {@link ProbeDetails} plus `supported`: whether nsbox can run here at all (Linux 5.11+), with `reason` when not. */
export type ProbeResult = ProbeDetails & Verdict;

/**
 * Linux version nsbox needs: CLONE_PIDFD (5.3), openat2 (5.6), pidfd_getfd and setns with a
 * pidfd (5.8), and close_range's CLOSE_RANGE_CLOEXEC (5.11), which every spawn uses.
 */
const REQUIRED: readonly [number, number] = [5, 11];

function atLeast(kernel: KernelVersion, major: number, minor: number): boolean {
  return kernel.major > major || (kernel.major === major && kernel.minor >= minor);
}

/**
 * Parses a kernel release such as `6.8.0-45-generic`; `undefined` (unreadable) or garbage gives
 * major and minor 0, which every version check then refuses.
 */
export function parseKernelRelease(release: string | undefined): KernelVersion {
  const text = release?.trim() ?? '';
  const match = /^(\d+)\.(\d+)/.exec(text);
  return { release: text, major: match ? Number(match[1]) : 0, minor: match ? Number(match[2]) : 0 };
}

/** Whether nsbox can run on this kernel (5.11 or newer). */
export function kernelVerdict(kernel: KernelVersion): Verdict {
  if (atLeast(kernel, ...REQUIRED)) return { supported: true };
  const version = kernel.release === '' ? 'an unknown kernel (is /proc mounted?)' : `Linux ${kernel.release}`;
  return {
    supported: false,
    reason: `nsbox needs Linux ${REQUIRED.join('.')} or newer (CLONE_PIDFD 5.3, openat2 5.6, setns with a pidfd 5.8, CLOSE_RANGE_CLOEXEC 5.11); this is ${version}`,
  };
}

/** The contents of the sysctl files that gate unprivileged user namespaces; absent means the file does not exist. */
export interface UserNamespaceSysctls {
  /** `/proc/sys/kernel/unprivileged_userns_clone` (a Debian patch; `0` blocks). */
  unprivilegedUsernsClone?: string;
  /** `/proc/sys/user/max_user_namespaces` (`0` blocks everyone). */
  maxUserNamespaces?: string;
  /** `/proc/sys/kernel/apparmor_restrict_unprivileged_userns` (Ubuntu 23.10+; `1` restricts). */
  apparmorRestrict?: string;
}

/** A sysctl value as a number; undefined when absent or not a number (then it proves nothing). */
function sysctlNumber(value: string | undefined): number | undefined {
  const text = value?.trim();
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * Decides from the sysctls whether unprivileged users get usable user namespaces. Every blocker
 * found is named, with the command that lifts it, so that one message fixes them all.
 * @param present whether the kernel has user namespaces at all (`/proc/self/ns/user` exists)
 */
export function userNamespaceVerdict(sysctls: UserNamespaceSysctls, present = true): UserNamespaceSupport {
  if (!present) return { unprivileged: false, reason: 'this kernel has no user namespaces (no /proc/self/ns/user: built without CONFIG_USER_NS)' };
  const reasons: string[] = [];
  if (sysctlNumber(sysctls.unprivilegedUsernsClone) === 0) {
    reasons.push('kernel.unprivileged_userns_clone is 0 (Debian), so only root may create user namespaces; allow them with: sudo sysctl -w kernel.unprivileged_userns_clone=1');
  }
  if (sysctlNumber(sysctls.maxUserNamespaces) === 0) {
    reasons.push('user.max_user_namespaces is 0, so no user namespace may be created; allow them with: sudo sysctl -w user.max_user_namespaces=15000');
  }
  // The namespace is still created, but AppArmor takes every capability away inside it, so the
  // first mount or hostname change fails with EPERM: as good as blocked.
  const restrict = sysctlNumber(sysctls.apparmorRestrict);
  if (restrict !== undefined && restrict !== 0) {
    reasons.push(
      'kernel.apparmor_restrict_unprivileged_userns is 1 (AppArmor, Ubuntu 23.10+), so an unconfined process gets no capabilities in a new user namespace; ' +
        'lift it with: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give node an AppArmor profile that allows userns',
    );
  }
  if (reasons.length === 0) return { unprivileged: true };
  return { unprivileged: false, reason: `${reasons.join('; ')} (to keep a setting across reboots, put it in /etc/sysctl.d/)` };
}

/**
 * Whether overlay can be mounted inside a user namespace: the filesystem must be registered
 * (listed in `/proc/filesystems`) and the kernel 5.11 or newer, the first to allow it there.
 * @param filesystems contents of `/proc/filesystems`, undefined if unreadable
 */
export function overlayVerdict(filesystems: string | undefined, kernel: KernelVersion): Verdict {
  const reasons: string[] = [];
  const listed = (filesystems ?? '').split('\n').some((line) => line.trim().split(/\s+/).pop() === 'overlay');
  // /proc/filesystems lists loaded modules only; root's mount would autoload it, a user namespace's need not.
  if (!listed) reasons.push('overlay is not in /proc/filesystems; load it with: sudo modprobe overlay');
  if (!atLeast(kernel, 5, 11)) reasons.push(`Linux ${kernel.release || 'of unknown version'} is older than 5.11, the first to allow overlay mounts in a user namespace`);
  return reasons.length === 0 ? { supported: true } : { supported: false, reason: reasons.join('; ') };
}

/**
 * Why the host refuses to create these namespaces, when its settings say so: a
 * `user.max_<kind>_namespaces` limit of 0 or reached (ENOSPC), or what stops user namespaces
 * (EPERM, EACCES). Undefined when nothing here explains it.
 */
export function namespaceRefusal(kinds: readonly Namespace[], errno: number): string | undefined {
  const E = os.constants.errno;
  const reasons: string[] = [];
  for (const kind of kinds) {
    const sysctl = `user.max_${kind === 'mount' ? 'mnt' : kind}_namespaces`;
    const limit = sysctlNumber(read(`/proc/sys/${sysctl.replace(/\./g, '/')}`));
    if (errno === E.ENOSPC && limit === 0) reasons.push(`${sysctl} is 0, so no ${kind} namespace may be created; allow them with: sudo sysctl -w ${sysctl}=15000`);
    else if (errno === E.ENOSPC && limit !== undefined) reasons.push(`${sysctl} is ${limit}: that many ${kind} namespaces exist already, here or in an enclosing user namespace`);
  }
  if (reasons.length === 0 && kinds.includes('user') && (errno === E.EPERM || errno === E.EACCES || errno === E.ENOSPC)) {
    const verdict = userNamespaceVerdict({
      unprivilegedUsernsClone: read('/proc/sys/kernel/unprivileged_userns_clone'),
      maxUserNamespaces: read('/proc/sys/user/max_user_namespaces'),
      apparmorRestrict: read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
    }, fs.existsSync('/proc/self/ns/user'));
    if (!verdict.unprivileged) reasons.push(verdict.reason);
  }
  return reasons.length === 0 ? undefined : reasons.join('; ');
}

/** A mountinfo field with the kernel's octal escapes (`\040` for a space) decoded. */
function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Mount point and filesystem type of each line of a mountinfo file. */
function mountsOf(mountinfo: string): { mountPoint: string; type: string }[] {
  const mounts: { mountPoint: string; type: string }[] = [];
  for (const line of mountinfo.split('\n')) {
    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (fields.length < 5 || separator < 0) continue;
    mounts.push({ mountPoint: unescapeMountinfo(fields[4]), type: fields[separator + 1] ?? '' });
  }
  return mounts;
}

/** The cgroup layout described by a `/proc/self/mountinfo` (see {@link CgroupInfo}). */
export function cgroupVersion(mountinfo: string | undefined): CgroupInfo {
  const mounts = mountsOf(mountinfo ?? '');
  const unified = mounts.filter((m) => m.type === 'cgroup2').map((m) => m.mountPoint);
  const v1 = mounts.some((m) => m.type === 'cgroup');
  if (unified.includes('/sys/fs/cgroup')) return { version: 'v2', unified: '/sys/fs/cgroup' };
  if (unified.length > 0) return { version: v1 ? 'hybrid' : 'v2', unified: unified[0] };
  return { version: v1 ? 'v1' : 'none' };
}

/** A file's contents, or undefined if it cannot be read (absent, or not ours to read). */
function read(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Reports what this host supports for nsbox, and why not where it does not. Synchronous; reads
 * `/proc` only, spawns nothing and changes nothing.
 * @example
 * const host = probe();
 * if (!host.supported) throw new Error(host.reason);
 * if (!host.userNamespaces.unprivileged) console.warn(`rootless sandboxes will fail: ${host.userNamespaces.reason}`);
 */
export function probe(): ProbeResult {
  const kernel = parseKernelRelease(read('/proc/sys/kernel/osrelease'));
  const has = (ns: Namespace): boolean => fs.existsSync(`/proc/self/ns/${NS_FILES[ns]}`);
  const namespaces: Record<Namespace, boolean> = {
    pid: has('pid'),
    mount: has('mount'),
    uts: has('uts'),
    ipc: has('ipc'),
    net: has('net'),
    user: has('user'),
    cgroup: has('cgroup'),
    time: has('time'),
  };
  const userNamespaces = userNamespaceVerdict(
    {
      unprivilegedUsernsClone: read('/proc/sys/kernel/unprivileged_userns_clone'),
      maxUserNamespaces: read('/proc/sys/user/max_user_namespaces'),
      apparmorRestrict: read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
    },
    namespaces.user,
  );
  return {
    ...kernelVerdict(kernel),
    kernel,
    pidfd: atLeast(kernel, 5, 3),
    namespaces,
    userNamespaces,
    timeNamespaces: atLeast(kernel, 5, 6) && namespaces.time,
    overlayInUserNamespace: overlayVerdict(read('/proc/filesystems'), kernel),
    cgroup: cgroupVersion(read('/proc/self/mountinfo')),
    clone3: clone3Verdict(native().clone3Errno()),
    limits: limitsVerdicts(),
  };
}

/** clone3's verdict from the errno of a call with no arguments (EINVAL means it is there). */
export function clone3Verdict(errno: number): Verdict {
  if (errno !== os.constants.errno.ENOSYS) return { supported: true };
  return { supported: false, reason: 'clone3 answers ENOSYS: the kernel is older than 5.3, or a seccomp filter (older Docker profiles) refuses it. nsbox does not need it.' };
}
