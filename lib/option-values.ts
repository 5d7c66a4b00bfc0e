/**
 * Validators for the plain values of spawn options (strings, booleans, mounts, environment,
 * stdio, maps): each returns the value normalized or throws a TypeError/RangeError.
 * @module
 */
import path from 'path';
import { invalidArgType, invalidArgValue, outOfRange } from './errors';
import type { IdMap, MountSpec } from './options';

const MAX_STDIO = 64;
/** More arguments than any exec could take (the kernel's limit is a quarter of the stack, 2 MB by default). */
const MAX_ARGS = 1 << 20;
const MAX_MOUNTS = 4096;

/** Strings reach C as NUL-terminated: a NUL inside one would cut it short. */
export function checkNoNul(name: string, value: string): void {
  if (value.includes('\0')) throw invalidArgValue(name, 'must not contain null bytes', value);
}

/**
 * The length of an array option, refused before anything iterates it when above `max` (a sparse
 * array of 2**32 - 1 would otherwise be walked index by index).
 */
export function boundedLength(name: string, v: readonly unknown[], max: number): number {
  const length = v.length;
  if (length > max) throw outOfRange(name, `at most ${max} entries`, length);
  return length;
}

/**
 * The arguments, copied: strings without NULs, each read once (what was checked is what runs,
 * whatever a getter or Proxy returns next time); holes are refused like any other non-string.
 */
export function checkArgs(args: unknown): string[] {
  if (args === undefined) return [];
  if (!Array.isArray(args)) throw invalidArgType('args', 'an array of strings', args);
  const length = boundedLength('args', args, MAX_ARGS);
  const out: string[] = [];
  for (let i = 0; i < length; i++) {
    const arg: unknown = args[i];
    if (typeof arg !== 'string') throw invalidArgType(`args[${i}]`, 'a string', arg);
    checkNoNul(`args[${i}]`, arg);
    out.push(arg);
  }
  return out;
}

/** A boolean option, or its default; `name` is how errors call it (`mounts[0].readonly`). */
export function bool(o: Record<string, unknown>, key: string, fallback: boolean, name = key): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw invalidArgType(name, 'a boolean', v);
  return v;
}

/** A non-empty string option without NULs, or undefined. */
export function optionalString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw invalidArgType(key, 'a non-empty string', v);
  checkNoNul(key, v);
  return v;
}

function insidePath(name: string, v: unknown): string {
  if (typeof v !== 'string' || !v.startsWith('/')) throw invalidArgType(name, 'an absolute path', v);
  checkNoNul(name, v);
  return v;
}

/** The `mounts` option: bind and tmpfs mounts with absolute targets. */
export function mountSpecs(v: unknown): MountSpec[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalidArgType('mounts', 'an array', v);
  const length = boundedLength('mounts', v, MAX_MOUNTS);
  const out: MountSpec[] = [];
  for (let i = 0; i < length; i++) out.push(mountSpec(v[i], `mounts[${i}]`));
  return out;
}

function mode(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0o7777) throw outOfRange(name, 'an integer from 0 to 0o7777', v);
  return v;
}

const MOUNT_TYPES = ['bind', 'ro-bind', 'dev-bind', 'tmpfs', 'proc', 'dev', 'mqueue', 'dir', 'symlink', 'file', 'remount-ro', 'chmod', 'overlay'];

