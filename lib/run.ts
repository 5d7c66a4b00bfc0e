/**
 * `runIsolated`: a sandboxed command as one promise of its result, as execa gives for a child
 * process. Built on spawnIsolated's public handle only.
 * @module
 */
import type { IsolatedProcess } from './child';
import type { ExitResult } from './exit-result';
import { NsboxError, invalidArgType, invalidArgValue, outOfRange } from './errors';
import type { IsolatedOptions, StdioEntry } from './options';
import { spawnIsolated } from './spawn';

/** Options of {@link runIsolated}: those of `spawnIsolated`, plus how the output is collected. */
export interface RunOptions extends IsolatedOptions {
  /** Written to the command's stdin, which is then closed. Without it stdin is `/dev/null`. */
  input?: string | Uint8Array | undefined;
  /** `'utf8'` (default): `stdout`, `stderr` and `all` are strings; `'buffer'`: Buffers. */
  encoding?: 'utf8' | 'buffer' | undefined;
  /**
   * Bytes kept of stdout and of stderr, each (default 100,000,000). When a stream passes it, the
   * sandbox is killed with SIGKILL (a command can ignore a polite signal and go on writing),
   * the output is cut there, and `isMaxBuffer` is true.
   */
  maxBuffer?: number | undefined;
  /** Also collect `all`: stdout and stderr interleaved as they arrived. Default `false`. */
  all?: boolean | undefined;
  /**
   * Default `true`: an exit code other than 0, a signal, a timeout or `maxBuffer` rejects with a
   * {@link RunError} that carries the whole result. `false`: they resolve like a success.
   * A sandbox that could not be set up, or an abort, rejects either way.
   */
  reject?: boolean | undefined;
}

/** Options with `encoding: 'buffer'`. */
export type RunBufferOptions = RunOptions & { encoding: 'buffer' };

/** What {@link runIsolated} resolves with: `string`s, or `Buffer`s with `encoding: 'buffer'`. */
export interface RunResult<Output extends string | Buffer = string> {
  /** The command and its arguments, joined by spaces (for messages, not for a shell). */
  command: string;
  /** The exit code, or null when the command was killed by a signal. */
  code: number | null;
  /** The signal that killed the command, else null. */
  signal: NodeJS.Signals | null;
  /** Everything the command wrote to stdout (up to `maxBuffer`), unchanged: no newline is stripped. */
  stdout: Output;
  /** Everything it wrote to stderr (up to `maxBuffer`). */
  stderr: Output;
  /** stdout and stderr interleaved, with `all: true`. */
  all?: Output;
  /** True when `timeout` ended the sandbox. */
  timedOut: boolean;
  /** True when stdout or stderr passed `maxBuffer` and the sandbox was killed for it. */
  isMaxBuffer: boolean;
  /** What ended it, as `exited` says (`'killed'` for `maxBuffer`, which kills it). */
  reason: ExitResult['reason'];
  /** Limits that refused something along the way. */
  limitsHit: ExitResult['limitsHit'];
  /** What it used: wall time, CPU, peak memory. */
  usage: ExitResult['usage'];
}

/** The rejection of {@link runIsolated} for a command that failed: the result, as an NsboxError. */
export class RunError<Output extends string | Buffer = string> extends NsboxError {
  /** Why the command failed: a non-zero exit, a signal, the timeout, or maxBuffer. */
  declare readonly code: 'ERR_NSBOX_EXIT' | 'ERR_NSBOX_SIGNAL' | 'ERR_NSBOX_TIMEOUT' | 'ERR_NSBOX_MAX_BUFFER';
  /** The whole result, as it would have resolved with `reject: false`. */
  readonly result: RunResult<Output>;
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly all: Output | undefined;
  readonly timedOut: boolean;
  readonly isMaxBuffer: boolean;

  /** Made by runIsolated from the result (`maxBuffer` only words the message); public, so that a test can make one. */
  constructor(result: RunResult<Output>, maxBuffer: number) {
    const { code, reason } = failure(result, maxBuffer);
    const stderr = String(result.stderr).trimEnd();
    super(`Command ${reason}: ${result.command}${stderr ? `\n\n${stderr.slice(-4000)}` : ''}`, code, undefined);
    this.name = 'RunError';
    this.result = result;
    this.command = result.command;
    this.exitCode = result.code;
    this.signal = result.signal;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
    this.all = result.all;
    this.timedOut = result.timedOut;
    this.isMaxBuffer = result.isMaxBuffer;
  }
}

/** The error code and words for a failed result. */
function failure(r: RunResult<string | Buffer>, maxBuffer: number): { code: RunError['code']; reason: string } {
  if (r.timedOut) return { code: 'ERR_NSBOX_TIMEOUT', reason: `timed out${r.signal ? ` (killed with ${r.signal})` : ''}` };
  if (r.isMaxBuffer) return { code: 'ERR_NSBOX_MAX_BUFFER', reason: `wrote more than maxBuffer (${maxBuffer} bytes) to one stream, and was killed` };
  if (r.signal) return { code: 'ERR_NSBOX_SIGNAL', reason: `was killed with ${r.signal}` };
  return { code: 'ERR_NSBOX_EXIT', reason: `failed with exit code ${r.code}` };
}

/** @internal Bytes kept of each stream when `maxBuffer` is not given. */
export const DEFAULT_MAX_BUFFER = 100_000_000;

/**
 * Runs `command` in a sandbox (the options of `spawnIsolated`) and resolves with its exit and
 * output, collected. By default a non-zero exit, a signal, a timeout or passing `maxBuffer`
 * rejects with a {@link RunError} carrying the same result; `reject: false` resolves instead.
 * Bad options, a sandbox that could not be set up, and an abort reject with their own errors.
 *
 * @example
 * const { stdout } = await runIsolated('sh', ['-c', snippet], { preset: 'untrusted', timeout: 2000, maxBuffer: 1 << 20 });
 */
