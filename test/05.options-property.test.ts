/**
 * Property-based tests (fast-check) of what spawnIsolated does with its arguments, whatever they
 * are: wrong types for every option, huge strings, NUL bytes, huge counts, numbers out of range,
 * arrays with holes or of a huge length, throwing getters, Proxies, unknown names, and stop()'s
 * grace period.
 *
 * Every case must end in one of:
 *  (a) a synchronous TypeError or RangeError with an `ERR_*` code, thrown by nsbox's own
 *      validation (it names the option) before anything runs (the addon's spawn not called, no
 *      fd left open), or the error of the case's own getter or Proxy trap, unchanged;
 *  (b) a run: `exited` settles in time, resolving with `{ code, signal }` or rejecting with an
 *      NsboxError that has a `code`.
 * Never a crash, a hang, an untyped error (plain Error, or a TypeError without a code, from
 * deeper code or from the addon), or a leak. The fds and zombie children of this process are
 * checked after each spawning property and, for the whole file, by helpers/host-check.ts.
 *
 * Besides, every request that reaches the addon's spawn is decoded (lib/request.ts, the layout of
 * src/sys/wire.h, with the constants of lib/constants.ts) and checked: no string with a NUL
 * inside (C would see it cut short), stdio entries and join fds that are fds, well-formed id
 * maps, no helper namespace join the public options did not ask for, no veth (this suite never
 * asks for a valid one). A request that breaks one of these is refused, so it never runs, and the
 * case fails saying what was wrong.
 *
 * Values that change from read to read (getters, Proxies) are compared with the same options
 * read once: if the case reaches the addon, its request must be byte for byte the one of the
 * values that were validated (both are dry runs: the request is decoded, never spawned).
 *
 * The seed is fixed (NSBOX_FC_SEED overrides it) and printed; a failure prints the seed and the
 * path of its shrunk counterexample. NSBOX_FC_EXPLORE=1 lists every distinct failure of the run
 * instead of stopping each property at its first.
 */
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { types } from 'util';
import fc from 'fast-check';
import { AbortError, IsolatedProcess, NsboxError, hostRootfs, spawnIsolated, type HostRootfs } from '../lib';
import { CLONE_FLAGS, NAMESPACES, WIRE } from '../lib/constants';
import { native } from '../lib/native';
import { openFds, settledFds, waitFor, zombieChildren } from './helpers/host';
import { describeAsRoot } from './helpers/privilege';

const SEED = Number(process.env.NSBOX_FC_SEED ?? 20250605);
/** NSBOX_FC_EXPLORE=1: record every distinct failure (printed at the end) instead of stopping at the first. */
const EXPLORE = process.env.NSBOX_FC_EXPLORE === '1';
const SETTLE_MS = 8000;
const ROOT = path.join(__dirname, '..');
/** numRuns: validation-only properties, and those that really spawn. */
const CHECK_RUNS = 200;
const SPAWN_RUNS = 40;

function params<Ts>(numRuns: number): fc.Parameters<Ts> {
  return { seed: SEED, numRuns };
}

// ---------------------------------------------------------------------------------------------
// What a case may end in.

/** The error a case's own getter or trap throws. Frozen: nsbox must pass it on unchanged. */
class UserError extends Error {
  constructor(where: string) {
    super(`user code threw (${where})`);
    this.name = 'UserError';
  }
}

/** A getter or trap of a case: throws its own UserError, counting how often it did. */
class Trap {
  readonly error: UserError;
  fired = 0;
  constructor(readonly where: string) {
    this.error = Object.freeze(new UserError(where));
  }
  fire(): never {
    this.fired++;
    throw this.error;
  }
}

interface Expectation {
  /** reject: (a) only; user: (a) with the error of one of `traps`; run: (b) only; either: (a) or (b). */
  outcome: 'reject' | 'user' | 'run' | 'either';
  /** The code a validation error must have. */
  code?: string;
  /** Names a validation error must contain (any one of them); default: any known option. */
  culprit?: string | readonly string[];
  /** The case's own getters and traps. */
  traps?: readonly Trap[];
  /** The case joins a time namespace, so the helper joining one is asked for. */
  joinTime?: boolean;
  /** The case passes an AbortSignal that is or may become aborted. */
  abortable?: boolean;
  /** A trap's error may also come as the `cause` of a validation error naming `culprit`. */
  asCause?: boolean;
}

const PUBLIC_BOOLEANS = ['pid', 'mount', 'uts', 'ipc', 'cgroup', 'user', 'readonlyRoot', 'proc', 'dev', 'init', 'dieWithParent', 'newSession', 'noNewPrivileges', 'foreground', 'trace'] as const;
const PUBLIC_OPTIONS: readonly string[] = [
  ...PUBLIC_BOOLEANS,
  'net', 'time', 'namespaces', 'join', 'uidMap', 'gidMap', 'rootfs', 'mounts', 'hostname', 'domainname', 'cwd', 'env', 'argv0', 'stdio', 'nice', 'signal', 'timeout', 'killSignal',
];
/** What a validation error may name: the options, and the other parameters. */
const NAMEABLE = new Set([...PUBLIC_OPTIONS, 'command', 'args', 'options', 'graceMs']);

function show(value: unknown): string {
  if (types.isNativeError(value)) {
    const code = (value as { code?: unknown }).code;
    return `${value.constructor.name}${code === undefined ? ' (no code)' : ` [${String(code)}]`}: ${value.message.slice(0, 300)}`;
  }
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  try {
    return String(value);
  } catch {
    return typeof value;
  }
}

