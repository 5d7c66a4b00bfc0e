/**
 * The handle of a running sandbox: a `ChildProcess`-like EventEmitter plus the `exited` promise.
 * @module
 */
import { EventEmitter } from 'events';
import os from 'os';
import type { Readable, Writable } from 'stream';
import { WIRE } from './constants';
import { AbortError, NsboxError, systemError } from './errors';
import { spawnError, type CloneTrier } from './failure';
import { namespaces } from './namespaces';
import type { NativeWatch } from './native';
import { signalNumber } from './options';
import { readCgroups, removeCgroups, type SandboxCgroups } from './cgroup';
import type { SpawnRequest } from './request';
import { SETUP_STATE, notReady, type SetupState } from './setup-state';
import { type StdioStream } from './stdio';
import { exitResult, neverRan, signalName, type ExitResult, type InitUsage } from './exit-result';

/** Options of {@link IsolatedProcess.exec} (defined in exec.ts; only passed through here). */
export type EnterOptions = object;

/** Runs another command in a sandbox; given by the module that made the handle (exec.ts). */
export type Enter = (sandbox: IsolatedProcess, command: string, args: readonly string[] | undefined, options: EnterOptions | undefined) => IsolatedProcess;

/** What sandbox.ts hands the handle when it is made. */
export interface ChildStart {
  spawnargs: string[];
  request: SpawnRequest;
  init: boolean;
  killSignal: number;
  stdio: StdioStream[];
  enter: Enter;
  tryClone: CloneTrier;
  /** `rlimits.cpu`'s hard limit in seconds, to tell a SIGKILL of the kernel's from others. */
  cpuHardSeconds?: number | undefined;
}

/** What the addon's spawn gave: the sandbox's PID 1, and how to watch it. */
export interface Attached {
  pid: number;
  pidfd: number;
  /** Its cgroups (with `limits`): read and removed at the exit. */
  cgroups?: SandboxCgroups | undefined;
  watch: (onEvent: (kind: string, ...args: (number | string)[]) => void) => NativeWatch;
}

/** The longest `stop()` grace period: what setTimeout can wait for. */
const MAX_GRACE_MS = 2 ** 31 - 1;

/**
 * A command running as (or under) PID 1 of its own namespaces.
 *
 * Events, as `ChildProcess`: `spawn` (the sandbox is set up and the command was executed),
 * `exit (code, signal)`, `close (code, signal)` (after `exit` and the end of every stdio stream),
 * `error (err)` (the sandbox could not be set up, the command could not be executed, or the
 * AbortSignal fired), and with the `trace` option, `trace ({ step, microseconds })` for each
 * setup step. As with `ChildProcess`, an `error` nobody listens for (and nobody awaits `exited`
 * for) is thrown.
 */
export class IsolatedProcess extends EventEmitter {
  /** A pidfd of the namespace's PID 1, valid until `exit`; `undefined` before and afterwards. */
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

  #pid: number | undefined;
  #watch: NativeWatch | undefined;
  #request: SpawnRequest;
  #init: boolean;
  #killSignal: number;
  #enter: Enter;
  #tryClone: CloneTrier;
  #exited: Promise<ExitResult>;
  #started = performance.now();
  #usage: InitUsage | undefined;
  #timedOut = false;
  #killedByCaller = false;
  #cpuHardSeconds: number | undefined;
  #cgroups: SandboxCgroups | undefined;
  #observed = false;
  #resolve!: (r: ExitResult) => void;
  #reject!: (e: Error) => void;
  #settled = false;
  #spawned = false;
  #failed = false;
  #commandStatus: number | undefined;
  /** The signal of a kill() that ended the sandbox before its command ran. */
  #killedEarly: NodeJS.Signals | undefined;
  #exit: ExitResult | undefined;
  #openStreams = 0;
  #cleanups: (() => void)[] = [];
  #setUpWaiters: ((ready: boolean) => void)[] = [];
  /** Set while the start waits for another sandbox's setup (sandbox.ts): calling it gives up. */
  #cancelStart: (() => void) | undefined;

  /** @internal Use `spawnIsolated`. */
  constructor(start: ChildStart) {
    super();
    this.spawnargs = start.spawnargs;
    this.#request = start.request;
    this.#init = start.init;
    this.#killSignal = start.killSignal;
    this.#enter = start.enter;
    this.#tryClone = start.tryClone;
    this.#cpuHardSeconds = start.cpuHardSeconds;
    this.stdio = start.stdio;
    this.stdin = (start.stdio[0] as Writable | null) ?? null;
    this.stdout = (start.stdio[1] as Readable | null) ?? null;
    this.stderr = (start.stdio[2] as Readable | null) ?? null;
    this.#exited = new Promise<ExitResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Rejections reach whoever awaits `exited`, or else the 'error' event: never both unhandled.
    this.#exited.catch(() => undefined);
    for (const stream of this.stdio) {
      if (!stream) continue;
      this.#openStreams++;
      stream.once('close', () => {
        this.#openStreams--;
        this.#maybeClose();
      });
    }
  }

