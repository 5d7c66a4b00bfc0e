/**
 * The handle of a running sandbox: a `ChildProcess`-like EventEmitter plus the `exited` promise.
 * @module
 */
import { EventEmitter } from 'events';
import os from 'os';
import type { Readable, Writable } from 'stream';
import { WIRE } from './constants';
import { AbortError, NsboxError, systemError } from './errors';
import { execInSandbox, type ExecOptions } from './exec';
import { namespaces } from './namespaces';
import type { NativeWatch } from './native';
import { signalNumber } from './options';
import type { Plan } from './plan';
import { type StdioStream } from './stdio';

/** How the command ended: an exit code, or the signal that killed it. */
export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What spawn.ts hands the handle when it starts. */
export interface ChildStart {
  spawnargs: string[];
  plan: Plan;
  init: boolean;
  killSignal: number;
  pid: number | undefined;
  pidfd: number | undefined;
  stdio: StdioStream[];
  /** Creates the native watch, given the event callback. */
  watch: ((onEvent: (kind: string, ...args: (number | string)[]) => void) => NativeWatch) | undefined;
  /** Set when the spawn failed before anything ran. */
  error: Error | undefined;
  /** Words for a refused namespace creation, naming the kind the kernel refuses. */
  describeRefusal?: () => string;
}

/** Words (and path) for each failure before the helper ran its plan (NSBOX_START_* in wire.h). */
const START_STAGES: Readonly<Record<number, readonly [string, string?]>> = {
  1: ['pass the stdio and control file descriptors'],
  2: ['write /proc/self/setgroups', '/proc/self/setgroups'],
  3: ['write the uid map', '/proc/self/uid_map'],
  4: ['write the gid map', '/proc/self/gid_map'],
  5: ['raise ambient capabilities for the user namespace'],
  6: ['start the nsbox helper'],
  7: ['enter the namespaces to join'],
  8: ['create the namespaces'],
};

const UNSHARE_STAGE = 8;

const CLD_EXITED = 1;
const CLD_KILLED = 2;
const CLD_DUMPED = 3;
const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

function signalName(n: number): NodeJS.Signals {
  return signalNames.get(n) ?? (`SIG${n}` as NodeJS.Signals);
}

/** Decodes a wait(2) status word. */
function fromWaitStatus(status: number): ExitResult {
  const sig = status & 0x7f;
  return sig === 0 ? { code: (status >> 8) & 0xff, signal: null } : { code: null, signal: signalName(sig) };
}

/**
 * A command running as (or under) PID 1 of its own namespaces.
 *
 * Events, as `ChildProcess`: `spawn` (the command was executed), `exit (code, signal)`,
 * `close (code, signal)` (after `exit` and the end of every stdio stream), `error (err)` (the
 * sandbox could not be set up, the command could not be executed, or the AbortSignal fired),
 * and with the `trace` option, `trace ({ step, microseconds })` for each setup step.
 */
export class IsolatedProcess extends EventEmitter {
  /** Host pid of the namespace's PID 1 (the init, or the command with `init: false`). */
  readonly pid: number | undefined;
  /** A pidfd of that process, valid until `exit`; `undefined` afterwards. */
  pidfd: number | undefined;
  /** Writable end of the command's stdin, with `stdio[0] === 'pipe'`. */
  readonly stdin: Writable | null;
  /** Readable stdout, with `stdio[1] === 'pipe'`. */
  readonly stdout: Readable | null;
  /** Readable stderr, with `stdio[2] === 'pipe'`. */
  readonly stderr: Readable | null;
  /** One stream (or null) per fd. */
  readonly stdio: StdioStream[];
  /** The command and its arguments. */
  readonly spawnargs: string[];
  /** The exit code once exited normally, else null. */
  exitCode: number | null = null;
  /** The signal that killed the command, once it has, else null. */
  signalCode: NodeJS.Signals | null = null;
  /** True once `kill()` has delivered a signal. */
  killed = false;
  /**
   * Resolves when the command has ended, nothing of the namespace is left alive, and its output
   * pipes have been read to the end (with 'close'); rejects if it never ran.
   */
  readonly exited: Promise<ExitResult>;