/** Why `e` is not one of nsbox's validation errors, naming one of `culprit`; undefined if it is. */
function validationProblem(e: unknown, culprit?: string | readonly string[]): string | undefined {
  // By name: errors of Node's own code come from another realm than jest's sandbox.
  if (!types.isNativeError(e) || (e.name !== 'TypeError' && e.name !== 'RangeError')) return `threw ${show(e)}: not a TypeError or RangeError`;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_')) return `threw ${show(e)}: no ERR_ code`;
  if (code === 'ERR_NSBOX_UNKNOWN_OPTION' || code === 'ERR_UNKNOWN_SIGNAL') return undefined;
  // nsbox's errors quote the option: `The "mounts[0].size" option ...`, `The value of "nice" ...`.
  const named = [...e.message.matchAll(/"([A-Za-z0-9_]+)/g)].map((m) => m[1]);
  const wanted = culprit === undefined ? [] : typeof culprit === 'string' ? [culprit] : culprit;
  if (wanted.length > 0 && !wanted.some((c) => named.includes(c))) {
    return `threw ${show(e)}: does not name ${wanted.map((c) => `"${c}"`).join(' or ')}${named.length ? ` (it names ${named.map((n) => `"${n}"`).join(', ')})` : ''}`;
  }
  if (!named.some((n) => NAMEABLE.has(n))) return `threw ${show(e)}: names no option (an error of deeper code, not of validation)`;
  return undefined;
}

type Settled = { kind: 'resolved'; value: unknown } | { kind: 'rejected'; error: unknown } | { kind: 'hang' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits for `exited`; on a hang, SIGKILLs the sandbox so that nothing is left behind. */
async function settle(child: IsolatedProcess, ms = SETTLE_MS): Promise<Settled> {
  let timer: NodeJS.Timeout | undefined;
  const done = child.exited.then(
    (value): Settled => ({ kind: 'resolved', value }),
    (error: unknown): Settled => ({ kind: 'rejected', error }),
  );
  const end = await Promise.race([done, new Promise<Settled>((r) => (timer = setTimeout(() => r({ kind: 'hang' }), ms)))]);
  clearTimeout(timer);
  if (end.kind === 'hang') {
    try {
      child.kill('SIGKILL');
    } catch {
      // reported as the hang it is
    }
    await Promise.race([done, sleep(2000)]);
  }
  return end;
}

function exitProblem(end: Settled, exp: Expectation): string | undefined {
  if (end.kind === 'hang') return `exited did not settle within ${SETTLE_MS} ms`;
  if (end.kind === 'resolved') {
    const v = end.value as { code?: unknown; signal?: unknown } | null;
    const ok = v !== null && typeof v === 'object' && ((Number.isInteger(v.code) && v.signal === null) || (v.code === null && typeof v.signal === 'string'));
    return ok ? undefined : `exited resolved with ${JSON.stringify(v)}`;
  }
  const e = end.error;
  if (exp.abortable && e instanceof AbortError) return undefined;
  if (e instanceof NsboxError && typeof e.code === 'string' && e.code.length > 0) return undefined;
  return `exited rejected with ${show(e)}, not an NsboxError with a code`;
}

const explored = new Map<string, { count: number; example: string }>();
/** The name of the generated case's place, for the explore report. */
let caseName = '';

/** In explore mode, records a failure instead of failing (grouped by its message without values). */
async function explore(run: () => Promise<void>): Promise<void> {
  if (!EXPLORE) return run();
  try {
    await run();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const key = `${expect.getState().currentTestName} [${caseName}]: ${message.replace(/"(?:[^"\\]|\\.)*"|'[^']*'|\([^)]*\)|-?\d+(\.\d+)?(e[+-]?\d+)?/g, '_')}`.slice(0, 300);
    const seen = explored.get(key) ?? { count: 0, example: message.slice(0, 400) };
    seen.count++;
    explored.set(key, seen);
  }
}

/** Runs one case and throws (failing the property) unless it ended as `exp` allows. */
function judge(call: () => unknown, exp: Expectation): Promise<void> {
  return explore(() => judgeNow(call, exp));
}

async function judgeNow(call: () => unknown, exp: Expectation): Promise<void> {
  const spawnsBefore = boundary.spawns;
  const fdsBefore = openFds();
  boundary.joinTime = exp.joinTime ?? false;
  let result: unknown;
  let error: unknown;
  let threw = false;
  try {
    result = call();
  } catch (e) {
    threw = true;
    error = e;
  } finally {
    boundary.joinTime = false;
  }
  if (threw) {
    if (error instanceof BoundaryViolation) throw new Error(`reached the addon's spawn with bad arguments: ${error.message}`);
    if (boundary.spawns !== spawnsBefore) throw new Error(`threw after the addon's spawn had run: ${show(error)}`);
    const fdsAfter = openFds();
    if (fdsAfter !== fdsBefore) throw new Error(`threw and left ${fdsAfter - fdsBefore} fd(s) open: ${show(error)}`);
    if (error instanceof UserError) {
      const trap = exp.traps?.find((t) => t.error === error);
      if (!trap) throw new Error(`threw a user error that is not this case's own: ${show(error)}`);
      if (exp.outcome === 'run') throw new Error(`valid options threw ${show(error)}`);
      return;
    }
    const cause = (error as { cause?: unknown } | null)?.cause;
    if (exp.asCause && cause instanceof UserError && exp.traps?.some((t) => t.error === cause) && validationProblem(error, exp.culprit) === undefined) return;
    if (exp.traps?.some((t) => t.fired > 0)) {
      const fired = exp.traps.filter((t) => t.fired > 0).map((t) => t.where);
      throw new Error(`user code threw (${fired.join(', ')}) but spawnIsolated threw something else: ${show(error)}`);
    }
    if (exp.outcome === 'run') throw new Error(`valid options threw ${show(error)}`);
    if (exp.outcome === 'user') throw new Error(`expected the error of ${exp.traps?.map((t) => t.where).join(', ')}, unchanged; threw ${show(error)}`);
    const problem = validationProblem(error, exp.culprit);
    if (problem) throw new Error(problem);
    const code = (error as { code?: unknown }).code;
    if (exp.code !== undefined && code !== exp.code) throw new Error(`threw ${show(error)}, not ${exp.code}`);
    return;
  }
  if (!(result instanceof IsolatedProcess)) throw new Error(`returned ${show(result)}, not an IsolatedProcess`);
  const end = await settle(result);
  const ended = end.kind === 'resolved' ? `resolved ${JSON.stringify(end.value)}` : end.kind === 'rejected' ? `rejected ${show(end.error)}` : 'hung';
  const fired = exp.traps?.filter((t) => t.fired > 0) ?? [];
  if (fired.length > 0) throw new Error(`user code threw (${fired.map((t) => t.where).join(', ')}) but spawnIsolated went on and ran (${ended})`);
  if (exp.outcome === 'user') throw new Error(`expected the error of ${exp.traps?.map((t) => t.where).join(', ')}; the getter was never read, and it ran and ${ended}`);
  if (exp.outcome === 'reject') {
    const culprit = exp.culprit === undefined ? 'the option' : [exp.culprit].flat().join(' or ');
    throw new Error(`expected a synchronous TypeError/RangeError naming ${culprit} before anything ran; it ran instead and ${ended}`);
  }
  const problem = exitProblem(end, exp);
  if (problem) throw new Error(problem);
}

// ---------------------------------------------------------------------------------------------
// The addon's spawn, watched: what reaches it must be what C can take as it is.

class BoundaryViolation extends Error {}

const boundary: { spawns: number; joinTime: boolean; dryRun: boolean; captured: Decoded | undefined } = { spawns: 0, joinTime: false, dryRun: false, captured: undefined };
const INT32_MAX = 2 ** 31 - 1;
const OP_NAMES = new Map<number, string>(Object.entries(WIRE.op).map(([name, op]) => [op, name]));

/** Reads a request (lib/request.ts, src/sys/wire.h): the spawn section, then the plan. */
class Reader {
  at = 0;
  constructor(readonly buf: Buffer) {}
  u32(): number {
    const v = os.endianness() === 'LE' ? this.buf.readUInt32LE(this.at) : this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  i32(): number {
    return this.u32() | 0;
  }
  /** A string as steps hold them: u32 length, bytes, NUL. Returns the bytes. */
  string(): Buffer {
    const length = this.u32();
    const bytes = this.buf.subarray(this.at, this.at + length);
    this.at += length + 1;
    return bytes;
  }
}

function nulProblem(where: string, bytes: Buffer): string | undefined {
  const nul = bytes.indexOf(0);
  return nul < 0 ? undefined : `${where} has a NUL byte at ${nul} of ${bytes.length}, so C sees it cut short`;
}

function mapProblems(name: string, bytes: Buffer): string[] {
  const text = bytes.toString('utf8');
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.pop() !== '' || lines.length > 340) return [`the ${name} is ${JSON.stringify(text.slice(0, 80))}`];
  const problems: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(\d+) (\d+) (\d+)$/.exec(line);
    const [inside, outside, count] = m ? m.slice(1).map(Number) : [];
    if (!m || inside > 0xfffffffe || outside > 0xfffffffe || count < 1 || count > 0xffffffff) problems.push(`${name} line ${i} is ${JSON.stringify(line.slice(0, 80))}`);
  });
  return problems;
}

/** A request, decoded: its fields in order, labelled, and what is wrong with it. */
interface Decoded {
  fields: [label: string, value: string][];
  problems: string[];
}

/** Decodes a request the addon is given, and finds what C would take otherwise than meant. */
function decodeRequest(request: unknown, joinTime: boolean, running: boolean): Decoded {
  const fields: Decoded['fields'] = [];
  const problems: string[] = [];
  if (!(request instanceof Uint8Array)) return { fields, problems: [`the request is ${show(request)}, not bytes`] };
  const r = new Reader(Buffer.from(request.buffer, request.byteOffset, request.byteLength));
  const field = (label: string, value: number | Buffer): void => {
    fields.push([label, typeof value === 'number' ? String(value) : JSON.stringify(value.toString('utf8').slice(0, 200))]);
  };
  const [magic, version, size, options, cloneFlags, unshareFlags, nstdio, njoins, vethPrefix] = Array.from({ length: 9 }, () => r.u32());
  if (magic !== WIRE.spawn.magic || version !== WIRE.spawn.version) {
    return { fields, problems: [`a request of magic 0x${magic.toString(16)} version ${version}: this test decodes version ${WIRE.spawn.version} (update it with src/sys/wire.h)`] };
  }
  field('spawn options', options);
  field('clone flags', cloneFlags);
  field('unshare flags', unshareFlags);
  field('veth prefix', vethPrefix);
  r.at = WIRE.spawn.headerSize;
  if (nstdio > 64) problems.push(`${nstdio} stdio entries`);
  for (let i = 0; i < nstdio && r.at < size; i++) {
    const fd = r.i32();
    field(`stdio[${i}]`, fd);
    if (fd < WIRE.stdio.ignore) problems.push(`stdio[${i}] is ${fd}: neither an fd nor pipe/ignore`);
  }
  const allKinds = Object.values(CLONE_FLAGS).reduce((a, b) => a | b, 0);
  for (let i = 0; i < njoins && r.at < size; i++) {
    const [fd, nstype] = [r.i32(), r.u32()];
    field(`joins[${i}].fd`, fd);
    field(`joins[${i}].nstype`, nstype);
    if (fd < 0 || nstype === 0 || (nstype & ~allKinds) !== 0) problems.push(`joins[${i}] is { fd: ${fd}, nstype: 0x${nstype.toString(16)} }`);
  }
  const strings = ['uid map', 'gid map', 'veth host name', 'veth peer name', 'veth host address'].map((name) => [name, r.string()] as const);
  for (const [name, bytes] of strings) {
    // The default host name of a veth counts up from spawn to spawn: not compared.
    if (name !== 'veth host name') field(name, bytes);
    const nul = nulProblem(`the ${name}`, bytes);
    if (nul) problems.push(nul);
  }
  problems.push(...mapProblems('uid map', strings[0][1]), ...mapProblems('gid map', strings[1][1]));
  if (running && options & WIRE.spawn.options.veth) problems.push(`a veth request reached the addon (${strings[2][1].toString()}); this suite never makes a valid one`);
  if (r.at !== size) problems.push(`the spawn section is ${r.at} bytes, its header says ${size}`);
  r.at = size;
  const [planMagic, planVersion, planOptions, steps] = [r.u32(), r.u32(), r.u32(), r.u32()];
  if (planMagic !== WIRE.magic || planVersion !== WIRE.version) return { fields, problems: [...problems, `a plan of magic 0x${planMagic.toString(16)} version ${planVersion}`] };
  field('plan options', planOptions);
  field('plan steps', steps);
  for (let i = 0; i < steps; i++) {
    if (r.at + 24 > r.buf.length) return { fields, problems: [...problems, 'the plan is shorter than its steps'] };
    const [op, count, a, b, low, high] = Array.from({ length: 6 }, () => r.u32());
    const name = `plan step ${i} (${OP_NAMES.get(op) ?? `op ${op}`})`;
    field(`${name} a`, a);
    field(`${name} b`, b);
    field(`${name} flags`, high * 2 ** 32 + low);
    for (let j = 0; j < count; j++) {
      const bytes = r.string();
      field(`${name} string ${j}`, bytes);
      // A seccomp program is bytes, with its length in `a`: NULs belong in it.
      if (op === WIRE.op.seccomp) {
        if (bytes.length !== a || a % 8 !== 0) problems.push(`${name}: a program of ${bytes.length} bytes, its step says ${a}`);
        continue;
      }
      const nul = nulProblem(`${name} string ${j}`, bytes);
      if (nul) problems.push(nul);
    }
    if (op === WIRE.op.joinNs && !(joinTime && a === CLONE_FLAGS.time)) {
      problems.push(`${name} joins a namespace (kind 0x${a.toString(16)}) that the public options never asked to join`);
    }
    if (op === WIRE.op.exec && a + 1 > count) problems.push(`${name}: argc ${a} but only ${count} strings`);
  }
  if (r.at !== r.buf.length) problems.push(`the request has ${r.buf.length - r.at} bytes after its plan`);
  return { fields, problems };
}

/** The first field where two decoded requests differ, in words; undefined if they are the same. */
function firstDifference(got: Decoded['fields'], want: Decoded['fields']): string | undefined {
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    const [g, w] = [got[i], want[i]];
    if (g?.[0] !== w?.[0] || g?.[1] !== w?.[1]) return `${g ? `${g[0]} = ${g[1]}` : 'nothing'}, where the validated values give ${w ? `${w[0]} = ${w[1]}` : 'nothing'}`;
  }
  return undefined;
}