  /** Host pid of the namespace's PID 1 (the init, or the command with `init: false`); undefined until it is started. */
  get pid(): number | undefined {
    return this.#pid;
  }

  /**
   * Resolves when the command has ended, nothing of the sandbox is left alive, and its output
   * pipes have been read to the end (with 'close'). Rejects when the sandbox could not be set up,
   * the command could not be executed, or the AbortSignal fired. A `kill()` before the command
   * ran resolves it with that signal, as ChildProcess reports a child killed before its exec.
   */
  get exited(): Promise<ExitResult> {
    this.#observed = true;
    return this.#exited;
  }

  /** @internal The addon started the sandbox (for `request`): watch it. */
  attach(started: Attached, request: SpawnRequest): void {
    this.#cancelStart = undefined;
    this.#request = request;
    this.#pid = started.pid;
    this.pidfd = started.pidfd;
    this.#cgroups = started.cgroups;
    try {
      this.#watch = started.watch((kind, ...args) => this.#onEvent(kind, args));
    } catch (e) {
      // The addon could not watch it, so it has already ended the sandbox: report, leak nothing.
      for (const stream of this.stdio) stream?.destroy();
      this.pidfd = undefined;
      process.nextTick(() => this.#fail(e as Error, true));
    }
  }

  /** @internal The sandbox could not be started: nothing ran. */
  startFailed(err: Error, request?: SpawnRequest): void {
    this.#cancelStart = undefined;
    if (request) this.#request = request;
    for (const stream of this.stdio) stream?.destroy();
    process.nextTick(() => this.#fail(err, true));
  }

  /** @internal The start waits; `cancel` gives it up (kill() or abort meanwhile). */
  waitsToStart(cancel: () => void): void {
    this.#cancelStart = cancel;
  }

  /** @internal Arranges `killSignal` after `ms` milliseconds, and SIGKILL `forceKillAfter` ms later. */
  setTimeout(ms: number, forceKillAfter?: number): void {
    let force: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      this.#timedOut = true;
      this.#signal(this.#killSignal);
      if (forceKillAfter !== undefined && !this.#exit) force = setTimeout(() => this.#signal(os.constants.signals.SIGKILL), forceKillAfter);
    }, ms);
    this.#cleanups.push(() => {
      clearTimeout(timer);
      if (force) clearTimeout(force);
    });
  }

  /** @internal Kills the sandbox when `signal` aborts; `exited` then rejects with an AbortError. */
  abortOn(signal: AbortSignal): void {
    const onAbort = (): void => {
      const err = new AbortError(signal.reason);
      if (this.#cancelStart) this.#giveUpStart();
      else this.kill(this.#killSignal);
      this.#fail(err, false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.#cleanups.push(() => signal.removeEventListener('abort', onAbort));
  }

  /** @internal See setup-state.ts. */
  [SETUP_STATE](): SetupState {
    if (this.#exit || this.#failed) return 'ended';
    return this.#spawned ? 'ready' : 'pending';
  }

  /** @internal See setup-state.ts. */
  whenSetUp(onDecided: (ready: boolean) => void): void {
    const state = this[SETUP_STATE]();
    if (state === 'pending') this.#setUpWaiters.push(onDecided);
    else onDecided(state === 'ready');
  }

  /**
   * Sends a signal to the namespace's PID 1. With the default init, it forwards the signal to the
   * command (one sent during setup reaches the command as it starts); SIGKILL ends the whole
   * namespace at once. Without the init, a signal sent during setup ends the sandbox (a PID 1
   * would ignore it). Returns false if the sandbox has exited.
   */
  kill(signal: NodeJS.Signals | number = this.#killSignal): boolean {
    const n = signalNumber(signal);
    const sent = this.#signal(n);
    if (sent && n !== 0) this.#killedByCaller = true;
    return sent;
  }

  /** kill() without counting as the caller's (the timeout's own signals). */
  #signal(n: number): boolean {
    if (this.#exit) return false;
    if (!this.#watch) {
      if (!this.#cancelStart) return false;
      if (n === 0) return true;
      this.killed = true;
      this.#killedEarly = signalName(n);
      this.#giveUpStart();
      return true;
    }
    const early = n !== 0 && !this.#spawned && !this.#init;
    const err = this.#watch.kill(early ? os.constants.signals.SIGKILL : n);
    if (err === os.constants.errno.ESRCH) return false;
    if (err !== 0) throw systemError({ errno: err, syscall: 'pidfd_send_signal' }, { step: `send signal ${n}` });
    if (early) this.#killedEarly = signalName(n);
    if (n !== 0) this.killed = true;
    return true;
  }

  /**
   * Runs another command inside this sandbox's namespaces (all of them, or those named in
   * `options.namespaces`), like `nsenter --target` or `docker exec`, and returns its handle. It sees
   * the sandbox's root, `/proc`, hostname and network. Called before the sandbox is set up, it
   * waits for that (the handle exists at once; its `pid` comes with the start).
   * @example const ps = sandbox.exec('ps', ['aux']); await ps.exited;
   */
  exec(command: string, args?: readonly string[], options?: EnterOptions): IsolatedProcess {
    return this.#enter(this, command, args, options);
  }

  /**
   * The namespaces of the sandbox's PID 1 (see `namespaces()`). Throws `ERR_NSBOX_NOT_READY`
   * before the setup has finished (wait for 'spawn'), ESRCH once it has exited.
   */
  namespaces(): ReturnType<typeof namespaces> {
    const state = this[SETUP_STATE]();
    if (state === 'pending') throw notReady('read the namespaces of a sandbox');
    if (state === 'ended' || this.#pid === undefined) {
      throw systemError({ errno: os.constants.errno.ESRCH, syscall: 'readlink' }, { step: 'read the namespaces of a sandbox that is not running' });
    }
    return namespaces(this.#pid);
  }

  /**
   * SIGTERM, then SIGKILL after `graceMs` (default 5000, 0 to 2**31 - 1) if it is still alive;
   * resolves with the exit.
   */
  async stop(graceMs = 5000): Promise<ExitResult> {
    if (typeof graceMs !== 'number' || !Number.isInteger(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS) {
      throw Object.assign(new RangeError(`The value of "graceMs" is out of range. It must be an integer from 0 to ${MAX_GRACE_MS}. Received ${String(graceMs)}`), { code: 'ERR_OUT_OF_RANGE' });
    }
    if (this.#exit) return this.#exit;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.#exited;
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

  #giveUpStart(): void {
    const cancel = this.#cancelStart;
    this.#cancelStart = undefined;
    cancel?.();
    this.#onExit(0, 0);
  }

  #onEvent(kind: string, args: (number | string)[]): void {
    if (kind === 'report') {
      const [type, step, errno, value, syscall] = args as [number, number, number, number, string];
      // Once the command runs, only the exit status may come: anything else would be the
      // command's own writing, had it got hold of the report pipe.
      if (this.#spawned && type !== WIRE.report.exit && type !== WIRE.report.usage) return;
      if (type === WIRE.report.error) this.#fail(spawnError(this.#request, step >= 0 ? { errno, syscall, step } : { errno, syscall, stage: value }, this.#tryClone), true);
      else if (type === WIRE.report.spawned) this.#markSpawned();
      else if (type === WIRE.report.exit) this.#commandStatus = value;
      else if (type === WIRE.report.usage) this.#usage = { user: step, system: errno, maxRssKiB: value };
      else if (type === WIRE.report.trace) this.emit('trace', { step: this.#request.plan.steps[step]?.describe ?? String(step), microseconds: value });
    } else if (kind === 'eof') {
      // Without init the report pipe closes at the command's exec: no error record means it ran
      // (unless our own kill() ended the setup).
      if (!this.#init && !this.#killedEarly) this.#markSpawned();
    } else if (kind === 'exit') {
      // Without init, an exit right after the exec can come before the pipe's end was seen.
      if (!this.#init && !this.#killedEarly) this.#markSpawned();
      const commandStatus = args[2] as number;
      if (commandStatus >= 0) this.#commandStatus = commandStatus;
      this.#onExit(args[0] as number, args[1] as number);
    }
  }

  #markSpawned(): void {
    if (this.#spawned || this.#failed) return;
    this.#spawned = true;
    this.emit('spawn');
    for (const waiter of this.#setUpWaiters.splice(0)) waiter(true);
  }

  #result(siCode: number, siStatus: number): ExitResult {
    // The cgroup, where there is one, saw the whole sandbox; it goes now that nothing is in it.
    const cgroup = this.#cgroups ? readCgroups(this.#cgroups) : undefined;
    if (this.#cgroups) removeCgroups(this.#cgroups);
    this.#cgroups = undefined;
    return exitResult({
      siCode,
      siStatus,
      commandStatus: this.#commandStatus,
      initUsage: this.#usage,
      cgroup,
      wallMs: Math.round(performance.now() - this.#started),
      spawned: this.#spawned,
      killedEarly: this.#killedEarly,
      timedOut: this.#timedOut,
      killedByCaller: this.#killedByCaller,
      cpuHardSeconds: this.#cpuHardSeconds,
    });
  }

  #onExit(siCode: number, siStatus: number): void {
    this.#watch = undefined;
    this.pidfd = undefined;
    const result = this.#result(siCode, siStatus);
    this.#exit = result;
    for (const waiter of this.#setUpWaiters.splice(0)) waiter(false);
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
    for (const waiter of this.#setUpWaiters.splice(0)) waiter(false);
    if (this.#settled) return;
    this.#settle(() => this.#reject(err));
    // As ChildProcess: an 'error' nobody handles is thrown (unless `exited` is awaited).
    if (this.listenerCount('error') > 0 || !this.#observed) this.emit('error', err);
    if (fatal && this.#watch === undefined && !this.#exit) {
      this.#exit = neverRan(Math.round(performance.now() - this.#started));
      for (const cleanup of this.#cleanups.splice(0)) cleanup();
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
