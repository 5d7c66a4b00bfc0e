/**
 * Errors in Node's own shape: `code`, `errno`, `syscall`, `path`, plus the setup step that
 * failed. Built here from the plain `{ errno, syscall }` records native code returns, so that
 * they are real `Error`s of the caller's realm.
 * @module
 */
import { getSystemErrorMap } from 'util';

/** A failure as native code reports it: a positive errno and the syscall that set it. */
export interface NativeFailure {
  errno: number;
  syscall: string;
  /** The file involved, when native code knows it. */
  path?: string;
}

/** Where a failure happened, in words a user can act on. */
export interface FailureContext {
  /** The setup step, e.g. `mount proc on /proc`. */
  step?: string;
  /** Index of the step in the plan (see `describePlan`). */
  stepIndex?: number;
  /** The path the failing call was about. */
  path?: string;
}

/** A failed system call during a spawn or a primitive, shaped like Node's own system errors. */
export class NsboxError extends Error {
  /** `ENOENT`, `EPERM`, ... or an `ERR_NSBOX_*` code. */
  readonly code: string;
  /** Negative errno, as in Node's system errors (`-2` for ENOENT). */
  readonly errno: number | undefined;
  /** The system call that failed (`mount`, `pivot_root`, `execve`, ...). */
  readonly syscall: string | undefined;
  /** The path involved, when there is one. */
  readonly path: string | undefined;
  /** The setup step that failed, in words. */
  readonly step: string | undefined;
  /** Index of that step in the spawn's plan. */
  readonly stepIndex: number | undefined;
  /** The command and arguments of the spawn, when the error comes from one. */
  spawnargs: string[] | undefined;

  constructor(message: string, code: string, details: NativeFailure | undefined, context: FailureContext = {}) {
    super(message);
    this.name = 'NsboxError';
    this.code = code;
    this.errno = details ? -details.errno : undefined;
    this.syscall = details?.syscall;
    this.path = context.path;
    this.step = context.step;
    this.stepIndex = context.stepIndex;
    this.spawnargs = undefined;
  }
}

const systemErrors = getSystemErrorMap();

/** The symbolic name of a positive errno (`2` -> `ENOENT`). */
export function errnoName(errno: number): string {
  return systemErrors.get(-errno)?.[0] ?? `E${errno}`;
}

/** Turns a native failure into an NsboxError whose message names what was being done. */
export function systemError(failure: NativeFailure, context: FailureContext = {}): NsboxError {
  const code = errnoName(failure.errno);
  const description = systemErrors.get(-failure.errno)?.[1] ?? 'unknown error';
  const what = context.step ?? (context.path ? `${failure.syscall} ${context.path}` : failure.syscall);
  return new NsboxError(`${what}: ${code} (${description})`, code, failure, context);
}

/** True for the `{ errno, syscall }` records native calls return on failure. */
export function isNativeFailure(value: unknown): value is NativeFailure {
  return typeof value === 'object' && value !== null && 'errno' in value && 'syscall' in value;
}

/** A TypeError with Node's `code` convention, for bad options (thrown before any syscall). */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError {
  const err = new TypeError(`The "${name}" option must be ${expected}. Received ${describe(actual)}`);
  return Object.assign(err, { code: 'ERR_INVALID_ARG_TYPE' });
}

/** A TypeError for a value of the right type that is still not acceptable. */
export function invalidArgValue(name: string, reason: string, actual?: unknown): TypeError {
  const received = arguments.length > 2 ? ` Received ${describe(actual)}` : '';
  const err = new TypeError(`The "${name}" option ${reason}.${received}`);
  return Object.assign(err, { code: 'ERR_INVALID_ARG_VALUE' });
}

/** A RangeError with Node's `ERR_OUT_OF_RANGE` code. */
export function outOfRange(name: string, range: string, actual: unknown): RangeError {
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${describe(actual)}`);
  return Object.assign(err, { code: 'ERR_OUT_OF_RANGE' });
}

/** The error a spawn fails with when its AbortSignal fires, as in `child_process`. */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(cause?: unknown) {
    super('The operation was aborted', cause === undefined ? undefined : { cause });
    this.name = 'AbortError';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  if (typeof value === 'function') return 'function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `type ${typeof value} (${String(value)})`;
}