/** Thrown instead of spawning, in a dry run: the request was decoded into `boundary.captured`. */
class DryRun extends Error {}

let restoreSpawn: (() => void) | undefined;

function watchNativeSpawn(): void {
  const binding = native() as unknown as Record<string, unknown>;
  const real = binding.spawn as (...args: unknown[]) => unknown;
  binding.spawn = function spawn(this: unknown, ...args: unknown[]) {
    boundary.spawns++;
    const decoded = decodeRequest(args[0], boundary.joinTime, !boundary.dryRun);
    if (decoded.problems.length > 0) throw new BoundaryViolation(decoded.problems.join('; '));
    if (boundary.dryRun) {
      boundary.captured = decoded;
      throw new DryRun('dry run');
    }
    return real.apply(this, args);
  };
  restoreSpawn = () => {
    binding.spawn = real;
  };
}

/**
 * A case whose values change from read to read (a getter, a Proxy), against the reference case
 * whose reads all give the first, valid value: if it reaches the addon, its request must be the
 * reference's. Options must be read once, and what runs is what was validated: a value read again
 * later (and so never validated) must not get into the request. Both are dry runs: the addon's
 * spawn is not called.
 */
function judgeSame(changing: () => unknown, reference: () => unknown, exp: Pick<Expectation, 'joinTime' | 'traps'> = {}): Promise<void> {
  return explore(() => judgeSameNow(changing, reference, exp));
}

async function judgeSameNow(changing: () => unknown, reference: () => unknown, exp: Pick<Expectation, 'joinTime' | 'traps'>): Promise<void> {
  const dry = (run: () => unknown): { threw: true; error: unknown; request?: Decoded } | { threw: false; result: unknown } => {
    boundary.dryRun = true;
    boundary.joinTime = exp.joinTime ?? false;
    boundary.captured = undefined;
    try {
      return { threw: false, result: run() };
    } catch (error) {
      return { threw: true, error, request: error instanceof DryRun ? boundary.captured : undefined };
    } finally {
      boundary.dryRun = false;
      boundary.joinTime = false;
    }
  };
  const want = dry(reference);
  if (!want.threw || !want.request) {
    if (!want.threw && want.result instanceof IsolatedProcess) await settle(want.result);
    throw new Error(`test bug: the reference case did not reach the addon (${want.threw ? show(want.error) : 'returned'})`);
  }
  const fdsBefore = openFds();
  const got = dry(changing);
  if (!got.threw) {
    const end = got.result instanceof IsolatedProcess ? await settle(got.result) : undefined;
    throw new Error(`the reference case reached the addon, this one did not: it returned ${end ? `a sandbox that ${end.kind}` : show(got.result)}`);
  }
  if (got.error instanceof BoundaryViolation) throw new Error(`reached the addon's spawn with bad arguments: ${got.error.message}`);
  if (got.request) {
    const fired = exp.traps?.filter((t) => t.fired > 0) ?? [];
    if (fired.length > 0) throw new Error(`user code threw (${fired.map((t) => t.where).join(', ')}) but spawnIsolated went on to the addon's spawn`);
    const difference = firstDifference(got.request.fields, want.request.fields);
    if (difference) throw new Error(`a value read again after validation got into the request: ${difference}`);
    return;
  }
  const fdsAfter = openFds();
  if (fdsAfter !== fdsBefore) throw new Error(`threw and left ${fdsAfter - fdsBefore} fd(s) open: ${show(got.error)}`);
  if (got.error instanceof UserError && exp.traps?.some((t) => t.error === got.error)) return;
  const fired = exp.traps?.filter((t) => t.fired > 0) ?? [];
  if (fired.length > 0) throw new Error(`user code threw (${fired.map((t) => t.where).join(', ')}) but spawnIsolated threw something else: ${show(got.error)}`);
  const problem = validationProblem(got.error);
  if (problem) throw new Error(problem);
}

// ---------------------------------------------------------------------------------------------
// Leaks, per spawning property.

const quietFds = settledFds;

async function expectNoLeaks(baseline: number): Promise<void> {
  await waitFor(() => openFds() === baseline && zombieChildren() === 0, 3000);
  expect({ fds: openFds(), zombies: zombieChildren() }).toEqual({ fds: baseline, zombies: 0 });
}

/** A property, then the leak check of the fds and zombies it may have left. */
async function assertProperty<Ts extends unknown[]>(property: fc.IAsyncPropertyWithHooks<Ts>, numRuns: number): Promise<void> {
  const baseline = await quietFds();
  await fc.assert(property, params<Ts>(numRuns));
  await expectNoLeaks(baseline);
}

// ---------------------------------------------------------------------------------------------
// Values.

let rootfs: HostRootfs | undefined;
/** The test rootfs (/bin/true, /tmp, /mnt), built once. */
const ROOTFS = (): string => {
  rootfs ??= hostRootfs(['true', 'sleep']);
  return rootfs.dir;
};
let devNull = -1;

const FAKE_SIGNAL = Object.freeze({ aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {} });
/** Values of every type, and of a few look-alikes (boxed primitives, a fake AbortSignal). */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.constantFrom('', 'true', '1', 'pipe ', 'SIGTERM ', 'all ', '/', 'bogus'),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
  fc.constant(Symbol('value')),
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
  fc.constantFrom<unknown>(() => true, class {}, new Date(0), /re/, new Map(), Object.create(null), new Number(1), new String('pipe'), new Boolean(true), FAKE_SIGNAL, new EventTarget(), new Uint8Array(2)),
);

const isObjectLike = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `v` has a type `name` accepts (its value may still be refused). */
function typeAccepted(name: string, v: unknown): boolean {
  if (v === undefined) return true;
  if ((PUBLIC_BOOLEANS as readonly string[]).includes(name)) return typeof v === 'boolean';
  switch (name) {
    case 'net':
    case 'time':
      return typeof v === 'boolean' || isObjectLike(v);
    case 'join':
    case 'env':
      return isObjectLike(v);
    case 'namespaces':
      return v === 'all' || Array.isArray(v);
    case 'uidMap':
    case 'gidMap':
    case 'mounts':
      return Array.isArray(v);
    case 'rootfs':
    case 'hostname':
    case 'domainname':
    case 'cwd':
    case 'argv0':
      return typeof v === 'string' && v.length > 0;
    case 'stdio':
      return v === 'pipe' || v === 'inherit' || v === 'ignore' || Array.isArray(v);
    case 'nice':
    case 'timeout':
      return typeof v === 'number';
    case 'signal':
      return v instanceof AbortSignal;
    case 'killSignal':
      return typeof v === 'number' || (typeof v === 'string' && v in os.constants.signals);
    default:
      throw new Error(`no type for ${name}`);
  }
}

const SPECIAL_NUMBERS = [
  NaN, Infinity, -Infinity, 2 ** 32 + 1, 2 ** 32, 2 ** 32 - 1, 2 ** 31, 2 ** 53, -(2 ** 53), Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE,
  -1, -2, -3, -20.5, -21, 20, 65, -(2 ** 31), -(2 ** 32 + 1), 0, 0.5, 1.5, -0.5, 2 ** 31 - 0.5, 64.5, 19.5, 0.1, 1e-300, 0o7777 + 1,
];
const anyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...SPECIAL_NUMBERS),
  fc.double(),
  fc.double({ min: -1e10, max: 1e10 }),
  fc.integer(),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
);

/** A string with at least one NUL byte; `prefix` keeps it an absolute path where one is needed. */
const withNul = (prefix = ''): fc.Arbitrary<string> =>
  fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })).map(([a, b]) => `${prefix}${a}\0${b}`);

const isInt = (n: number, min: number, max: number): boolean => Number.isInteger(n) && n >= min && n <= max;