/** One mount, each property read once. */
function mountSpec(m: unknown, name: string): MountSpec {
  if (typeof m !== 'object' || m === null) throw invalidArgType(name, 'an object', m);
  const spec = m as Record<string, unknown>;
  const type = spec.type;
  const target = insidePath(`${name}.target`, spec.target);
  switch (type) {
    case 'bind':
    case 'ro-bind':
    case 'dev-bind': {
      const source = spec.source;
      if (typeof source !== 'string' || source.length === 0) throw invalidArgType(`${name}.source`, 'a host path', source);
      checkNoNul(`${name}.source`, source);
      const readonly = bool(spec, 'readonly', type === 'ro-bind', `${name}.readonly`);
      const optional = bool(spec, 'optional', false, `${name}.optional`);
      return { type, source: path.resolve(source), target, readonly, optional };
    }
    case 'tmpfs': {
      const size = spec.size;
      if (size !== undefined && (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0)) {
        throw outOfRange(`${name}.size`, 'a positive integer number of bytes', size);
      }
      return { type, target, size, mode: mode(`${name}.mode`, spec.mode) };
    }
    case 'proc':
    case 'mqueue':
    case 'dev':
    case 'remount-ro':
      return { type, target };
    case 'dir':
      return { type, target, mode: mode(`${name}.mode`, spec.mode) };
    case 'chmod': {
      const m2 = mode(`${name}.mode`, spec.mode);
      if (m2 === undefined) throw invalidArgType(`${name}.mode`, 'a mode such as 0o755', undefined);
      return { type, target, mode: m2 };
    }
    case 'symlink': {
      const linkTo = spec.linkTo;
      if (typeof linkTo !== 'string' || linkTo.length === 0) throw invalidArgType(`${name}.linkTo`, 'a non-empty string', linkTo);
      checkNoNul(`${name}.linkTo`, linkTo);
      return { type, target, linkTo };
    }
    case 'file': {
      const content = spec.content;
      if (typeof content !== 'string' && !(content instanceof Uint8Array)) throw invalidArgType(`${name}.content`, 'a string or a Uint8Array', content);
      const copy = typeof content === 'string' ? content : new Uint8Array(content);
      return { type, target, content: copy, mode: mode(`${name}.mode`, spec.mode), readonly: bool(spec, 'readonly', false, `${name}.readonly`) };
    }
    case 'overlay': {
      const lower = spec.lower;
      if (!Array.isArray(lower) || lower.length === 0 || lower.length > 500) throw invalidArgType(`${name}.lower`, 'a non-empty array of host directories', lower);
      const layers = lower.map((l: unknown, j) => {
        if (typeof l !== 'string' || l.length === 0) throw invalidArgType(`${name}.lower[${j}]`, 'a host directory', l);
        checkNoNul(`${name}.lower[${j}]`, l);
        return path.resolve(l);
      });
      const hostDir = (key: 'upper' | 'work'): string | undefined => {
        const v = spec[key];
        if (v === undefined) return undefined;
        if (typeof v !== 'string' || v.length === 0) throw invalidArgType(`${name}.${key}`, 'a host directory', v);
        checkNoNul(`${name}.${key}`, v);
        return path.resolve(v);
      };
      const upper = hostDir('upper');
      const work = hostDir('work');
      if ((upper === undefined) !== (work === undefined)) throw invalidArgValue(`${name}.${upper === undefined ? 'upper' : 'work'}`, 'comes with upper and work both, or neither');
      return { type, target, lower: layers, upper, work };
    }
    default:
      throw invalidArgValue(`${name}.type`, `must be one of ${MOUNT_TYPES.join(', ')}`, type);
  }
}

const MAX_MAP_LINES = 340; // the kernel's limit

/** A uid or gid map: 1 to 340 lines of `{ inside, outside, count }`. */
export function idMap(v: unknown, name: string): IdMap[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0) throw invalidArgType(name, 'a non-empty array of { inside, outside, count }', v);
  const length = boundedLength(name, v, MAX_MAP_LINES);
  const out: IdMap[] = [];
  for (let i = 0; i < length; i++) {
    const line: unknown = v[i];
    if (typeof line !== 'object' || line === null) throw invalidArgType(`${name}[${i}]`, 'an object', line);
    const l = line as Record<string, unknown>;
    const read = (key: 'inside' | 'outside' | 'count'): number => {
      const n = l[key];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < (key === 'count' ? 1 : 0) || n > 0xfffffffe) {
        throw outOfRange(`${name}[${i}].${key}`, `an integer from ${key === 'count' ? 1 : 0} to 4294967294`, n);
      }
      return n;
    };
    out.push({ inside: read('inside'), outside: read('outside'), count: read('count') });
  }
  return out;
}

/**
 * String(value) as the language does it (ToPrimitive with the hint 'string'), but with a typed
 * error where the language would throw its own: a conversion method that throws is the caller's
 * error and is passed on.
 */
