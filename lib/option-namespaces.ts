/**
 * Validators for the namespace options of a spawn: which kinds, what to join, time offsets, the
 * UTS names and a veth pair.
 * @module
 */
import { NAMESPACES, type Namespace } from './constants';
import { invalidArgType, invalidArgValue, outOfRange } from './errors';
import { boundedLength, optionalString } from './option-values';
import type { JoinTarget, JoinableNamespace, ResolvedVeth } from './options';
import { isSetupTracked } from './setup-state';

const HOST_NAME_MAX = 64;

let vethCount = 0;
const IFNAMSIZ = 16;

function cidr(name: string, v: unknown): [string, number] {
  const m = typeof v === 'string' ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v) : null;
  if (!m || m.slice(1, 5).some((b) => Number(b) > 255) || Number(m[5]) > 32) throw invalidArgValue(name, "must be an IPv4 address with a prefix, such as '10.200.0.1/30'", v);
  return [m.slice(1, 5).map(Number).join('.'), Number(m[5])];
}

function ifname(name: string, v: unknown, fallback: string): string {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || v.length === 0 || Buffer.byteLength(v) >= IFNAMSIZ || /[\s/:\0]/.test(v)) {
    throw invalidArgValue(name, 'must be an interface name of 1 to 15 bytes, without spaces, / or :', v);
  }
  return v;
}

/** The veth pair of a `net: { veth }` option, or undefined. */
export function veth(net: unknown): ResolvedVeth | undefined {
  if (net === undefined || typeof net === 'boolean') return undefined;
  if (typeof net !== 'object' || net === null) throw invalidArgType('net', 'a boolean or { veth }', net);
  const v = (net as { veth?: unknown }).veth;
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgType('net.veth', 'an object { host, inside }', v);
  const spec = v as Record<string, unknown>;
  const [hostAddress, hostPrefix] = cidr('net.veth.host', spec.host);
  const [insideAddress, insidePrefix] = cidr('net.veth.inside', spec.inside);
  return {
    hostName: ifname('net.veth.hostName', spec.hostName, `nsb${process.pid % 100000}-${vethCount++ % 100000}`),
    insideName: ifname('net.veth.insideName', spec.insideName, 'eth0'),
    hostAddress,
    hostPrefix,
    insideAddress,
    insidePrefix,
  };
}

function isFd(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31;
}

function isPid(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 2 ** 31;
}

const JOINABLE: readonly JoinableNamespace[] = ['mount', 'uts', 'ipc', 'net', 'cgroup', 'time'];

/** The `join` option as [kind, target] pairs, refusing kinds that cannot be joined at spawn. */
export function joinList(v: unknown): [JoinableNamespace, JoinTarget][] {
  if (v === undefined) return [];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgType('join', 'an object such as { net: sandbox }', v);
  return Object.entries(v as Record<string, unknown>).map(([kind, target]): [JoinableNamespace, JoinTarget] => {
    if (!JOINABLE.includes(kind as JoinableNamespace)) {
      throw invalidArgValue('join', `cannot join "${kind}" (joinable: ${JOINABLE.join(', ')}; for user and pid, use sandbox.exec())`);
    }
    return [kind as JoinableNamespace, joinTarget(`join.${kind}`, target)];
  });
}

/**
 * One join target, as checked: a pid, an absolute namespace file, a sandbox handle (read when the
 * join happens: its pidfd is live), or a `{ pid, pidfd }` object, copied (each read once).
 */
function joinTarget(name: string, target: unknown): JoinTarget {
  if (typeof target === 'number' && isPid(target)) return target;
  if (typeof target === 'string' && target.startsWith('/') && !target.includes('\0')) return target;
  if (isSetupTracked(target)) return target as unknown as JoinTarget;
  if (typeof target === 'object' && target !== null) {
    const { pid, pidfd } = target as Record<string, unknown>;
    if (isPid(pid) && isFd(pidfd)) return { pid: pid as number, pidfd: pidfd as number };
  }
  throw invalidArgType(name, 'a sandbox, a pid or an absolute namespace file path', target);
}

/** The time namespace file a `join.time` target names, for the helper to enter (at the start). */
export function timeJoinFile(time: JoinTarget): string {
  if (typeof time === 'string') return time;
  // For a process, the namespace its children get: an init of a time namespace lives outside it.
  const pid = typeof time === 'number' ? time : time.pid;
  return `/proc/${pid ?? 0}/ns/time_for_children`;
}

/** A hostname or domain name: 1 to 64 bytes. */
export function utsName(o: Record<string, unknown>, key: 'hostname' | 'domainname'): string | undefined {
  const name = optionalString(o, key);
  if (name !== undefined && Buffer.byteLength(name) > HOST_NAME_MAX) throw outOfRange(key, `1 to ${HOST_NAME_MAX} bytes long`, name);
  return name;
}

/** The kinds of a `namespaces` option ('all' or a list), or undefined. */
export function namespaceSet(v: unknown): ReadonlySet<Namespace> | undefined {
  if (v === undefined) return undefined;
  if (v === 'all') return new Set(NAMESPACES);
  if (!Array.isArray(v)) throw invalidArgType('namespaces', "'all' or an array of namespace names", v);
  const kinds = new Set<Namespace>();
  for (let i = 0, n = boundedLength('namespaces', v, 64); i < n; i++) {
    const ns: unknown = v[i];
    if (!NAMESPACES.includes(ns as Namespace)) throw invalidArgValue('namespaces', `has an unknown kind (known: ${NAMESPACES.join(', ')})`, ns);
    kinds.add(ns as Namespace);
  }
  return kinds;
}

const MAX_TIME_OFFSET = 2 ** 31; // seconds; far inside what the kernel accepts

/** The timens_offsets text of a `time` option, or undefined for no time namespace. */
export function time(v: unknown, fallback: boolean): string | undefined {
  if (v === undefined) return fallback ? '' : undefined;
  if (typeof v === 'boolean') return v ? '' : undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgType('time', 'a boolean or { monotonicOffset, boottimeOffset }', v);
  const lines: string[] = [];
  for (const [key, clock] of [['monotonicOffset', 'monotonic'], ['boottimeOffset', 'boottime']] as const) {
    const seconds = (v as Record<string, unknown>)[key];
    if (seconds === undefined) continue;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || Math.abs(seconds) > MAX_TIME_OFFSET) {
      throw outOfRange(`time.${key}`, `a number of seconds within ±${MAX_TIME_OFFSET}`, seconds);
    }
    const whole = Math.floor(seconds);
    const nanos = Math.min(999_999_999, Math.round((seconds - whole) * 1e9));
    lines.push(`${clock} ${whole} ${nanos}\n`);
  }
  for (const key of Object.keys(v)) if (key !== 'monotonicOffset' && key !== 'boottimeOffset') throw invalidArgValue('time', `has an unknown key "${key}"`);
  return lines.join('');
}