/** Names of a list's entries, as an arbitrary (so that counterexamples print names, not functions). */
const nameOf = <T extends { name: string }>(list: readonly T[]): fc.Arbitrary<string> => fc.constantFrom(...list.map((e) => e.name));
const byName = <T extends { name: string }>(list: readonly T[], name: string): T => {
  const found = list.find((e) => e.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
};

type Call = [command: unknown, args: unknown, options: unknown];
const opts = (o: Record<string, unknown>): Call => ['/bin/true', [], { stdio: 'ignore', ...o }];
const call = ([command, args, options]: Call) => () => spawnIsolated(command as string, args as string[], options as never);

// ---------------------------------------------------------------------------------------------
// Where a value can go: the options and what nests in them. `build(v)` puts v there in
// otherwise valid options.

interface Slot {
  name: string;
  /** The top-level option (or parameter) an error about it must name. */
  culprit: string | readonly string[];
  build(v: unknown): Call;
  /** Whether `v` has a type this place accepts (wrong-type cases are the others). */
  accepts(v: unknown): boolean;
  joinTime?: boolean;
}

const JOINABLE = ['mount', 'uts', 'ipc', 'net', 'cgroup', 'time'] as const;
/** Options that let `join.<kind>` stand alone (joining the mount namespace means not making one). */
const joinAlone = (kind: string): Record<string, unknown> => (kind === 'mount' ? { mount: false } : {});

const veth = (extra: Record<string, unknown>): Record<string, unknown> => ({ net: { veth: { host: '10.213.0.1/30', inside: '10.213.0.2/30', ...extra } } });

const NESTED_SLOTS: Slot[] = [
  { name: 'command', culprit: 'command', build: (v) => [v, [], { stdio: 'ignore' }], accepts: (v) => typeof v === 'string' && v.length > 0 },
  // An object in place of args is the options (spawnIsolated(command, options)).
  { name: 'args', culprit: ['args', 'options'], build: (v) => ['/bin/true', v, { stdio: 'ignore' }], accepts: (v) => v === undefined || v === null || Array.isArray(v) || isObjectLike(v) },
  { name: 'options', culprit: 'options', build: (v) => ['/bin/true', [], v], accepts: (v) => v === undefined || v === null || isObjectLike(v) },
  { name: 'args[1]', culprit: 'args', build: (v) => ['/bin/true', ['a', v], { stdio: 'ignore' }], accepts: (v) => typeof v === 'string' },
  { name: 'mounts[0]', culprit: 'mounts', build: (v) => opts({ rootfs: ROOTFS(), mounts: [v] }), accepts: () => false },
  { name: 'mounts[0].type', culprit: 'mounts', build: (v) => opts({ rootfs: ROOTFS(), mounts: [{ type: v, target: '/tmp' }] }), accepts: (v) => v === 'tmpfs' },
  { name: 'mounts[0].target', culprit: 'mounts', build: (v) => opts({ rootfs: ROOTFS(), mounts: [{ type: 'tmpfs', target: v }] }), accepts: (v) => typeof v === 'string' && v.startsWith('/') },
  { name: 'mounts[0].source', culprit: 'mounts', build: (v) => opts({ rootfs: ROOTFS(), mounts: [{ type: 'bind', source: v, target: '/mnt' }] }), accepts: (v) => typeof v === 'string' && v.length > 0 },
  { name: 'mounts[0].readonly', culprit: 'mounts', build: (v) => opts({ rootfs: ROOTFS(), mounts: [{ type: 'bind', source: '/etc', target: '/mnt', readonly: v }] }), accepts: (v) => v === undefined || typeof v === 'boolean' },
  { name: 'mounts[0].size', culprit: 'mounts', build: (v) => opts({ rootfs: ROOTFS(), mounts: [{ type: 'tmpfs', target: '/tmp', size: v }] }), accepts: (v) => typeof v === 'number' },
  { name: 'mounts[0].mode', culprit: 'mounts', build: (v) => opts({ rootfs: ROOTFS(), mounts: [{ type: 'tmpfs', target: '/tmp', mode: v }] }), accepts: (v) => typeof v === 'number' },
  { name: 'uidMap[0]', culprit: 'uidMap', build: (v) => opts({ uidMap: [v] }), accepts: () => false },
  ...(['inside', 'outside', 'count'] as const).map((key): Slot => ({
    name: `uidMap[0].${key}`,
    culprit: 'uidMap',
    build: (v) => opts({ uidMap: [{ inside: 0, outside: 0, count: 1, [key]: v }] }),
    accepts: (v) => typeof v === 'number',
  })),
  { name: 'gidMap[0].count', culprit: 'gidMap', build: (v) => opts({ gidMap: [{ inside: 0, outside: 0, count: v }] }), accepts: (v) => typeof v === 'number' },
  { name: 'net.veth', culprit: 'net', build: (v) => opts({ net: { veth: v } }), accepts: (v) => v === undefined },
  { name: 'net.veth.host', culprit: 'net', build: (v) => opts(veth({ host: v })), accepts: () => false },
  { name: 'net.veth.inside', culprit: 'net', build: (v) => opts(veth({ inside: v })), accepts: () => false },
  // A string could be a valid name: this suite makes no veth, so names get only other types.
  { name: 'net.veth.hostName', culprit: 'net', build: (v) => opts(veth({ hostName: v })), accepts: (v) => v === undefined || typeof v === 'string' },
  { name: 'net.veth.insideName', culprit: 'net', build: (v) => opts(veth({ insideName: v })), accepts: (v) => v === undefined || typeof v === 'string' },
  { name: 'time.monotonicOffset', culprit: 'time', build: (v) => opts({ time: { monotonicOffset: v } }), accepts: (v) => v === undefined || typeof v === 'number' },
  { name: 'time.boottimeOffset', culprit: 'time', build: (v) => opts({ time: { boottimeOffset: v } }), accepts: (v) => v === undefined || typeof v === 'number' },
  ...JOINABLE.map((kind): Slot => ({
    name: `join.${kind}`,
    culprit: 'join',
    build: (v) => opts({ ...joinAlone(kind), join: { [kind]: v } }),
    accepts: (v) => typeof v === 'number' || (typeof v === 'string' && v.startsWith('/')) || (isObjectLike(v) && 'pidfd' in (v as object)),
    joinTime: kind === 'time',
  })),
  ...JOINABLE.filter((k) => k !== 'time').map((kind): Slot => ({
    name: `join.${kind}.pidfd`,
    culprit: 'join',
    build: (v) => opts({ ...joinAlone(kind), join: { [kind]: { pid: 1, pidfd: v } } }),
    accepts: (v) => v === undefined || typeof v === 'number',
  })),
  { name: 'namespaces[0]', culprit: 'namespaces', build: (v) => opts({ namespaces: [v] }), accepts: (v) => (NAMESPACES as readonly unknown[]).includes(v) },
  ...[0, 1, 4].map((i): Slot => ({
    name: `stdio[${i}]`,
    culprit: 'stdio',
    build: (v) => opts({ stdio: Object.assign(['ignore', 'ignore', 'ignore'], { [i]: v }) }),
    accepts: (v) => v === undefined || v === null || v === 'pipe' || v === 'ignore' || v === 'inherit' || typeof v === 'number',
  })),
];

const TOP_SLOTS: Slot[] = PUBLIC_OPTIONS.map((name) => ({
  name,
  culprit: name,
  // With a rootfs, the options that need one are checked for their own sake.
  build: (v) => opts({ ...(name === 'readonlyRoot' || name === 'dev' || name === 'mounts' ? { rootfs: ROOTFS() } : {}), [name]: v }),
  accepts: (v) => typeAccepted(name, v),
}));

// ---------------------------------------------------------------------------------------------

beforeAll(() => {
  // eslint-disable-next-line no-console
  console.log(`fast-check seed ${SEED} (NSBOX_FC_SEED=${SEED} to reproduce, any other number to explore)`);
  watchNativeSpawn();
});

afterAll(() => {
  if (EXPLORE) {
    const lines = [...explored].map(([key, { count, example }]) => `${count}x ${key}\n    e.g. ${example}`);
    // eslint-disable-next-line no-console
    console.log(`distinct failures (seed ${SEED}):\n${lines.join('\n')}`);
  }
  restoreSpawn?.();
  rootfs?.remove();
  rootfs = undefined;
});

describe('validation: every bad value is a typed error before anything runs', () => {
  it.each([...TOP_SLOTS, ...NESTED_SLOTS].map((s) => [s.name, s] as const))('wrong types: %s', async (_name, slot) => {
    await fc.assert(
      fc.asyncProperty(anyValue.filter((v) => !slot.accepts(v)), (v) => judge(call(slot.build(v)), { outcome: 'reject', culprit: slot.culprit, joinTime: slot.joinTime })),
      params(CHECK_RUNS),
    );
  });

  interface NumericSlot {
    name: string;
    culprit: string;
    build(n: number): Call;
    valid(n: number): boolean;
    /** Numbers of the right form that only the kernel can refuse (a pid that does not exist). */
    runtime?(n: number): boolean;
  }
  const NUMERIC: NumericSlot[] = [
    { name: 'nice', culprit: 'nice', build: (n) => opts({ nice: n }), valid: (n) => isInt(n, -20, 19) },
    { name: 'timeout', culprit: 'timeout', build: (n) => opts({ timeout: n }), valid: (n) => isInt(n, 1, INT32_MAX) },
    { name: 'killSignal', culprit: 'killSignal', build: (n) => opts({ killSignal: n }), valid: (n) => isInt(n, 0, 64) },
    { name: 'stdio[1] fd', culprit: 'stdio', build: (n) => opts({ stdio: ['ignore', n, 'ignore'] }), valid: (n) => isInt(n, 0, INT32_MAX) },
    { name: 'stdio[5] fd', culprit: 'stdio', build: (n) => opts({ stdio: ['ignore', 'ignore', 'ignore', 'ignore', 'ignore', n] }), valid: (n) => isInt(n, 0, INT32_MAX) },
    ...(['inside', 'outside', 'count'] as const).flatMap((key) =>
      (['uidMap', 'gidMap'] as const).map((map): NumericSlot => ({
        name: `${map}[0].${key}`,
        culprit: map,
        build: (n) => opts({ [map]: [{ inside: 0, outside: 0, count: 1, [key]: n }] }),
        valid: (n) => isInt(n, key === 'count' ? 1 : 0, 0xfffffffe),
      })),
    ),
    { name: 'mounts[0].size', culprit: 'mounts', build: (n) => opts({ rootfs: ROOTFS(), mounts: [{ type: 'tmpfs', target: '/tmp', size: n }] }), valid: (n) => isInt(n, 1, Number.MAX_SAFE_INTEGER) },
    { name: 'mounts[0].mode', culprit: 'mounts', build: (n) => opts({ rootfs: ROOTFS(), mounts: [{ type: 'tmpfs', target: '/tmp', mode: n }] }), valid: (n) => isInt(n, 0, 0o7777) },
    { name: 'time.monotonicOffset', culprit: 'time', build: (n) => opts({ time: { monotonicOffset: n } }), valid: (n) => Number.isFinite(n) && Math.abs(n) <= 2 ** 31 },
    { name: 'time.boottimeOffset', culprit: 'time', build: (n) => opts({ time: { boottimeOffset: n } }), valid: (n) => Number.isFinite(n) && Math.abs(n) <= 2 ** 31 },
    // A pid beyond pid_t is refused by /proc (ENOENT) if not before; one below 1 never is a pid.
    { name: 'join.net pid', culprit: 'join', build: (n) => opts({ join: { net: n } }), valid: (n) => isInt(n, 1, INT32_MAX), runtime: (n) => Number.isInteger(n) && n > INT32_MAX },
    { name: 'join.uts pidfd', culprit: 'join', build: (n) => opts({ join: { uts: { pid: 1, pidfd: n } } }), valid: (n) => isInt(n, 0, INT32_MAX) },
  ];

  it.each(NUMERIC.map((s) => [s.name, s] as const))('numbers out of range: %s', async (_name, slot) => {
    await fc.assert(
      fc.asyncProperty(anyNumber.filter((n) => !slot.valid(n)), (n) =>
        judge(call(slot.build(n)), { outcome: slot.runtime?.(n) ? 'either' : 'reject', culprit: slot.culprit }),
      ),
      params(CHECK_RUNS),
    );
  });

  const NUL_SLOTS: { name: string; culprit: string; value: fc.Arbitrary<string>; build(s: string): Call; joinTime?: boolean }[] = [
    { name: 'command', culprit: 'command', value: withNul('/bin/true'), build: (s) => [s, [], { stdio: 'ignore' }] },
    { name: 'args[i]', culprit: 'args', value: withNul(), build: (s) => ['/bin/true', ['a', s, 'b'], { stdio: 'ignore' }] },
    { name: 'env key', culprit: 'env', value: withNul(), build: (s) => opts({ env: { [s]: 'v' } }) },
    { name: 'env value', culprit: 'env', value: withNul(), build: (s) => opts({ env: { PATH: '/bin', V: s } }) },
    { name: 'rootfs', culprit: 'rootfs', value: withNul('/tmp'), build: (s) => opts({ rootfs: s }) },
    { name: 'cwd', culprit: 'cwd', value: withNul('/'), build: (s) => opts({ cwd: s }) },
    { name: 'argv0', culprit: 'argv0', value: withNul(), build: (s) => opts({ argv0: s }) },
    { name: 'hostname', culprit: 'hostname', value: withNul(), build: (s) => opts({ hostname: s }) },
    { name: 'domainname', culprit: 'domainname', value: withNul(), build: (s) => opts({ domainname: s }) },
    { name: 'mounts[0].target (tmpfs)', culprit: 'mounts', value: withNul('/tmp'), build: (s) => opts({ rootfs: ROOTFS(), mounts: [{ type: 'tmpfs', target: s }] }) },
    { name: 'mounts[0].target (bind)', culprit: 'mounts', value: withNul('/mnt'), build: (s) => opts({ rootfs: ROOTFS(), mounts: [{ type: 'bind', source: '/etc', target: s }] }) },
    { name: 'mounts[0].source', culprit: 'mounts', value: withNul('/etc'), build: (s) => opts({ rootfs: ROOTFS(), mounts: [{ type: 'bind', source: s, target: '/mnt' }] }) },
    ...JOINABLE.map((kind) => ({
      name: `join.${kind} path`,
      culprit: 'join',
      value: withNul(`/proc/self/ns/${kind === 'mount' ? 'mnt' : kind}`),
      build: (s: string) => opts({ ...joinAlone(kind), join: { [kind]: s } }),
      joinTime: kind === 'time',
    })),
    { name: 'net.veth.hostName', culprit: 'net', value: withNul(), build: (s) => opts(veth({ hostName: s })) },
    { name: 'net.veth.insideName', culprit: 'net', value: withNul(), build: (s) => opts(veth({ insideName: s })) },
    { name: 'net.veth.host', culprit: 'net', value: withNul('10.213.0.1/30'), build: (s) => opts(veth({ host: s })) },
    { name: 'killSignal', culprit: 'killSignal', value: withNul('SIGTERM'), build: (s) => opts({ killSignal: s }) },
    { name: 'namespaces[0]', culprit: 'namespaces', value: withNul('pid'), build: (s) => opts({ namespaces: [s] }) },
    { name: 'stdio name', culprit: 'stdio', value: withNul('pipe'), build: (s) => opts({ stdio: s }) },
  ];

  it.each(NUL_SLOTS.map((s) => [s.name, s] as const))('NUL bytes: %s', async (_name, slot) => {
    await fc.assert(
      fc.asyncProperty(slot.value, (s) => judge(call(slot.build(s)), { outcome: 'reject', culprit: slot.culprit, joinTime: slot.joinTime })),
      params(CHECK_RUNS),
    );
  });

  it('unknown option names, beside valid ones, are ERR_NSBOX_UNKNOWN_OPTION (helperJoins is internal)', async () => {
    const known = new Set(PUBLIC_OPTIONS);
    const name = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('helperJoins', '__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'PID', 'Pid', ' pid', 'pid ', 'rootFS', 'shell', 'detached', 'windowsHide', '0', 'length', 'namespace', 'mounts\0'),
    ).filter((k) => !known.has(k));
    const helperJoinsValue = fc.constantFrom<unknown>([{ kind: 'bogus' }], [{ kind: 'mount', file: '/proc/1/ns/mnt' }], [{ kind: 'time', file: '/proc/1/ns/time' }], [], 1);
    await fc.assert(
      fc.asyncProperty(name, fc.oneof(anyValue, helperJoinsValue), fc.subarray(['pid', 'init', 'trace', 'nice']), (key, value, valid) => {
        const o: Record<string, unknown> = { stdio: 'ignore' };
        for (const k of valid) o[k] = k === 'nice' ? 5 : true;
        Object.defineProperty(o, key, { value, enumerable: true, configurable: true, writable: true });
        return judge(call(['/bin/true', [], o]), { outcome: 'reject', code: 'ERR_NSBOX_UNKNOWN_OPTION' });
      }),
      params(CHECK_RUNS),
    );
  });

  it('unknown names inside join, time and namespaces are typed errors naming their option', async () => {
    const where = fc.constantFrom('join', 'time', 'namespaces');
    const name = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('pid', 'user', 'NET', 'mnt', 'monotonic', 'boottime', '__proto__', 'constructor', 'helperJoins'));
    await fc.assert(
      fc.asyncProperty(where, name, (option, key) => {
        const fine = option === 'join' ? (JOINABLE as readonly string[]).includes(key) : option === 'time' ? key === 'monotonicOffset' || key === 'boottimeOffset' : (NAMESPACES as readonly string[]).includes(key);
        fc.pre(!fine);
        const inner: Record<string, unknown> = {};
        Object.defineProperty(inner, key, { value: option === 'join' ? '/proc/self/ns/net' : 1, enumerable: true });
        return judge(call(opts({ [option]: option === 'namespaces' ? [key] : inner })), { outcome: 'reject', culprit: option });
      }),
      params(CHECK_RUNS),
    );
  });

  it('arrays with holes: a missing element is a typed error, not an error of deeper code', async () => {
    const SPARSE: { name: string; culprit: string; build(a: unknown[]): Call; element: unknown }[] = [
      { name: 'args', culprit: 'args', build: (a) => ['/bin/true', a, { stdio: 'ignore' }], element: 'a' },
      { name: 'mounts', culprit: 'mounts', build: (a) => opts({ rootfs: ROOTFS(), mounts: a }), element: { type: 'tmpfs', target: '/tmp' } },
      { name: 'uidMap', culprit: 'uidMap', build: (a) => opts({ uidMap: a }), element: { inside: 0, outside: 0, count: 1 } },
      { name: 'namespaces', culprit: 'namespaces', build: (a) => opts({ namespaces: a }), element: 'pid' },
    ];
    await fc.assert(
      fc.asyncProperty(nameOf(SPARSE), fc.integer({ min: 1, max: 5 }), fc.nat(), (name, length, seed) => {
        const slot = byName(SPARSE, name);
        caseName = name;
        const a: unknown[] = [];
        a.length = length;
        const hole = seed % length;
        for (let i = 0; i < length; i++) if (i !== hole) a[i] = slot.element;
        return judge(call(slot.build(a)), { outcome: 'reject', culprit: slot.culprit });
      }),
      params(CHECK_RUNS),
    );
  });

  // A sparse array can claim 2**32 - 1 elements at no cost: nsbox must refuse it without walking
  // (or copying) every index. Each case runs in a node of its own, so that a hang or a crash of
  // today's code fails this test instead of the whole suite.
  it('arrays of a huge length (sparse) are refused at once: no hang, no crash', async () => {
    const kinds = ['args', 'stdio', 'mounts', 'uidMap', 'namespaces'] as const;
    const lengths = fc.sample(fc.oneof(fc.constant(2 ** 32 - 1), fc.integer({ min: 2 ** 27, max: 2 ** 32 - 1 })), { seed: SEED, numRuns: kinds.length });
    const results = await Promise.all(kinds.map((kind, i) => inFreshNode(kind, lengths[i])));
    const failures = results.filter((r) => r.problem !== undefined).map((r) => `${r.kind} of length ${r.length}: ${r.problem}`);
    expect(failures).toEqual([]);
  }, 30_000);
});

