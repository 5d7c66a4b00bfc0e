/**
 * The addon's shape, typed, and its loading. Nothing else: the public API lives in the
 * modules that wrap it.
 * @module
 */
import fs from 'fs';
import path from 'path';
import nodeGypBuild from 'node-gyp-build';
import { NsboxError, type NativeFailure } from './errors';
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
  /** A pipe, both ends close-on-exec: [read, write]; with `duplex`, a socket pair: [ours, theirs]. */
  pipe(duplex?: boolean): [number, number] | NativeFailure;
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

/** Where the package's root is: prebuilds/ and build/ are looked for there. */
const PACKAGE_ROOT = path.join(__dirname, '..');

/**
 * Loads the addon on first use, so that option errors never depend on it being built. A load
 * that fails is an NsboxError with code `ERR_NSBOX_ADDON` that says what was looked for and
 * what to do; the loader's own error is its `cause`.
 */
export function native(): NativeBinding {
  if (binding) return binding;
  try {
    binding = nodeGypBuild(PACKAGE_ROOT) as NativeBinding;
  } catch (e) {
    throw addonError(e);
  }
  return binding;
}

/** `glibc 2.36`, `musl` or `unknown libc`: what a prebuild must match. */
function libc(): string {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  if (header?.glibcVersionRuntime) return `glibc ${header.glibcVersionRuntime}`;
  return fs.existsSync('/etc/alpine-release') ? 'musl' : 'unknown libc';
}

/** The error for an addon that would not load, with the remedy. */
export function addonError(cause: unknown): NsboxError {
  const reason = String((cause as Error)?.message ?? cause).split('\n')[0];
  const err = new NsboxError(
    `nsbox's native addon could not be loaded (${reason}). nsbox ships a prebuilt addon for linux-x64 with glibc (N-API, ` +
      `any Node.js 20+); this is ${process.platform}-${process.arch} with ${libc()}. Where no prebuild fits, it is built ` +
      `from source at install: run \`npm rebuild nsbox --build-from-source\` with python3, make, a C++ compiler ` +
      `(g++ or clang++) and libseccomp's headers and static library installed (Debian and Ubuntu: ` +
      `apt-get install python3 make g++ libseccomp-dev). See docs/troubleshooting.md.`,
    'ERR_NSBOX_ADDON',
    undefined,
    { path: PACKAGE_ROOT },
  );
  Object.defineProperty(err, 'cause', { value: cause, enumerable: false, writable: true, configurable: true });
  return err;
}