  #watch: NativeWatch | undefined;
  #plan: Plan;
  #init: boolean;
  #killSignal: number;
  #describeRefusal: (() => string) | undefined;
  #resolve!: (r: ExitResult) => void;
  #reject!: (e: Error) => void;
  #settled = false;
  #spawned = false;
  #failed = false;
  #commandStatus: number | undefined;
  #exit: ExitResult | undefined;
  #openStreams = 0;
  #cleanups: (() => void)[] = [];

  /** @internal Use `spawnIsolated`. */
  constructor(start: ChildStart) {
    super();
    this.spawnargs = start.spawnargs;
    this.#plan = start.plan;
    this.#init = start.init;
    this.#killSignal = start.killSignal;
    this.#describeRefusal = start.describeRefusal;
    this.pid = start.pid;
    this.pidfd = start.pidfd;
    this.stdio = start.stdio;
    this.stdin = (start.stdio[0] as Writable | null) ?? null;
    this.stdout = (start.stdio[1] as Readable | null) ?? null;
    this.stderr = (start.stdio[2] as Readable | null) ?? null;
    this.exited = new Promise<ExitResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A caller who only listens for 'error' must not also get an unhandled rejection.
    this.exited.catch(() => undefined);
    for (const stream of this.stdio) {
      if (!stream) continue;
      this.#openStreams++;
      stream.once('close', () => {
        this.#openStreams--;
        this.#maybeClose();
      });
    }
    if (start.error) {
      const err = start.error;
      process.nextTick(() => this.#fail(err, true));
      return;
    }
    try {
      this.#watch = start.watch?.((kind, ...args) => this.#onEvent(kind, args));
    } catch (e) {
      // The addon could not watch it, so it has already ended the sandbox: report, leak nothing.
      for (const stream of this.stdio) stream?.destroy();
      this.pidfd = undefined;
      process.nextTick(() => this.#fail(e as Error, true));
    }
  }

  /** @internal Arranges `killSignal` after `ms` milliseconds. */
  setTimeout(ms: number): void {
    const timer = setTimeout(() => this.kill(this.#killSignal), ms);
    this.#cleanups.push(() => clearTimeout(timer));
  }

  /** @internal Kills the sandbox when `signal` aborts; `exited` then rejects with an AbortError. */
  abortOn(signal: AbortSignal): void {
    const onAbort = (): void => {
      this.kill(this.#killSignal);
      this.#fail(new AbortError(signal.reason), false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.#cleanups.push(() => signal.removeEventListener('abort', onAbort));
  }

  /**
   * Sends a signal to the namespace's PID 1. With the default init, it forwards the signal to the
   * command; SIGKILL ends the whole namespace at once. Returns false if the sandbox has exited.
   */
  kill(signal: NodeJS.Signals | number = this.#killSignal): boolean {
    const n = signalNumber(signal);
    if (!this.#watch) return false;
    const err = this.#watch.kill(n);
    if (err === os.constants.errno.ESRCH) return false;
    if (err !== 0) throw systemError({ errno: err, syscall: 'pidfd_send_signal' }, { step: `send signal ${n}` });
    this.killed = true;
    return true;
  }

  /**
   * Runs another command inside this sandbox's namespaces (all of them, or those named in
   * `options.namespaces`), like `nsenter --target` or `docker exec`, and returns its handle. It sees
   * the sandbox's root, `/proc`, hostname and network. Needs Linux 5.8+ (setns with a pidfd).
   * @example const ps = sandbox.exec('ps', ['aux']); await ps.exited;
   */
  exec(command: string, args?: readonly string[], options?: ExecOptions): IsolatedProcess {
    return execInSandbox(this, command, args, options);
  }

  /** The namespaces of the sandbox's PID 1 (see `namespaces()`); throws once it has exited. */
  namespaces(): ReturnType<typeof namespaces> {
    if (this.pid === undefined || this.pidfd === undefined) {
      throw systemError({ errno: os.constants.errno.ESRCH, syscall: 'readlink' }, { step: 'read the namespaces of a sandbox that is not running' });
    }
    return namespaces(this.pid);
  }

  /** SIGTERM, then SIGKILL after `graceMs` (default 5000) if it is still alive; resolves with the exit. */
  async stop(graceMs = 5000): Promise<ExitResult> {
    if (this.#exit) return this.#exit;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Lets this process exit while the sandbox still runs (stdio pipes still count, as in `ChildProcess`). */
  unref(): void {
    this.#watch?.unref();
  }

  /** Undoes `unref()`. */
  ref(): void {
    this.#watch?.ref();
  }

  #onEvent(kind: string, args: (number | string)[]): void {
    if (kind === 'report') {
      const [type, step, errno, value, syscall] = args as [number, number, number, number, string];
      if (type === WIRE.report.error) this.#setupFailed(step, errno, syscall, value);
      else if (type === WIRE.report.spawned) this.#markSpawned();
      else if (type === WIRE.report.exit) this.#commandStatus = value;
      else if (type === WIRE.report.trace) this.emit('trace', { step: this.#plan.steps[step]?.describe ?? String(step), microseconds: value });
    } else if (kind === 'eof') {
      // Without init the report pipe closes at the command's exec: no error record means it ran.
      if (!this.#init && !this.#failed) this.#markSpawned();
    } else if (kind === 'exit') {
      const commandStatus = args[2] as number;
      if (commandStatus >= 0) this.#commandStatus = commandStatus;
      this.#onExit(args[0] as number, args[1] as number);
    }
  }

  /** A failed plan step, or (step -1) a failure before the plan ran, `stage` saying where. */
  #setupFailed(stepIndex: number, errno: number, syscall: string, stage: number): void {
    const step = this.#plan.steps[stepIndex];
    const start = step ? undefined : stage === UNSHARE_STAGE ? [this.#describeRefusal?.() ?? 'create the namespaces'] : START_STAGES[stage];
    const err = systemError(
      { errno, syscall },
      { step: step?.describe ?? start?.[0] ?? `start the sandbox (${syscall})`, stepIndex: step ? stepIndex : undefined, path: step?.path ?? start?.[1] },
    );
    this.#fail(err, true);
  }

  #markSpawned(): void {
    if (this.#spawned) return;
    this.#spawned = true;
    this.emit('spawn');
  }

  #onExit(siCode: number, siStatus: number): void {
    this.#watch = undefined;
    this.pidfd = undefined;
    let result: ExitResult;
    if (this.#commandStatus !== undefined) result = fromWaitStatus(this.#commandStatus);
    else if (siCode === CLD_EXITED) result = { code: siStatus, signal: null };
    else if (siCode === CLD_KILLED || siCode === CLD_DUMPED) result = { code: null, signal: signalName(siStatus) };
    else result = { code: null, signal: null };
    this.#exit = result;
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.#flushStdio();
    if (!this.#failed) {
      this.exitCode = result.code;
      this.signalCode = result.signal;
      this.emit('exit', result.code, result.signal);
    }
    this.#maybeClose();
  }

  /** `fatal`: the command never ran, so there will be no 'exit' event. */
  #fail(err: Error, fatal: boolean): void {
    if (err instanceof NsboxError) err.spawnargs = this.spawnargs;
    if (fatal) this.#failed = true;
    if (this.#settled) return;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.#settle(() => this.#reject(err));
    if (fatal && this.#watch === undefined) {
      this.#exit = { code: null, signal: null };
      this.#maybeClose();
    }
  }

  /** As ChildProcess does on exit: nobody can read stdin any more, and output nobody reads is
   * drained, so that 'close' comes. */
  #flushStdio(): void {
    this.stdin?.destroy();
    if (!this.stdout && !this.stderr && this.stdio.length <= 3) return;
    process.nextTick(() => {
      for (const stream of this.stdio.slice(1)) {
        if (stream && (stream as Readable).readable) (stream as Readable).resume();
      }
    });
  }

  #settle(action: () => void): void {
    if (this.#settled) return;
    this.#settled = true;
    action();
  }

  #maybeClose(): void {
    if (!this.#exit || this.#openStreams > 0) return;
    this.#openStreams = -1; // once
    // `exited` waits for the output pipes too: whoever awaits it may use what they collected.
    const exit = this.#exit;
    if (!this.#failed) this.#settle(() => this.#resolve(exit));
    this.emit('close', this.#exit.code, this.#exit.signal);
  }
}
