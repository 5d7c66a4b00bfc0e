/**
 * `spawnIsolated`: validate, plan, clone, and hand back the handle.
 * @module
 */
import fs from 'fs';
import os from 'os';
import { IsolatedProcess } from './child';
import { CLONE_FLAGS, NAMESPACES, NS_FILES } from './constants';
import { AbortError, isNativeFailure, systemError, type NativeFailure, type NsboxError } from './errors';
import { native, type NativeBinding, type NativeSpawned } from './native';
import { processEnvIsEnviron, processEnvStrings } from './environment';
import { resolveOptions, type IsolatedOptions, type ResolvedOptions } from './options';
import { buildPlan, encodePlan, type Plan } from './plan';
import { openStdioStreams } from './stdio';

const STDIO_PIPE = -1;
const STDIO_IGNORE = -2;

function nativeStdio(o: ResolvedOptions): number[] {
  return o.stdio.map((entry) => (entry === 'pipe' ? STDIO_PIPE : entry === 'ignore' ? STDIO_IGNORE : entry));
}

/** Words for a failure before the helper ran its plan. */
function startStep(plan: Plan, failure: NativeFailure, binding: NativeBinding): string {
  if (failure.path?.endsWith('_map') || failure.path?.endsWith('/setgroups')) return `write ${failure.path}`;
  if (failure.syscall !== 'clone') return 'start the nsbox helper';
  return refusedNamespace(plan, binding);
}

/** Which namespace the kernel refuses to create, by trying each of the plan's on its own. */
function refusedNamespace(plan: Plan, binding: NativeBinding): string {
  const names = NAMESPACES.filter((ns) => plan.cloneFlags & CLONE_FLAGS[ns]);
  const hint = plan.cloneFlags & CLONE_FLAGS.user || process.geteuid?.() === 0 ? '' : ' (unprivileged: add user: true)';
  // Name the namespace the kernel refuses, trying each on its own (with the user namespace that
  // makes the others possible, when there is one).
  const withUser = plan.cloneFlags & CLONE_FLAGS.user;
  for (const ns of names) {
    if (binding.tryClone(CLONE_FLAGS[ns] | withUser) !== 0) return `create ${ns} namespace${hint}`;
  }
  return `create ${names.join(', ')} namespaces${hint}`;
}

/**
 * Starts `command` as PID 1 of new namespaces (by default: PID and mount, with a fresh `/proc`),
 * optionally inside its own root filesystem, and returns its handle.
 *
 * Bad options throw a TypeError or RangeError synchronously, before anything runs. Everything
 * else (a missing rootfs, a failed mount, a command that does not exist inside) is an `error`
 * event and a rejected `exited`, with an {@link NsboxError} naming the step that failed.
 *
 * @example
 * const child = spawnIsolated('/bin/ps', ['aux'], { rootfs: '/srv/rootfs' });
 * child.stdout?.pipe(process.stdout);
 * const { code, signal } = await child.exited;
 */
export function spawnIsolated(command: string, args?: readonly string[], options?: IsolatedOptions): IsolatedProcess;
export function spawnIsolated(command: string, options?: IsolatedOptions): IsolatedProcess;
export function spawnIsolated(
  command: string,
  argsOrOptions?: readonly string[] | IsolatedOptions,
  maybeOptions?: IsolatedOptions,
): IsolatedProcess {
  const optionsOnly = argsOrOptions !== undefined && argsOrOptions !== null && !Array.isArray(argsOrOptions);
  const args = (optionsOnly ? [] : (argsOrOptions ?? [])) as readonly string[];
  const options = optionsOnly ? (argsOrOptions as IsolatedOptions) : maybeOptions;
  const o = resolveOptions(command, args, options);
  return startSandbox(command, args, o, () => openJoins(o));
}

/** setns() targets for the child: [fd, nstype] pairs and the fds to close once it has them. */
export interface Joins {
  pairs: [number, number][];
  opened: number[];
}

/** Opens what `join` names; a failure is the spawn's error, as any other. */
function openJoins(o: ResolvedOptions): Joins | NsboxError {
  const joins: Joins = { pairs: [], opened: [] };
  for (const [kind, target] of o.join) {
    if (typeof target === 'object') {
      if (target.pidfd === undefined) {
        closeAll(joins.opened);
        return systemError({ errno: os.constants.errno.ESRCH, syscall: 'setns' }, { step: `join the ${kind} namespace of a sandbox that has exited` });
      }
      joins.pairs.push([target.pidfd, CLONE_FLAGS[kind]]);
      continue;
    }
    const file = typeof target === 'number' ? `/proc/${target}/ns/${NS_FILES[kind]}` : target;
    try {
      const fd = fs.openSync(file, 'r');
      joins.opened.push(fd);
      joins.pairs.push([fd, CLONE_FLAGS[kind]]);
    } catch (e) {
      closeAll(joins.opened);
      const err = e as NodeJS.ErrnoException;
      return systemError({ errno: -(err.errno ?? -os.constants.errno.EIO), syscall: 'open' }, { step: `open ${file} to join its ${kind} namespace`, path: file });
    }
  }
  return joins;
}

function closeAll(fds: number[]): void {
  for (const fd of fds) fs.closeSync(fd);
}

/**
 * Starts the helper for validated options: the part `spawnIsolated` and `exec` share. `joins`
 * opens what the child must setns() into, right before the clone.
 */
export function startSandbox(
  command: string,
  args: readonly string[],
  resolved: ResolvedOptions,
  joins: () => Joins | Error,
): IsolatedProcess {
  const binding = native();
  // process.env replaced by a copy (as jest does) is what child_process would pass: so must we.
  const o = resolved.env === undefined && !processEnvIsEnviron(binding) ? { ...resolved, env: processEnvStrings() } : resolved;
  const plan = buildPlan(command, args, o);
  const spawnargs = [command, ...args];
  const base = { spawnargs, plan, init: o.init, killSignal: o.killSignal };
  const failed = (error: Error): IsolatedProcess =>
    new IsolatedProcess({ ...base, pid: undefined, pidfd: undefined, stdio: [], watch: undefined, error });

  if (o.signal?.aborted) return failed(new AbortError(o.signal.reason));
  const join = joins();
  if (join instanceof Error) return failed(join);
  let result: NativeSpawned | NativeFailure;
  try {
    const veth = o.veth && { hostName: o.veth.hostName, peerName: o.veth.insideName, hostAddress: o.veth.hostAddress, hostPrefix: o.veth.hostPrefix };
    result = binding.spawn(encodePlan(plan), plan.cloneFlags, nativeStdio(o), o.dieWithParent, plan.userns, join.pairs.length ? join.pairs : undefined, veth);
  } finally {
    closeAll(join.opened);
  }
  if (isNativeFailure(result)) {
    const step = /^(RTM_|if_nametoindex|inet_pton)/.test(result.syscall) ? `create veth ${o.veth?.hostName} to the sandbox` : startStep(plan, result, binding);
    return failed(systemError(result, { step, path: result.path }));
  }
  const spawned = result;
  const child = new IsolatedProcess({
    ...base,
    pid: spawned.pid,
    pidfd: spawned.pidfd,
    stdio: openStdioStreams(spawned.stdio),
    watch: (onEvent) => new binding.Watch(spawned.pidfd, spawned.reportFd, onEvent),
    error: undefined,
    describeRefusal: () => refusedNamespace(plan, binding),
  });
  if (o.timeout !== undefined) child.setTimeout(o.timeout);
  if (o.signal) child.abortOn(o.signal);
  return child;
}