/** Runs spawnIsolated with a sparse array of `length` as `kind` in a fresh node, from lib/'s sources. */
function inFreshNode(kind: string, length: number): Promise<{ kind: string; length: number; problem: string | undefined }> {
  const script = `
const fs = require('fs');
const swc = require(${JSON.stringify(path.join(ROOT, 'node_modules', '@swc', 'core'))});
require.extensions['.ts'] = (m, file) => {
  const { code } = swc.transformSync(fs.readFileSync(file, 'utf8'), { filename: file, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } });
  m._compile(code, file);
};
const { spawnIsolated } = require(${JSON.stringify(path.join(ROOT, 'lib', 'index.ts'))});
const sparse = []; sparse.length = ${length};
const kind = ${JSON.stringify(kind)};
const options = { stdio: 'ignore' };
if (kind !== 'args') options[kind] = sparse;
if (kind === 'mounts') options.rootfs = '/';
try {
  const child = spawnIsolated('/bin/true', kind === 'args' ? sparse : [], options);
  child.kill('SIGKILL');
  console.log(JSON.stringify({ ran: true }));
} catch (e) {
  console.log(JSON.stringify({ name: e && e.constructor && e.constructor.name, code: e && e.code, message: String(e && e.message) }));
}`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--max-old-space-size=128', '-e', script], { timeout: 10_000, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const done = (problem: string | undefined): void => resolve({ kind, length, problem });
      const last = stdout.trim().split('\n').pop() ?? '';
      if (err && (err as { killed?: boolean }).killed) return done('hung (killed after 10 s)');
      if (err) return done(`the node process died (${(err as { signal?: string }).signal ?? `exit ${String((err as { code?: unknown }).code)}`}): ${stderr.split('\n').find((l) => /FATAL|Error/.test(l)) ?? stderr.slice(0, 200)}`);
      let r: { ran?: boolean; name?: string; code?: unknown; message?: string };
      try {
        r = JSON.parse(last) as typeof r;
      } catch {
        return done(`printed ${JSON.stringify(last.slice(0, 200))}`);
      }
      if (r.ran) return done('it was spawned');
      const e = Object.assign(r.name === 'RangeError' ? new RangeError(r.message) : r.name === 'TypeError' ? new TypeError(r.message) : new Error(r.message), { code: r.code });
      done(validationProblem(e, kind));
    });
  });
}

