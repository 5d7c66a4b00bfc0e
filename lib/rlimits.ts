/**
 * The `rlimits` option: setrlimit(2) for the command and everything it starts, applied in its own
 * process right before exec (raising a hard limit needs CAP_SYS_RESOURCE, which it may not keep).
 * @module
 */
import { invalidArgType, outOfRange } from './errors';

/** The resources, as setrlimit names them without `RLIMIT_`, and their numbers (Linux, every arch nsbox builds for). */
export const RLIMITS = {
  cpu: 0, fsize: 1, data: 2, stack: 3, core: 4, rss: 5, nproc: 6, nofile: 7, memlock: 8, as: 9, locks: 10, sigpending: 11,
  msgqueue: 12, nice: 13, rtprio: 14, rttime: 15,
} as const;

/** A resource name. */
export type RlimitName = keyof typeof RLIMITS;

/** A limit: a number (soft = hard), `[soft, hard]`, each a non-negative integer or `Infinity` (unlimited). */
export type RlimitValue = number | readonly [number, number];

/** The `rlimits` option: seconds for `cpu`, bytes for `as`, `fsize`, `stack`…, counts for `nofile`, `nproc`. */
export type RlimitsOption = Partial<Record<RlimitName, RlimitValue>>;

/** One limit as the helper takes it: decimal strings, or `unlimited`. */
export interface ResolvedRlimit {
  name: RlimitName;
  resource: number;
  soft: string;
  hard: string;
}

function bound(name: string, v: unknown): number {
  if (v === Infinity) return v;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw outOfRange(name, 'a non-negative integer or Infinity (unlimited)', v);
  return v;
}

const text = (n: number): string => (n === Infinity ? 'unlimited' : String(n));

/** Resolves `rlimits`; an unknown name, a bad value or a soft limit above its hard one is a RangeError. */
export function resolveRlimits(v: unknown): ResolvedRlimit[] {
  if (v === undefined) return [];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgType('rlimits', 'an object such as { nofile: 1024, cpu: [10, 11] }', v);
  const out: ResolvedRlimit[] = [];
  for (const [name, value] of Object.entries(v as Record<string, unknown>)) {
    if (!Object.hasOwn(RLIMITS, name)) throw outOfRange('rlimits', `a known resource (${Object.keys(RLIMITS).join(', ')})`, name);
    const where = `rlimits.${name}`;
    let soft: number;
    let hard: number;
    if (Array.isArray(value)) {
      if (value.length !== 2) throw outOfRange(where, '[soft, hard]', value.length);
      soft = bound(`${where}[0]`, value[0]);
      hard = bound(`${where}[1]`, value[1]);
      if (soft > hard) throw outOfRange(where, `a soft limit at most the hard one (${hard})`, soft);
    } else {
      soft = hard = bound(where, value);
    }
    out.push({ name: name as RlimitName, resource: RLIMITS[name as RlimitName], soft: text(soft), hard: text(hard) });
  }
  return out;
}
