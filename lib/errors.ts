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

/** An errno name, as Node's system errors carry it: `'ENOENT'`, `'EPERM'`, `'EROFS'`... */
export type ErrnoCode = `E${Uppercase<string>}` & {};

/**
 * The code of an {@link NsboxError}: the errno name of a failed system call, or one of nsbox's own.
 * - `ERR_NSBOX_ADDON`: the native addon did not load (the message names the remedy).
 * - `ERR_NSBOX_NOT_READY`: a sandbox still being set up was asked for its namespaces.
 * - `ERR_NSBOX_EXIT`, `ERR_NSBOX_SIGNAL`, `ERR_NSBOX_TIMEOUT`, `ERR_NSBOX_MAX_BUFFER`: a
 *   `RunError` of runIsolated (a non-zero exit, a signal, the timeout, maxBuffer).
 */
export type NsboxErrorCode = ErrnoCode | 'ERR_NSBOX_ADDON' | 'ERR_NSBOX_NOT_READY' | 'ERR_NSBOX_EXIT' | 'ERR_NSBOX_SIGNAL' | 'ERR_NSBOX_TIMEOUT' | 'ERR_NSBOX_MAX_BUFFER';

/**
 * Every `code` an error thrown or rejected by nsbox carries: those of {@link NsboxError}, and
 * those of the plain errors of bad arguments and misuse, as Node words them.
 * - `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE` (TypeError), `ERR_OUT_OF_RANGE` (RangeError),
 *   `ERR_UNKNOWN_SIGNAL` (TypeError): an option or argument refused before any system call.
 * - `ERR_NSBOX_UNKNOWN_OPTION` (TypeError): an option name nsbox does not know.
 * - `ERR_NSBOX_THREADED`, `ERR_NSBOX_SCOPE` (TypeError): a primitive the kernel refuses in a
 *   threaded process, or one called without saying what it reaches.
 * - `ABORT_ERR` (an `AbortError`): the spawn's AbortSignal fired.
 * - `ERR_NSBOX_LEFT_BEHIND`, `ERR_NSBOX_NO_RESULT` (Error, nsbox/testing): withSandbox found
 *   something left behind; runInSandbox's code ended without a result.
 */
export type NsboxCode =
  | NsboxErrorCode
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_OUT_OF_RANGE'
  | 'ERR_UNKNOWN_SIGNAL'
  | 'ERR_NSBOX_UNKNOWN_OPTION'
  | 'ERR_NSBOX_THREADED'
  | 'ERR_NSBOX_SCOPE'
  | 'ABORT_ERR'
  | 'ERR_NSBOX_LEFT_BEHIND'
  | 'ERR_NSBOX_NO_RESULT';

/** A failed system call during a spawn or a primitive, shaped like Node's own system errors. */
export class NsboxError extends Error {
  /** `ENOENT`, `EPERM`, ... or an `ERR_NSBOX_*` code. */
  readonly code: NsboxErrorCode;
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

  constructor(message: string, code: NsboxErrorCode, details: NativeFailure | undefined, context: FailureContext = {}) {
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
export function errnoName(errno: number): ErrnoCode {
  return (systemErrors.get(-errno)?.[0] ?? `E${errno}`) as ErrnoCode;
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
