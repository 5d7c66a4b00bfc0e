/**
 * Starting a sandbox from validated options, the part `spawnIsolated` and `exec` share: build the
 * request, wait for any sandbox it enters to finish its setup, open what it joins, hand the
 * request to the addon, and give back the handle.
 * @module
 */
import fs from 'fs';
import os from 'os';
import { IsolatedProcess, type Attached, type Enter } from './child';
import { WIRE } from './constants';
import { AbortError, systemError, type NsboxError } from './errors';
import { spawnError } from './failure';
import { native, type NativeBinding } from './native';
import { processEnvIsEnviron, processEnvStrings } from './environment';
import type { ResolvedOptions } from './options';
import { buildRequest, encodeRequest, type JoinRequest, type SpawnRequest } from './request';
import { createCgroups, removeCgroups, type ResolvedLimits, type SandboxCgroups } from './cgroup';
import { seccompProgram, type NativeSeccompProfile } from './seccomp';
import { SETUP_STATE, isSetupTracked, type SetupTracked } from './setup-state';
import { endedStreams, openStdioStreams, type StdioStream } from './stdio';

/** setns() targets for the child and the fds to close once it has them. */
export interface Joins {
  joins: JoinRequest[];
  opened: number[];
}

/** What a start needs besides the options. */
export interface StartSpec {
  /** Sandboxes whose setup must have finished before this one starts (it enters them). */
  after: readonly unknown[];
  /** Opens what the child must setns() into, right before the clone. */
  joins: () => Joins | NsboxError;
  /** How the new handle's `exec()` runs a command in it. */
  enter: Enter;
  /** Completes the options at the moment of the start (exec: what the entered sandbox has by then). */
  refine?: (o: ResolvedOptions) => ResolvedOptions;
}

/** Closes fds of ours; a failure to close one we opened could only be a bug, and must not hide the error being reported. */
export function closeAll(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
  }
}

/**
 * Starts the sandbox. When it enters another sandbox still being set up, the start waits for
 * that: the handle (and its stdio streams, on pipes made at once) exists meanwhile, and `pid`
 * comes with the start. Never acts on a half-made sandbox.
 */
export function startSandbox(command: string, resolved: ResolvedOptions, spec: StartSpec): IsolatedProcess {
  const args = resolved.args;
  const binding = native();
  // process.env replaced by a copy (as jest does) is what child_process would pass: so must we.
  const o = resolved.env === undefined && !processEnvIsEnviron(binding) ? { ...resolved, env: processEnvStrings() } : resolved;
  // Compiled once per distinct profile (seccomp.ts caches it).
  const program = o.seccomp ? seccompProgram(o.seccomp, (p) => compiledOrError(binding, p)) : undefined;
  const requestNow = (): SpawnRequest => buildRequest(command, args, spec.refine ? spec.refine(o) : o, program instanceof Uint8Array ? program : undefined);
  const pending = spec.after.filter((s): s is SetupTracked => isSetupTracked(s) && isPending(s));
  const make = (stdio: StdioStream[], request: SpawnRequest = buildRequest(command, args, o)): IsolatedProcess =>
    new IsolatedProcess({
      spawnargs: [command, ...args],
      request,
      init: o.init,
      killSignal: o.killSignal,
      stdio,
      enter: spec.enter,
      tryClone: (f) => binding.tryClone(f),
      cpuHardSeconds: cpuHardSeconds(o),
    });

  if (o.signal?.aborted) return failed(make(endedStreams(o.stdio)), new AbortError(o.signal.reason));
  if (program instanceof Error) return failed(make(endedStreams(o.stdio)), program);
  let child: IsolatedProcess;
  if (pending.length === 0) {
    const request = requestNow();
    const started = launch(binding, request, spec, o.limits);
    if (started instanceof Error) return failed(make(endedStreams(o.stdio), request), started);
    child = make(openStdioStreams(started.stdio), started.request);
    child.attach(attachment(binding, started), started.request);
  } else {
    const made = makePipes(binding, o.stdio);
    if (made instanceof Error) return failed(make(endedStreams(o.stdio)), made);
    child = make(openStdioStreams(made.parent));
    startWhenSetUp(binding, child, pending, () => ({ ...requestNow(), stdio: made.childSide }), spec, made.childEnds, o.limits);
  }
  if (o.timeout !== undefined) child.setTimeout(o.timeout, o.forceKillAfter);
  if (o.signal) child.abortOn(o.signal);
  return child;
}

