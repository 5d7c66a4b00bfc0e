/**
 * Running another command inside a running sandbox, like `nsenter --target` or `docker exec`.
 * @module
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { IsolatedProcess } from './child';
import { CLONE_FLAGS, NAMESPACES, type Namespace } from './constants';
import { invalidArgValue, systemError } from './errors';
import { namespaces } from './namespaces';
import { resolveOptions, type IsolatedOptions, type ResolvedOptions } from './options';
import { startSandbox, type Joins } from './sandbox';

/** Options of {@link IsolatedProcess.exec}: those of `spawnIsolated` that make sense inside a sandbox. */
export interface ExecOptions
  extends Pick<IsolatedOptions, 'cwd' | 'env' | 'argv0' | 'stdio' | 'dieWithParent' | 'newSession' | 'foreground' | 'noNewPrivileges' | 'signal' | 'timeout' | 'killSignal' | 'trace'> {
  /** The sandbox's namespaces to enter. Default: all of them. */
  namespaces?: readonly Namespace[];
}

const EXEC_OPTIONS: ReadonlySet<string> = new Set(['cwd', 'env', 'argv0', 'stdio', 'dieWithParent', 'newSession', 'foreground', 'noNewPrivileges', 'signal', 'timeout', 'killSignal', 'trace', 'namespaces']);

/** What a sandbox must offer to be entered. */
export interface EnterableSandbox {
  readonly pid: number | undefined;
  readonly pidfd: number | undefined;
}

/**
 * Starts `command` in the namespaces of a running sandbox. The new process is a child of a
 * helper of its own (outside the sandbox's PID namespace, so the command is the helper's only
 * child in it): it has the sandbox's root, `/proc`, hostname and network, and its own status.
 * While the sandbox is still being set up, the start waits for that.
 */
export function execInSandbox(sandbox: IsolatedProcess, command: string, args: readonly string[] = [], options: ExecOptions = {}): IsolatedProcess {
  if (typeof options !== 'object' || options === null) throw invalidArgValue('options', 'must be an object');
  for (const key of Object.keys(options)) {
    if (!EXEC_OPTIONS.has(key)) throw Object.assign(new TypeError(`Unknown exec option "${key}" (known: ${[...EXEC_OPTIONS].join(', ')})`), { code: 'ERR_NSBOX_UNKNOWN_OPTION' });
  }
  const { namespaces: kinds, cwd, ...rest } = options;
  if (kinds !== undefined && (!Array.isArray(kinds) || kinds.some((k) => !NAMESPACES.includes(k)))) {
    throw invalidArgValue('namespaces', `must be a list of ${NAMESPACES.join(', ')}`, kinds);
  }
  // Nothing new is created: the helper only joins, then forks the command (setns into a PID
  // namespace applies to children), so init stays on.
  const enter = kinds ?? NAMESPACES;
  const o = resolveOptions(command, args, {
    ...rest,
    ...(cwd === undefined ? {} : { cwd: path.posix.resolve('/', cwd) }),
    pid: false,
    mount: false,
    init: true,
  } as IsolatedOptions);
  return startSandbox(command, o, {
    after: [sandbox],
    joins: () => joinsOf(sandbox, enter.filter((k) => k !== 'mount' && k !== 'time')),
    enter: execInSandbox as (s: IsolatedProcess, c: string, a: readonly string[] | undefined, x: object | undefined) => IsolatedProcess,
    refine: (resolved) => ({ ...resolved, helperJoins: helperJoinsOf(sandbox, enter) }),
  });
}

/**
 * The namespaces the helper enters itself, by /proc path, in this order: the time namespace (the
 * clone child cannot: it shares Node's memory) and the mount one (after it, /proc is the
 * sandbox's). Only those that differ from ours: entering the host's own time namespace needs
 * privilege a rootless caller lacks. Decided at the start, once the sandbox is set up.
 */
function helperJoinsOf(sandbox: EnterableSandbox, enter: readonly Namespace[]): ResolvedOptions['helperJoins'] {
  const joins: ResolvedOptions['helperJoins'] = [];
  const pid = sandbox.pid ?? 0;
  if (enter.includes('time') && differs(`/proc/${pid}/ns/time_for_children`, '/proc/self/ns/time')) {
    joins.push({ kind: 'time', file: `/proc/${pid}/ns/time_for_children` });
  }
  if (enter.includes('mount') && differs(`/proc/${pid}/ns/mnt`, '/proc/self/ns/mnt')) joins.push({ kind: 'mount', file: `/proc/${pid}/ns/mnt` });
  return joins;
}

/** Whether two namespace files name different namespaces (false if either is missing). */
function differs(a: string, b: string): boolean {
  try {
    return fs.statSync(a).ino !== fs.statSync(b).ino;
  } catch {
    return false;
  }
}

/** One setns(pidfd) for every kind that differs from ours (the helper enters the time namespace). */
function joinsOf(sandbox: EnterableSandbox, kinds: readonly Namespace[]): Joins | ReturnType<typeof systemError> {
  const { pid, pidfd } = sandbox;
  if (pid === undefined || pidfd === undefined) {
    return systemError({ errno: os.constants.errno.ESRCH, syscall: 'setns' }, { step: 'enter a sandbox that is not running' });
  }
  let theirs: ReturnType<typeof namespaces>;
  try {
    theirs = namespaces(pid);
  } catch (e) {
    return e as ReturnType<typeof systemError>;
  }
  const mine = namespaces();
  const joins: Joins = { joins: [], opened: [] };
  let flags = 0;
  for (const kind of kinds) {
    // Re-entering one's own user namespace is EINVAL; equal namespaces of other kinds cost nothing.
    if (theirs[kind] && theirs[kind]?.inode !== mine[kind]?.inode) flags |= CLONE_FLAGS[kind];
  }
  if (flags !== 0) joins.joins.push({ fd: pidfd, nstype: flags }); // setns(pidfd, 0) is EINVAL
  return joins;
}
