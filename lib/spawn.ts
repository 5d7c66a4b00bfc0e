/**
 * `spawnIsolated`: validate, plan, clone, and hand back the handle.
 * @module
 */
import { IsolatedProcess } from './child';
import { CLONE_FLAGS, NAMESPACES } from './constants';
import { AbortError, isNativeFailure, systemError, type NativeFailure } from './errors';
import { native, type NativeBinding } from './native';
import { processEnvIsEnviron, processEnvStrings } from './environment';
import { resolveOptions, type IsolatedOptions, type ResolvedOptions } from './options';
import { buildPlan, encodePlan, type Plan } from './plan';
import { openStdioStreams } from './stdio';
import { usernsRequest } from './userns';

const STDIO_PIPE = -1;
const STDIO_IGNORE = -2;

function nativeStdio(o: ResolvedOptions): number[] {
  return o.stdio.map((entry) => (entry === 'pipe' ? STDIO_PIPE : entry === 'ignore' ? STDIO_IGNORE : entry));
}

/** Words for a failure before the helper ran its plan. */
function startStep(plan: Plan, failure: NativeFailure, binding: NativeBinding): string {
  if (failure.path?.endsWith('_map') || failure.path?.endsWith('/setgroups')) return `write ${failure.path}`;
  if (failure.syscall !== 'clone') return 'start the nsbox helper';
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
  const binding = native();
  if (o.env === undefined && !processEnvIsEnviron(binding)) o.env = processEnvStrings();
  const plan = buildPlan(command, args, o);
  const spawnargs = [command, ...args];
  const base = { spawnargs, plan, init: o.init, killSignal: o.killSignal };

  if (o.signal?.aborted) {
    return new IsolatedProcess({ ...base, pid: undefined, pidfd: undefined, stdio: [], watch: undefined, error: new AbortError(o.signal.reason) });
  }
  const result = binding.spawn(encodePlan(plan), plan.cloneFlags, nativeStdio(o), o.dieWithParent, usernsRequest(o));
  if (isNativeFailure(result)) {
    const error = systemError(result, { step: startStep(plan, result, binding), path: result.path });
    return new IsolatedProcess({ ...base, pid: undefined, pidfd: undefined, stdio: [], watch: undefined, error });
  }
  const child = new IsolatedProcess({
    ...base,
    pid: result.pid,
    pidfd: result.pidfd,
    stdio: openStdioStreams(result.stdio),
    watch: (onEvent) => new binding.Watch(result.pidfd, result.reportFd, onEvent),
    error: undefined,
  });
  if (o.timeout !== undefined) child.setTimeout(o.timeout);
  if (o.signal) child.abortOn(o.signal);
  return child;
}