function compiledOrError(binding: NativeBinding, profile: NativeSeccompProfile): Uint8Array | NsboxError {
  const result = binding.compileSeccomp(profile);
  return result instanceof Uint8Array ? result : systemError(result, { step: 'compile the seccomp profile', path: result.path });
}

function cpuHardSeconds(o: ResolvedOptions): number | undefined {
  const cpu = o.rlimits.find((r) => r.name === 'cpu');
  return cpu && cpu.hard !== 'unlimited' ? Number(cpu.hard) : undefined;
}

function isPending(s: SetupTracked): boolean {
  return s[SETUP_STATE]() === 'pending';
}

function attachment(binding: NativeBinding, started: Launched): Attached {
  return { pid: started.pid, pidfd: started.pidfd, cgroups: started.cgroups, watch: (onEvent) => new binding.Watch(started.pidfd, started.reportFd, onEvent) };
}

function failed(child: IsolatedProcess, err: Error): IsolatedProcess {
  child.startFailed(err);
  return child;
}

interface Launched {
  pid: number;
  pidfd: number;
  reportFd: number;
  stdio: number[];
  /** The request as carried out, joins included: what a later failure is worded from. */
  request: SpawnRequest;
  /** The sandbox's cgroups, with `limits`: read and removed once it is gone. */
  cgroups: SandboxCgroups | undefined;
}

/** Opens the joins and hands the request to the addon. */
function launch(binding: NativeBinding, request: SpawnRequest, spec: StartSpec, limits: ResolvedLimits | undefined): Launched | NsboxError {
  const joins = spec.joins();
  if (joins instanceof Error) return joins;
  // The sandbox's cgroups exist, limited, before the clone: its child enters them first of all.
  const cgroups = limits ? createCgroups(limits) : undefined;
  if (cgroups instanceof Error) {
    closeAll(joins.opened);
    return cgroups;
  }
  const full = { ...request, joins: joins.joins, cgroups: cgroups?.procsFds ?? [] };
  try {
    const result = binding.spawn(encodeRequest(full));
    if ('errno' in result) {
      if (cgroups) removeCgroups(cgroups);
      return spawnError(full, result, (f) => binding.tryClone(f));
    }
    return { ...result, request: full, cgroups };
  } finally {
    closeAll(joins.opened);
    if (cgroups) closeAll(cgroups.procsFds.splice(0));
  }
}

/** Pipes for the 'pipe' entries, made now: their child ends go to the spawn as plain fds. */
function makePipes(binding: NativeBinding, stdio: ResolvedOptions['stdio']): { parent: number[]; childSide: number[]; childEnds: number[] } | NsboxError {
  const parent: number[] = [];
  const childSide: number[] = [];
  const childEnds: number[] = [];
  for (const [i, entry] of stdio.entries()) {
    if (entry !== 'pipe') {
      parent.push(-1);
      childSide.push(entry === 'ignore' ? WIRE.stdio.ignore : entry);
      continue;
    }
    const pipe = binding.pipe(i >= 3);
    if (!Array.isArray(pipe)) {
      closeAll([...parent.filter((fd) => fd >= 0), ...childEnds]);
      return systemError(pipe, { step: 'open the pipes of the sandbox' });
    }
    // [read, write] for a pipe; for a socket pair (fds 3 and up), [ours, theirs].
    const [read, write] = pipe;
    parent.push(i === 0 ? write : read);
    childSide.push(i === 0 ? read : write);
    childEnds.push(i === 0 ? read : write);
  }
  return { parent, childSide, childEnds };
}

/** Starts `child` once every sandbox it enters is set up; fails it if one never gets there. */
function startWhenSetUp(binding: NativeBinding, child: IsolatedProcess, pending: SetupTracked[], request: () => SpawnRequest, spec: StartSpec, childEnds: number[], limits: ResolvedLimits | undefined): void {
  let waiting = pending.length;
  let done = false;
  const finish = (): void => {
    done = true;
    closeAll(childEnds);
  };
  child.waitsToStart(finish);
  for (const target of pending) {
    target.whenSetUp((ready) => {
      if (done) return;
      if (!ready) {
        finish();
        child.startFailed(systemError({ errno: os.constants.errno.ESRCH, syscall: 'setns' }, { step: 'enter a sandbox that ended before its setup finished' }));
        return;
      }
      if (--waiting > 0) return;
      const now = request();
      const started = launch(binding, now, spec, limits);
      finish();
      if (started instanceof Error) child.startFailed(started, now);
      else child.attach(attachment(binding, started), started.request);
    });
  }
}