export function runIsolated(command: string, args: readonly string[] | undefined, options: RunBufferOptions): Promise<RunResult<Buffer>>;
export function runIsolated(command: string, options: RunBufferOptions): Promise<RunResult<Buffer>>;
export function runIsolated(command: string, args?: readonly string[], options?: RunOptions): Promise<RunResult>;
export function runIsolated(command: string, options?: RunOptions): Promise<RunResult>;
export function runIsolated(
  command: string,
  argsOrOptions?: readonly string[] | RunOptions,
  maybeOptions?: RunOptions,
): Promise<RunResult<string | Buffer>> {
  const optionsOnly = argsOrOptions !== undefined && argsOrOptions !== null && !Array.isArray(argsOrOptions);
  const args = (optionsOnly ? [] : (argsOrOptions ?? [])) as readonly string[];
  return runWith(spawnIsolated, command, args, ((optionsOnly ? argsOrOptions : maybeOptions) ?? {}) as RunOptions);
}

/** What starts the sandbox of a run: spawnIsolated, or nsbox/testing's tracked spawn. */
export type Spawner = (command: string, args: readonly string[], options: IsolatedOptions) => IsolatedProcess;

/** @internal runIsolated, with the spawn supplied. */
export async function runWith(spawn: Spawner, command: string, args: readonly string[], options: RunOptions): Promise<RunResult<string | Buffer>> {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
  const { input, encoding = 'utf8', maxBuffer = DEFAULT_MAX_BUFFER, all = false, reject = true, ...spawnOptions } = options as RunOptions;
  if (input !== undefined && typeof input !== 'string' && !(input instanceof Uint8Array)) throw invalidArgType('input', 'a string or a Uint8Array', input);
  if (encoding !== 'utf8' && encoding !== 'buffer') throw invalidArgValue('encoding', "must be 'utf8' or 'buffer'", encoding);
  if (typeof maxBuffer !== 'number' || !(maxBuffer === Infinity || (Number.isInteger(maxBuffer) && maxBuffer >= 0))) {
    throw outOfRange('maxBuffer', 'a non-negative integer or Infinity', maxBuffer);
  }
  if (typeof all !== 'boolean') throw invalidArgType('all', 'a boolean', all);
  if (typeof reject !== 'boolean') throw invalidArgType('reject', 'a boolean', reject);
  const stdio = stdioFor(spawnOptions.stdio, input !== undefined);

  const child = spawn(command, args, { ...spawnOptions, stdio });
  const collected = collect(child, maxBuffer, all);
  if (input !== undefined && child.stdin) {
    // A command that does not read its input closes the pipe: EPIPE is not a failure of the run.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  }
  const exit = await child.exited;
  const timedOut = exit.reason === 'timeout';
  const out = collected.result();
  const decode = (chunks: Buffer): string | Buffer => (encoding === 'buffer' ? chunks : chunks.toString('utf8'));
  const result: RunResult<string | Buffer> = {
    command: [command, ...args].join(' '),
    code: exit.code,
    signal: exit.signal,
    stdout: decode(out.stdout),
    stderr: decode(out.stderr),
    ...(all ? { all: decode(out.all) } : {}),
    timedOut,
    isMaxBuffer: out.isMaxBuffer,
    reason: exit.reason,
    limitsHit: exit.limitsHit,
    usage: exit.usage,
  };
  if (reject && (result.code !== 0 || result.signal !== null || timedOut || out.isMaxBuffer)) throw new RunError(result, maxBuffer);
  return result;
}

/** stdin a pipe only for `input`; stdout and stderr pipes, unless the caller said otherwise. */
function stdioFor(stdio: IsolatedOptions['stdio'], input: boolean): readonly StdioEntry[] {
  const given: readonly StdioEntry[] = typeof stdio === 'string' ? [stdio, stdio, stdio] : (stdio ?? [undefined, 'pipe', 'pipe']);
  if (!Array.isArray(given)) return given; // spawnIsolated says what is wrong with it
  const first = given[0] ?? (input ? 'pipe' : 'ignore');
  if (input && first !== 'pipe') throw invalidArgValue('stdio', "must have 'pipe' for stdin with the input option", stdio);
  return [first, given[1] ?? 'pipe', given[2] ?? 'pipe', ...given.slice(3)];
}

interface Collected {
  result(): { stdout: Buffer; stderr: Buffer; all: Buffer; isMaxBuffer: boolean };
}

/** Keeps up to `maxBuffer` bytes of each output stream; past it, the sandbox is killed. */
function collect(child: IsolatedProcess, maxBuffer: number, all: boolean): Collected {
  const kept: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
  const sizes = { stdout: 0, stderr: 0 };
  const interleaved: Buffer[] = [];
  let isMaxBuffer = false;
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = child[name];
    if (!stream) continue;
    stream.on('data', (chunk: Buffer) => {
      if (isMaxBuffer) return; // only drained now
      const room = maxBuffer - sizes[name];
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (piece.length > 0) {
        kept[name].push(piece);
        sizes[name] += piece.length;
        if (all) interleaved.push(piece);
      }
      if (chunk.length > room) {
        isMaxBuffer = true;
        child.kill('SIGKILL');
      }
    });
  }
  return {
    result: () => ({ stdout: Buffer.concat(kept.stdout), stderr: Buffer.concat(kept.stderr), all: Buffer.concat(interleaved), isMaxBuffer }),
  };
}
