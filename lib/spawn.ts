/**
 * `spawnIsolated`: validate, then start (sandbox.ts), joining what `join` names.
 * @module
 */
import fs from 'fs';
import os from 'os';
import type { IsolatedProcess } from './child';
import { CLONE_FLAGS, NS_FILES } from './constants';
import { systemError, type NsboxError } from './errors';
import { execInSandbox } from './exec';
import { timeJoinFile } from './option-namespaces';
import { resolveOptions, type IsolatedOptions, type ResolvedOptions } from './options';
import { closeAll, startSandbox, type Joins } from './sandbox';

/**
 * Starts `command` as PID 1 of new namespaces (by default: PID and mount, with a fresh `/proc`),
 * optionally inside its own root filesystem, and returns its handle.
 *
 * Bad options throw a TypeError or RangeError synchronously, before anything runs. Everything
 * else (a missing rootfs, a failed mount, a command that does not exist inside) is an `error`
 * event and a rejected `exited`, with an {@link NsboxError} naming the step that failed. A sandbox
 * named in `join` that is still being set up is waited for.
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
  return startSandbox(command, o, {
    joins: () => openJoins(o),
    enter: execInSandbox as Parameters<typeof startSandbox>[2]['enter'],
    refine: (resolved) => (resolved.timeJoin === undefined ? resolved : { ...resolved, helperJoins: [{ kind: 'time', file: timeJoinFile(resolved.timeJoin) }] }),
    after: [...o.join.map(([, target]) => target), o.timeJoin],
  });
}

/** Opens what `join` names; a failure is the spawn's error, as any other. */
function openJoins(o: ResolvedOptions): Joins | NsboxError {
  const joins: Joins = { joins: [], opened: [] };
  for (const [kind, target] of o.join) {
    if (typeof target === 'object') {
      if (target.pidfd === undefined) {
        closeAll(joins.opened);
        return systemError({ errno: os.constants.errno.ESRCH, syscall: 'setns' }, { step: `join the ${kind} namespace of a sandbox that has exited` });
      }
      joins.joins.push({ fd: target.pidfd, nstype: CLONE_FLAGS[kind] });
      continue;
    }
    const file = typeof target === 'number' ? `/proc/${target}/ns/${NS_FILES[kind]}` : target;
    try {
      const fd = fs.openSync(file, 'r');
      joins.opened.push(fd);
      joins.joins.push({ fd, nstype: CLONE_FLAGS[kind] });
    } catch (e) {
      closeAll(joins.opened);
      const err = e as NodeJS.ErrnoException;
      return systemError({ errno: -(err.errno ?? -os.constants.errno.EIO), syscall: 'open' }, { step: `open ${file} to join its ${kind} namespace`, path: file });
    }
  }
  return joins;
}
