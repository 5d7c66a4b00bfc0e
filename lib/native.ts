/**
 * The addon's shape, typed, and its loading. Nothing else: the public API lives in the
 * modules that wrap it.
 * @module
 */
import path from 'path';
import nodeGypBuild from 'node-gyp-build';
import type { NativeFailure } from './errors';
import type { SpawnFailure } from './failure';
import type { NativeSeccompProfile } from './seccomp';

/** What `spawn` returns when the helper is running in its new namespaces. */
export interface NativeSpawned {
  pid: number;
  pidfd: number;
  reportFd: number;
  /** Our ends of the stdio pipes, -1 where the entry was not a pipe. */
  stdio: number[];
}

/** Watches one spawned helper: its reports, then its exit. Owns the pidfd and report fd. */
export interface NativeWatch {
  /** Sends a signal through the pidfd; 0 or a positive errno (ESRCH once exited). */
  kill(signal: number): number;
  ref(): void;
  unref(): void;
  close(): void;
}

/** The native addon (src/addon.cc). */
export interface NativeBinding {
  /** Carries out an encoded request (lib/request.ts); a failure names its `WIRE.start` stage. */
  spawn(request: Uint8Array): NativeSpawned | SpawnFailure;
  /** Compiles a seccomp profile (lib/seccomp.ts) into its BPF program, with libseccomp. */
  compileSeccomp(profile: NativeSeccompProfile): Uint8Array | NativeFailure;
  /** A pipe, both ends close-on-exec: [read, write]. */
  pipe(): [number, number] | NativeFailure;
  /**
   * Watches a spawn: onEvent('report', type, step, errno, value, syscall) per helper report,
   * ('eof') when the report pipe closes before the exit, then ('exit', siCode, siStatus, commandStatus) once,
   * commandStatus being the init's EXIT record (a wait status), or -1 when there was none.
   */
  Watch: new (pidfd: number, reportFd: number, onEvent: (kind: string, ...args: (number | string)[]) => void) => NativeWatch;
  /** Whether this process may create these namespaces: 0 or the errno clone(2) gives. */
  tryClone(cloneFlags: number): number;
  /** The errno of clone3 called with no arguments: EINVAL if it exists, ENOSYS if not (or refused by seccomp). */
  clone3Errno(): number;
  /** getenv(3): what the C environment (the one a helper inherits) holds. */
  getenv(name: string): string | undefined;
  unshare(flags: number): NativeFailure | undefined;
  setns(target: string | number, nstype: number): NativeFailure | undefined;
  chroot(path: string): NativeFailure | undefined;
  pivotRoot(newRoot: string, putOld: string): NativeFailure | undefined;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): NativeFailure | undefined;
  umount(target: string, flags: number): NativeFailure | undefined;
  sethostname(name: string): NativeFailure | undefined;
}

let binding: NativeBinding | undefined;

/** Loads the addon on first use, so that option errors never depend on it being built. */
export function native(): NativeBinding {
  binding ??= nodeGypBuild(path.join(__dirname, '..')) as NativeBinding;
  return binding;
}
