/**
 * `dryRun`: the whole of what a spawn would do, as data, without running anything: the
 * namespaces made by clone() and by the clone child, the user namespace's maps and who writes
 * them, every setup step in order with its arguments, the capabilities, the seccomp profile, the
 * limits, and the command. The tests of option handling use it instead of reaching into internals.
 * @module
 */
import { kindsOf, buildRequest } from './request';
import { resolveOptions, type IsolatedOptions } from './options';
import type { Namespace } from './constants';
import type { NativeSeccompProfile } from './seccomp';
import type { ResolvedLimits } from './cgroup';
import type { ResolvedRlimit } from './rlimits';

/** One setup step, as the helper runs it. */
export interface DryRunStep {
  /** The step in words, as errors name it. */
  step: string;
  op: string;
  /** Its strings (a seccomp program shows as its length). */
  args: string[];
}

/** What {@link dryRun} returns. */
export interface DryRunPlan {
  command: string;
  args: string[];
  /** Namespaces clone() makes (user, pid, mount, and net with a veth). */
  clone: Namespace[];
  /** Namespaces the clone child makes with unshare(), in parallel with Node. */
  unshare: Namespace[];
  /** The user namespace's maps and who writes them. */
  userns: { writer: 'child' | 'parent'; uidMap: string; gidMap: string } | undefined;
  steps: DryRunStep[];
  capabilities: string[];
  /** The seccomp profile as compiled (actions as SECCOMP_RET_* numbers), or undefined for none. */
  seccomp: NativeSeccompProfile | undefined;
  noNewPrivileges: boolean;
  rlimits: ResolvedRlimit[];
  limits: ResolvedLimits | undefined;
  /** The environment given (undefined: this process's, as it is at the spawn). */
  env: string[] | undefined;
  init: boolean;
}

/**
 * What `spawnIsolated(command, args, options)` would do, without doing it. Bad options throw as
 * spawnIsolated does. Joins show as the kinds named (the fds are opened at the spawn).
 * @example console.log(dryRun('sh', [], { preset: 'untrusted' }).steps.map((s) => s.step));
 */
export function dryRun(command: string, args: readonly string[] = [], options: IsolatedOptions = {}): DryRunPlan {
  const o = resolveOptions(command, args, options);
  // The program itself is compiled at the spawn (by the addon): a placeholder shows where it goes.
  const r = buildRequest(command, o.args, o, o.seccomp ? new Uint8Array(0) : undefined);
  return {
    command,
    args: o.args,
    clone: kindsOf(r.cloneFlags),
    unshare: kindsOf(r.unshareFlags),
    userns: r.userns ? { ...r.userns } : undefined,
    steps: r.plan.steps.map((s) => ({ step: s.describe, op: s.op, args: s.strings.map((x) => (typeof x === 'string' ? x : '<the program compiled from `seccomp`>')) })),
    capabilities: o.capabilities.names,
    seccomp: o.seccomp,
    noNewPrivileges: o.noNewPrivileges,
    rlimits: o.rlimits,
    limits: o.limits,
    env: o.env,
    init: o.init,
  };
}
