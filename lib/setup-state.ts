/**
 * Whether a sandbox's setup has finished, asked without importing its class (persist.ts and
 * sandbox.ts need it; child.ts implements it). A sandbox is entered (`exec`, `join`,
 * `persistNamespace`, `namespaces()`) only once its setup has finished: before, its namespaces
 * may still be the host's, or half made.
 * @module
 */
import { NsboxError } from './errors';

/** The key of the setup-state method of a sandbox handle. */
export const SETUP_STATE: unique symbol = Symbol('nsbox.setupState');

/** `pending`: still being set up; `ready`: the command runs; `ended`: it exited, or never ran. */
export type SetupState = 'pending' | 'ready' | 'ended';

/** A handle that can say how far its setup is, and call back once it is decided. */
export interface SetupTracked {
  [SETUP_STATE](): SetupState;
  /** `onDecided(true)` once ready, `(false)` if it ended without getting there; at most once. */
  whenSetUp(onDecided: (ready: boolean) => void): void;
}

/** True for a handle that tracks its setup (an IsolatedProcess). */
export function isSetupTracked(value: unknown): value is SetupTracked {
  return typeof value === 'object' && value !== null && SETUP_STATE in value;
}

/** The error for entering a sandbox synchronously before its setup has finished. */
export function notReady(what: string): NsboxError {
  return new NsboxError(`${what}: the sandbox is still being set up (wait for its 'spawn' event)`, 'ERR_NSBOX_NOT_READY', undefined, { step: what });
}