describeAsRoot('runs: options that pass validation run, and settle', () => {
  beforeAll(() => {
    ROOTFS();
    devNull = fs.openSync('/dev/null', 'r+');
  });
  afterAll(() => {
    if (devNull >= 0) fs.closeSync(devNull);
    devNull = -1;
  });

  /** Valid options, by construction: each option's own range, and the rules between them kept. */
  const validOptions: fc.Arbitrary<Record<string, unknown>> = fc
    .record(
      {
        pid: fc.boolean(),
        mount: fc.boolean(),
        uts: fc.boolean(),
        ipc: fc.boolean(),
        net: fc.boolean(),
        cgroup: fc.boolean(),
        time: fc.oneof(fc.boolean(), fc.record({ monotonicOffset: fc.double({ min: -100, max: 1e6, noNaN: true }), boottimeOffset: fc.double({ min: -100, max: 1e6, noNaN: true }) }, { requiredKeys: [] })),
        namespaces: fc.constantFrom<unknown>('all', [], ['pid', 'mount'], ['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup']),
        user: fc.boolean(),
        uidMap: fc.constantFrom([{ inside: 0, outside: 0, count: 1 }], [{ inside: 0, outside: 100000, count: 65536 }]),
        gidMap: fc.constantFrom([{ inside: 0, outside: 0, count: 1 }], [{ inside: 0, outside: 100000, count: 65536 }]),
        rootfs: fc.constant('ROOTFS'),
        readonlyRoot: fc.boolean(),
        proc: fc.boolean(),
        dev: fc.boolean(),
        mounts: fc.array(
          fc.oneof(
            fc.record({ type: fc.constant('tmpfs'), target: fc.constantFrom('/tmp', '/mnt'), size: fc.integer({ min: 4096, max: 1 << 24 }), mode: fc.integer({ min: 0, max: 0o7777 }) }, { requiredKeys: ['type', 'target'] }),
            fc.record({ type: fc.constant('bind'), source: fc.constantFrom('/etc', '/usr/bin'), target: fc.constant('/mnt'), readonly: fc.boolean() }, { requiredKeys: ['type', 'source', 'target'] }),
          ),
          { maxLength: 3 },
        ),
        hostname: fc.string({ minLength: 1, maxLength: 64 }),
        domainname: fc.string({ minLength: 1, maxLength: 64 }),
        init: fc.boolean(),
        cwd: fc.constantFrom('/', '/tmp', 'sub', '/nonexistent'),
        env: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), fc.string({ maxLength: 20 }), { maxKeys: 5 }),
        argv0: fc.string({ minLength: 1, maxLength: 20 }),
        stdio: fc.oneof(fc.constantFrom<unknown>('pipe', 'ignore', 'inherit'), fc.array(fc.constantFrom<unknown>('pipe', 'ignore', 'inherit', null, undefined, 'devnull'), { maxLength: 64 })),
        dieWithParent: fc.boolean(),
        newSession: fc.boolean(),
        noNewPrivileges: fc.boolean(),
        foreground: fc.boolean(),
        nice: fc.integer({ min: 0, max: 19 }),
        trace: fc.boolean(),
        signal: fc.constantFrom('live', 'aborted', 'soon'),
        timeout: fc.integer({ min: 1, max: 3000 }),
        killSignal: fc.constantFrom<unknown>('SIGTERM', 'SIGKILL', 'SIGINT', 'SIGUSR1', 9, 15),
      },
      { requiredKeys: [] },
    )
    .map((o) => o as Record<string, unknown>);

  /** Keeps the rules between options, and makes the placeholders real. */
  function realize(generated: Record<string, unknown>): { options: Record<string, unknown>; abortable: boolean } {
    const o: Record<string, unknown> = { ...generated };
    const ns = o.namespaces === 'all' ? NAMESPACES : (o.namespaces as readonly string[] | undefined);
    const wanted = (kind: string, otherwise: boolean): boolean => (ns === undefined ? otherwise : ns.includes(kind));
    if (o.rootfs === 'ROOTFS') o.rootfs = ROOTFS();
    const mount = (o.mount as boolean | undefined) ?? wanted('mount', true);
    if (!mount) for (const k of ['rootfs', 'mounts', 'readonlyRoot', 'dev', 'proc']) delete o[k];
    if (o.rootfs === undefined) for (const k of ['mounts', 'readonlyRoot', 'dev']) delete o[k];
    if (o.uts === false) for (const k of ['hostname', 'domainname']) delete o[k];
    if (o.user === false) for (const k of ['uidMap', 'gidMap']) delete o[k];
    if (o.foreground === true && o.newSession !== false) delete o.foreground;
    if (Array.isArray(o.stdio)) o.stdio = o.stdio.map((e) => (e === 'devnull' ? devNull : e));
    const abortable = o.signal === 'aborted' || o.signal === 'soon';
    if (o.signal === 'live') o.signal = new AbortController().signal;
    else if (o.signal === 'aborted') o.signal = AbortSignal.abort();
    else if (o.signal === 'soon') o.signal = AbortSignal.timeout(1);
    return { options: o, abortable };
  }

  it('valid options: no throw, and exited settles', async () => {
    await assertProperty(
      fc.asyncProperty(validOptions, (generated) => {
        const { options, abortable } = realize(generated);
        return judge(call(['/bin/true', [], options]), { outcome: 'run', abortable });
      }),
      SPAWN_RUNS,
    );
  });

  const HUGE_CHARS = ['a', '/', 'é', '€', '😀', ' ', '\n', '\u0001', '\uD800'];
  const huge = fc.record({ char: fc.constantFrom(...HUGE_CHARS), length: fc.integer({ min: 1 << 12, max: 1 << 21 }) });
  const HUGE_SLOTS: { name: string; outcome: Expectation['outcome']; culprit: string; build(s: string): Call }[] = [
    { name: 'command', outcome: 'either', culprit: 'command', build: (s) => [s, [], { stdio: 'ignore' }] },
    { name: 'args[0]', outcome: 'either', culprit: 'args', build: (s) => ['/bin/true', [s], { stdio: 'ignore' }] },
    { name: 'env value', outcome: 'either', culprit: 'env', build: (s) => opts({ env: { V: s } }) },
    { name: 'env key', outcome: 'either', culprit: 'env', build: (s) => opts({ env: { [s.replace(/=/g, '_')]: 'v' } }) },
    { name: 'rootfs', outcome: 'either', culprit: 'rootfs', build: (s) => opts({ rootfs: `/${s}` }) },
    { name: 'cwd', outcome: 'either', culprit: 'cwd', build: (s) => opts({ cwd: `/${s}` }) },
    { name: 'argv0', outcome: 'either', culprit: 'argv0', build: (s) => opts({ argv0: s }) },
    { name: 'hostname', outcome: 'reject', culprit: 'hostname', build: (s) => opts({ hostname: s }) },
    { name: 'domainname', outcome: 'reject', culprit: 'domainname', build: (s) => opts({ domainname: s }) },
    { name: 'mounts[0].target', outcome: 'either', culprit: 'mounts', build: (s) => opts({ rootfs: ROOTFS(), mounts: [{ type: 'tmpfs', target: `/${s}` }] }) },
    { name: 'mounts[0].source', outcome: 'either', culprit: 'mounts', build: (s) => opts({ rootfs: ROOTFS(), mounts: [{ type: 'bind', source: `/${s}`, target: '/mnt' }] }) },
    { name: 'join.net path', outcome: 'either', culprit: 'join', build: (s) => opts({ join: { net: `/${s}` } }) },
    { name: 'killSignal', outcome: 'reject', culprit: 'killSignal', build: (s) => opts({ killSignal: s }) },
    { name: 'namespaces[0]', outcome: 'reject', culprit: 'namespaces', build: (s) => opts({ namespaces: [s] }) },
    { name: 'stdio', outcome: 'reject', culprit: 'stdio', build: (s) => opts({ stdio: s }) },
  ];

  it('huge strings (4 KB to 8 MB) anywhere', async () => {
    await assertProperty(
      fc.asyncProperty(nameOf(HUGE_SLOTS), huge, (name, { char, length }) => {
        const slot = byName(HUGE_SLOTS, name);
        caseName = name;
        const s = char.repeat(Math.ceil(length / char.length));
        return judge(call(slot.build(s)), { outcome: slot.outcome, culprit: slot.culprit });
      }),
      SPAWN_RUNS,
    );
  });

  const COUNT_SLOTS: { name: string; max: number; limit?: number; culprit: string; build(n: number): Call }[] = [
    { name: 'args', max: 300_000, culprit: 'args', build: (n) => ['/bin/true', new Array<string>(n).fill('a'), { stdio: 'ignore' }] },
    { name: 'env', max: 100_000, culprit: 'env', build: (n) => opts({ env: Object.fromEntries(Array.from({ length: n }, (_, i) => [`V${i}`, 'x'])) }) },
    { name: 'stdio', max: 400, limit: 64, culprit: 'stdio', build: (n) => opts({ stdio: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 'pipe' : 'ignore')) }) },
    { name: 'mounts', max: 2000, culprit: 'mounts', build: (n) => opts({ rootfs: ROOTFS(), mounts: Array.from({ length: n }, (_, i) => ({ type: 'tmpfs', target: i % 2 ? '/tmp' : '/mnt', size: 1 << 20 })) }) },
    { name: 'uidMap', max: 700, limit: 340, culprit: 'uidMap', build: (n) => opts({ uidMap: Array.from({ length: n }, (_, i) => ({ inside: i, outside: 100000 + i, count: 1 })) }) },
    { name: 'namespaces', max: 100_000, culprit: 'namespaces', build: (n) => opts({ namespaces: new Array<string>(n).fill('pid') }) },
  ];

  it('huge counts: args, env entries, stdio entries, mounts, map lines, namespaces', async () => {
    await assertProperty(
      fc.asyncProperty(nameOf(COUNT_SLOTS), fc.double({ min: 0, max: 1, noNaN: true }), (name, at) => {
        const slot = byName(COUNT_SLOTS, name);
        caseName = name;
        const n = Math.round(at * slot.max);
        const outcome = slot.limit === undefined ? 'either' : n > slot.limit ? 'reject' : 'either';
        return judge(call(slot.build(n)), { outcome, culprit: slot.culprit });
      }),
      SPAWN_RUNS,
    );
  });

  /** A place in otherwise valid options where an accessor can go, and whether it is always read. */
  interface Place {
    name: string;
    /** Builds options with the accessor `get` at this place. */
    build(get: () => unknown): Call;
    /** The value a valid option would have there. */
    valid: unknown;
    joinTime?: boolean;
  }
  const accessor = <T extends object>(target: T, key: PropertyKey, get: () => unknown): T =>
    Object.defineProperty(target, key, { get, enumerable: true, configurable: true });
  const TOP_VALID: Record<string, unknown> = {
    pid: true, mount: true, uts: true, ipc: false, cgroup: false, user: false, readonlyRoot: false, proc: true, dev: false, init: true, dieWithParent: true, newSession: true,
    noNewPrivileges: false, foreground: false, trace: false, net: false, time: false, namespaces: ['pid', 'mount'], join: {}, uidMap: [{ inside: 0, outside: 0, count: 1 }],
    gidMap: [{ inside: 0, outside: 0, count: 1 }], rootfs: 'ROOTFS', mounts: [], hostname: 'box', domainname: 'example.org', cwd: '/', env: { A: '1' }, argv0: 'true',
    stdio: 'ignore', nice: 5, signal: undefined, timeout: 5000, killSignal: 'SIGKILL',
  };
  const PLACES: Place[] = [
    ...PUBLIC_OPTIONS.map((name): Place => ({ name, build: (get) => ['/bin/true', [], accessor({ stdio: 'ignore' }, name, get)], valid: TOP_VALID[name] })),
    { name: 'args[0]', build: (get) => ['/bin/true', accessor(['x'], 0, get), { stdio: 'ignore' }], valid: 'x' },
    { name: 'env.A', build: (get) => opts({ env: accessor({ B: '2' }, 'A', get) }), valid: '1' },
    { name: 'stdio[1]', build: (get) => opts({ stdio: accessor(['ignore', 'ignore', 'ignore'], 1, get) }), valid: 'ignore' },
    { name: 'mounts[0]', build: (get) => opts({ rootfs: ROOTFS(), mounts: accessor([] as unknown[], 0, get) }), valid: { type: 'tmpfs', target: '/tmp' } },
    ...(['type', 'target', 'size', 'mode'] as const).map((key): Place => ({
      name: `mounts[0].${key} (tmpfs)`,
      build: (get) => opts({ rootfs: ROOTFS(), mounts: [accessor({ type: 'tmpfs', target: '/tmp', size: 1 << 20, mode: 0o755 }, key, get)] }),
      valid: { type: 'tmpfs', target: '/tmp', size: 1 << 20, mode: 0o755 }[key],
    })),
    ...(['source', 'readonly'] as const).map((key): Place => ({
      name: `mounts[0].${key} (bind)`,
      build: (get) => opts({ rootfs: ROOTFS(), mounts: [accessor({ type: 'bind', source: '/etc', target: '/mnt', readonly: true }, key, get)] }),
      valid: { source: '/etc', readonly: true }[key],
    })),
    { name: 'uidMap[0]', build: (get) => opts({ uidMap: accessor([] as unknown[], 0, get) }), valid: { inside: 0, outside: 0, count: 1 } },
    ...(['inside', 'outside', 'count'] as const).map((key): Place => ({
      name: `uidMap[0].${key}`,
      build: (get) => opts({ uidMap: [accessor({ inside: 0, outside: 0, count: 1 }, key, get)] }),
      valid: key === 'count' ? 1 : 0,
    })),
    { name: 'gidMap[0].count', build: (get) => opts({ gidMap: [accessor({ inside: 0, outside: 0, count: 1 }, 'count', get)] }), valid: 1 },
    { name: 'net.veth', build: (get) => opts({ net: accessor({}, 'veth', get) }), valid: undefined },
    ...(['host', 'inside', 'hostName', 'insideName'] as const).map((key): Place => ({
      name: `net.veth.${key}`,
      build: (get) => opts({ net: { veth: accessor({ host: '10.213.0.1/30', inside: '10.213.0.2/30' }, key, get) } }),
      valid: { host: '10.213.0.1/30', inside: '10.213.0.2/30', hostName: undefined, insideName: undefined }[key],
    })),
    { name: 'time.monotonicOffset', build: (get) => opts({ time: accessor({ boottimeOffset: 1 }, 'monotonicOffset', get) }), valid: 2.5 },
    { name: 'time.boottimeOffset', build: (get) => opts({ time: accessor({}, 'boottimeOffset', get) }), valid: 1 },
    { name: 'join.uts', build: (get) => opts({ join: accessor({}, 'uts', get) }), valid: '/proc/self/ns/uts' },
    // (Any fd will do as a pidfd: the runs that use `valid` are dry.)
    { name: 'join.net.pidfd', build: (get) => opts({ join: { net: accessor({ pid: 1 }, 'pidfd', get) } }), valid: 7 },
    // The file of the first join may be open when the second one's getter is read.
    { name: 'join.net.pidfd after join.uts', build: (get) => opts({ join: { uts: '/proc/self/ns/uts', net: accessor({ pid: 1 }, 'pidfd', get) } }), valid: 7 },
    { name: 'join.time.pid', build: (get) => opts({ join: { time: accessor({ pidfd: 7 }, 'pid', get) } }), valid: 1, joinTime: true },
    { name: 'namespaces[0]', build: (get) => opts({ namespaces: accessor([] as unknown[], 0, get) }), valid: 'pid' },
    { name: 'signal.aborted', build: (get) => opts({ signal: accessor(new AbortController().signal, 'aborted', get) }), valid: false },
  ];

  it('throwing getters, on the options and on what nests in them: their error, unchanged, before anything runs', async () => {
    await assertProperty(
      fc.asyncProperty(nameOf(PLACES), (name) => {
        const place = byName(PLACES, name);
        caseName = name;
        const trap = new Trap(`getter ${place.name}`);
        return judge(call(place.build(() => trap.fire())), { outcome: 'user', traps: [trap], joinTime: place.joinTime });
      }),
      CHECK_RUNS,
    );
  });

  /** What an accessor or a Proxy gives on later reads: the valid value, anything else, or a throw. */
  const later = fc.array(fc.oneof(fc.constant('VALID'), fc.constant('THROW'), anyValue, anyNumber, withNul('/')), { minLength: 1, maxLength: 4 });

  it('getters that return something else on each read: what reaches the addon is what was validated', async () => {
    await assertProperty(
      fc.asyncProperty(nameOf(PLACES), later, (name, values) => {
        const place = byName(PLACES, name);
        caseName = name;
        const valid = (): unknown => (place.valid === 'ROOTFS' ? ROOTFS() : place.valid);
        const trap = new Trap(`getter ${place.name}, read again`);
        let reads = 0;
        // The first read is valid, later ones give `values` in turn.
        const changing = (): unknown => {
          const v = reads === 0 ? 'VALID' : values[(reads - 1) % values.length];
          reads++;
          return v === 'VALID' ? valid() : v === 'THROW' ? trap.fire() : v;
        };
        return judgeSame(call(place.build(changing)), call(place.build(valid)), { joinTime: place.joinTime, traps: [trap] });
      }),
      CHECK_RUNS,
    );
  });

  /** Objects a Proxy can stand for, in otherwise valid options. */
  interface Target {
    name: string;
    make(): object;
    build(proxy: object): Call;
    joinTime?: boolean;
  }
  const TARGETS: Target[] = [
    { name: 'options', make: () => ({ stdio: 'ignore', pid: true, hostname: 'box', nice: 3, env: { A: '1' }, uidMap: [{ inside: 0, outside: 0, count: 1 }] }), build: (p) => ['/bin/true', [], p] },
    { name: 'options (as the 2nd argument)', make: () => ({ stdio: 'ignore', init: false }), build: (p) => ['/bin/true', p, undefined] },
    { name: 'args', make: () => ['a', 'b'], build: (p) => ['/bin/true', p, { stdio: 'ignore' }] },
    { name: 'env', make: () => ({ A: '1', PATH: '/bin' }), build: (p) => opts({ env: p }) },
    { name: 'stdio', make: () => ['ignore', 'pipe', 'ignore', 'ignore'], build: (p) => opts({ stdio: p }) },
    { name: 'mounts', make: () => [{ type: 'tmpfs', target: '/tmp' }], build: (p) => opts({ rootfs: ROOTFS(), mounts: p }) },
    { name: 'mounts[0]', make: () => ({ type: 'tmpfs', target: '/tmp', size: 1 << 20, mode: 0o700 }), build: (p) => opts({ rootfs: ROOTFS(), mounts: [p] }) },
    { name: 'uidMap', make: () => [{ inside: 0, outside: 0, count: 1 }], build: (p) => opts({ uidMap: p }) },
    { name: 'uidMap[0]', make: () => ({ inside: 0, outside: 100000, count: 65536 }), build: (p) => opts({ uidMap: [p] }) },
    { name: 'join', make: () => ({ uts: '/proc/self/ns/uts', ipc: process.pid }), build: (p) => opts({ join: p }) },
    // Not a pidfd: setns() refuses it, which is a run that settles (rejected, with EINVAL).
    { name: 'join.net target', make: () => ({ pid: process.pid, pidfd: devNull }), build: (p) => opts({ join: { net: p } }) },
    { name: 'net', make: () => ({}), build: (p) => opts({ net: p }) },
    { name: 'net.veth', make: () => ({ host: '10.213.0.1/30', inside: '10.213.0.2/30' }), build: (p) => opts({ net: { veth: p } }) },
    { name: 'time', make: () => ({ monotonicOffset: 1, boottimeOffset: -1.5 }), build: (p) => opts({ time: p }) },
    { name: 'namespaces', make: () => ['pid', 'mount', 'uts'], build: (p) => opts({ namespaces: p }) },
  ];
  const TRAPS = ['get', 'has', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf', 'set', 'defineProperty', 'deleteProperty', 'isExtensible', 'preventExtensions', 'setPrototypeOf'] as const;

  it('Proxies whose traps throw: their error, unchanged, or (traps unused) the same request as without the Proxy', async () => {
    await assertProperty(
      fc.asyncProperty(nameOf(TARGETS), fc.subarray([...TRAPS], { minLength: 1 }), (name, throwing) => {
        const target = byName(TARGETS, name);
        caseName = name;
        const traps = throwing.map((name) => new Trap(`${target.name} proxy ${name} trap`));
        const handler: ProxyHandler<object> = {};
        throwing.forEach((name, i) => {
          (handler as Record<string, unknown>)[name] = () => traps[i].fire();
        });
        return judgeSame(call(target.build(new Proxy(target.make(), handler))), call(target.build(target.make())), { traps });
      }),
      CHECK_RUNS,
    );
  });

  it('Proxies that return something else on each read: what reaches the addon is what was validated', async () => {
    await assertProperty(
      fc.asyncProperty(nameOf(TARGETS), later, (name, values) => {
        const target = byName(TARGETS, name);
        caseName = name;
        const real = target.make();
        // Its own data changes, not its length: iterating a copy re-reads the length at every
        // step, so a changing one is not a value read twice (holes and huge lengths have tests
        // of their own); what arrays and objects inherit (iterators, methods) stays.
        const own = new Set(Reflect.ownKeys(real).filter((k): k is string => typeof k === 'string' && k !== 'length'));
        const reads = new Map<string, number>();
        const trap = new Trap(`${target.name} proxy, read again`);
        const proxy = new Proxy(real, {
          get(t, key, receiver) {
            if (typeof key !== 'string' || !own.has(key)) return Reflect.get(t, key, receiver);
            // The first read of each key is valid, later ones give `values` in turn.
            const n = reads.get(key) ?? 0;
            reads.set(key, n + 1);
            const v = n === 0 ? 'VALID' : values[(n - 1) % values.length];
            if (v === 'THROW') trap.fire();
            return v === 'VALID' ? Reflect.get(t, key, receiver) : v;
          },
        });
        return judgeSame(call(target.build(proxy)), call(target.build(target.make())), { traps: [trap] });
      }),
      CHECK_RUNS,
    );
  });

  it('env values of any type: coerced or typed errors, never an untyped error', async () => {
    const odd = fc.constantFrom<unknown>(
      Object.create(null),
      { toString: 5 },
      { toString: () => ({}) },
      { [Symbol.toPrimitive]: () => 'x' },
      Symbol('env'),
      10n,
      [1, [2]],
      () => 'f',
      new Date(0),
    );
    await assertProperty(
      fc.asyncProperty(fc.oneof(anyValue, odd, fc.constant('THROWS')), (value) => {
        const trap = new Trap('env value toString');
        const v = value === 'THROWS' ? { toString: () => trap.fire() } : value;
        // A toString that throws is user code too: its error, unchanged (or as the cause of the
        // typed error for a value that cannot become a string).
        return judge(call(opts({ env: { PATH: '/bin', V: v } })), { outcome: 'either', culprit: 'env', traps: [trap], asCause: true });
      }),
      SPAWN_RUNS,
    );
  });

  it('options inherited from a prototype never make the helper join a namespace (helperJoins)', async () => {
    const helperJoins = fc.oneof(
      fc.constantFrom<unknown>([{ kind: 'mount', file: '/proc/1/ns/mnt' }], [{ kind: 'time', file: '/proc/1/ns/time' }], [{ kind: 'bogus' }], [{}]),
      fc.array(fc.record({ kind: fc.constantFrom('time', 'mount', 'net'), file: fc.constantFrom('/proc/1/ns/mnt', '/proc/self/ns/time', '/nonexistent') }), { minLength: 1, maxLength: 3 }),
    );
    await assertProperty(
      fc.asyncProperty(helperJoins, (value) => judge(call(['/bin/true', [], Object.create({ helperJoins: value, stdio: 'ignore' }) as object]), { outcome: 'either' })),
      SPAWN_RUNS,
    );
  });

  it('stop(graceMs): a bad grace period is a typed error and sends nothing; a good one stops the sandbox', async () => {
    const grace = fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: 0, max: 2000 }),
      anyNumber.filter((n) => !isInt(n, 0, INT32_MAX)),
      anyValue.filter((v) => typeof v !== 'number'),
    );
    await assertProperty(
      fc.asyncProperty(grace, async (graceMs) => {
        const good = graceMs === undefined || (typeof graceMs === 'number' && isInt(graceMs, 0, INT32_MAX));
        const child = spawnIsolated('/bin/sleep', ['30'], { stdio: 'ignore' });
        try {
          let stopped: Promise<unknown>;
          try {
            stopped = child.stop(graceMs as number);
          } catch (e) {
            stopped = Promise.reject(e);
          }
          const end = await Promise.race([
            stopped.then((value) => ({ kind: 'resolved' as const, value }), (error: unknown) => ({ kind: 'rejected' as const, error })),
            sleep(SETTLE_MS).then(() => ({ kind: 'hang' as const })),
          ]);
          if (good) {
            if (end.kind !== 'resolved') throw new Error(`stop(${show(graceMs)}) ${end.kind === 'hang' ? 'hung' : `rejected with ${show(end.error)}`}`);
            return;
          }
          const signalled = child.killed;
          if (end.kind !== 'rejected') throw new Error(`stop(${show(graceMs)}) ${end.kind === 'hang' ? 'hung' : `resolved ${JSON.stringify(end.value)}`}: expected a TypeError/RangeError naming graceMs${signalled ? ', and it signalled the sandbox' : ''}`);
          const problem = validationProblem(end.error, 'graceMs');
          if (problem) throw new Error(`stop(${show(graceMs)}) ${problem}`);
          if (signalled) throw new Error(`stop(${show(graceMs)}) rejected, but only after signalling the sandbox`);
        } finally {
          child.kill('SIGKILL');
          await settle(child);
        }
      }),
      SPAWN_RUNS,
    );
  });
});
