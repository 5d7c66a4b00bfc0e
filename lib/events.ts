/**
 * The events of {@link IsolatedProcess}, typed: `on('exit', (code, signal) => …)` knows its
 * arguments, and an event name it does not have is a type error. Declaration merging only:
 * nothing here runs.
 * @module
 */
import type { ExitResult } from './exit-result';

/** A setup step timed inside the helper (the `trace` option). */
export interface TraceEvent {
  /** The step, in words (`mount proc on /proc`). */
  step: string;
  /** How long it took. */
  microseconds: number;
}

/** Each event of an {@link IsolatedProcess} and the arguments its listeners get. */
export interface IsolatedProcessEvents {
  /** The sandbox is set up and the command was executed. */
  spawn: [];
  /** The command ended: an exit code, or the signal that killed it. */
  exit: [code: ExitResult['code'], signal: ExitResult['signal']];
  /** After `exit` and the end of every stdio stream. */
  close: [code: ExitResult['code'], signal: ExitResult['signal']];
  /** The sandbox could not be set up, the command could not be executed, or the AbortSignal fired. */
  error: [err: Error];
  /** With `trace: true`: one per setup step. */
  trace: [event: TraceEvent];
}

/**
 * A listener of event `E`. It may take fewer arguments, or more of type `unknown` (so that a
 * promise's `resolve` can listen for `spawn`); those it takes must have the event's types.
 */
export type IsolatedProcessListener<E extends keyof IsolatedProcessEvents> = (...args: [...IsolatedProcessEvents[E], ...unknown[]]) => void;

declare module './child' {
  interface IsolatedProcess {
    on<E extends keyof IsolatedProcessEvents>(event: E, listener: IsolatedProcessListener<E>): this;
    once<E extends keyof IsolatedProcessEvents>(event: E, listener: IsolatedProcessListener<E>): this;
    addListener<E extends keyof IsolatedProcessEvents>(event: E, listener: IsolatedProcessListener<E>): this;
    prependListener<E extends keyof IsolatedProcessEvents>(event: E, listener: IsolatedProcessListener<E>): this;
    prependOnceListener<E extends keyof IsolatedProcessEvents>(event: E, listener: IsolatedProcessListener<E>): this;
    off<E extends keyof IsolatedProcessEvents>(event: E, listener: IsolatedProcessListener<E>): this;
    removeListener<E extends keyof IsolatedProcessEvents>(event: E, listener: IsolatedProcessListener<E>): this;
    emit<E extends keyof IsolatedProcessEvents>(event: E, ...args: IsolatedProcessEvents[E]): boolean;
  }
}