function toText(name: string, value: unknown): string {
  if (typeof value === 'symbol') throw invalidArgValue(name, 'must be convertible to a string (not a symbol)');
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return String(value);
  const v = value as Record<string | symbol, unknown>;
  const fail = (): TypeError => invalidArgValue(name, 'must be convertible to a string');
  const exotic = v[Symbol.toPrimitive];
  if (exotic !== undefined && exotic !== null) {
    if (typeof exotic !== 'function') throw fail();
    const primitive: unknown = exotic.call(value, 'string');
    if ((typeof primitive === 'object' && primitive !== null) || typeof primitive === 'function' || typeof primitive === 'symbol') throw fail();
    return String(primitive);
  }
  for (const method of ['toString', 'valueOf']) {
    const fn = v[method];
    if (typeof fn !== 'function') continue;
    const primitive: unknown = fn.call(value);
    if (typeof primitive === 'symbol') throw fail();
    if ((typeof primitive !== 'object' || primitive === null) && typeof primitive !== 'function') return String(primitive);
  }
  throw fail();
}

/** `KEY=value` strings of an `env` option, or undefined to pass Node's own environment. */
export function environment(v: unknown): string[] | undefined {
  if (v === undefined) return undefined; // the helper passes Node's own environ: nothing to copy
  const env = v;
  if (typeof env !== 'object' || env === null || Array.isArray(env)) throw invalidArgType('env', 'an object', v);
  const out: string[] = [];
  for (const [key, value] of Object.entries(env as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (key.length === 0 || key.includes('=') || key.includes('\0')) throw invalidArgValue('env', `has an invalid variable name`, key);
    // As child_process: any value becomes its string.
    const text = toText(`env.${key}`, value);
    checkNoNul(`env.${key}`, text);
    out.push(`${key}=${text}`);
  }
  return out;
}

/** The largest fd number: fds are C ints. */
const MAX_FD = 2 ** 31 - 1;

/** One entry per fd: 'pipe', 'ignore', or an fd of this process ('inherit' is the same fd). */
export function stdio(v: unknown): ('pipe' | 'ignore' | number)[] {
  if (v !== undefined && typeof v !== 'string' && !Array.isArray(v)) throw invalidArgType('stdio', "'pipe', 'inherit', 'ignore' or an array", v);
  const entries: unknown[] = [];
  if (typeof v === 'string') entries.push(v, v, v);
  else if (Array.isArray(v)) for (let i = 0, n = boundedLength('stdio', v, MAX_STDIO); i < n; i++) entries.push(v[i]);
  while (entries.length < 3) entries.push(undefined);
  return entries.map((e, i) => {
    if (e === undefined || e === null) return i < 3 ? 'pipe' : 'ignore';
    if (e === 'pipe' || e === 'ignore') return e;
    if (e === 'inherit') return i;
    if (typeof e === 'number') {
      // An fd is an int: anything larger would be cut to 32 bits on the way to the kernel.
      if (!Number.isInteger(e) || e < 0 || e > MAX_FD) throw outOfRange(`stdio[${i}]`, `a file descriptor from 0 to ${MAX_FD}`, e);
      return e;
    }
    throw invalidArgValue(`stdio[${i}]`, "must be 'pipe', 'inherit', 'ignore', or a file descriptor", e);
  });
}

/** An AbortSignal, or undefined. */
export function abortSignal(v: unknown): AbortSignal | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof AbortSignal)) throw invalidArgType('signal', 'an AbortSignal', v);
  return v;
}

/** A niceness, -20 (most favoured) to 19 (least), or undefined. */
export function nice(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw invalidArgType('nice', 'an integer', v);
  if (!Number.isInteger(v) || v < -20 || v > 19) throw outOfRange('nice', 'an integer from -20 to 19', v);
  return v;
}

/** A positive whole number of milliseconds, or undefined. */
export function timeout(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 2 ** 31 - 1) {
    throw outOfRange('timeout', 'a positive integer number of milliseconds', v);
  }
  return v;
}
