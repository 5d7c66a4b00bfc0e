/**
 * How a sandbox ended, from what its handle saw: the init's exit, the init's record of the
 * command's status and usage, the cgroup's counters, and who sent the signal that ended it.
 * @module
 */
import os from 'os';
import type { CgroupReading } from './cgroup';

/** Why the sandbox ended. */
export type ExitReason = 'exit' | 'signal' | 'timeout' | 'memory' | 'cpu-time' | 'killed';

/** A limit that refused something along the way (from the cgroup's event counters). */
export type LimitHit = 'pids' | 'memory' | 'cpu';

/** What the command (and what it started) used. */
export interface ResourceUsage {
  /** From `spawnIsolated()` to the exit. */
  wallMs: number;
  /** CPU time of the command's tree, as the init collected it (0 with `init: false`). */
  cpuUserMs: number;
  cpuSystemMs: number;
  /** The largest resident set of a process of the tree (0 with `init: false`). */
  maxRssBytes: number;
}

/** How the command ended: an exit code or the signal that killed it, why, and what it used. */
export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /**
   * What ended it: `'exit'` (it exited), `'signal'` (a signal nsbox did not send), `'timeout'`,
   * `'killed'` (`kill()`, `stop()` or an aborted `signal`), `'cpu-time'` (`rlimits.cpu`: SIGXCPU
   * at the soft limit, SIGKILL at the hard one), `'memory'` (the cgroup's OOM killer).
   */
  reason: ExitReason;
  /** Limits that refused something along the way, even if the command then exited by itself. */
  limitsHit: LimitHit[];
  usage: ResourceUsage;
}

/** The init's report of the tree's CPU time (ms) and largest resident set (KiB). */
export interface InitUsage {
  user: number;
  system: number;
  maxRssKiB: number;
}

/** What the handle saw by the exit; {@link exitResult} makes the result of it. */
export interface ExitFacts {
  /** The waitid() si_code and si_status of the namespace's PID 1. */
  siCode: number;
  siStatus: number;
  /** The wait status of the command, as the init reported it. */
  commandStatus: number | undefined;
  initUsage: InitUsage | undefined;
  /** The sandbox's cgroup counters, with `limits`. */
  cgroup: CgroupReading | undefined;
  wallMs: number;
  spawned: boolean;
  /** The signal of a kill() that ended the sandbox before its command ran. */
  killedEarly: NodeJS.Signals | undefined;
  timedOut: boolean;
  killedByCaller: boolean;
  /** `rlimits.cpu`'s hard limit in seconds, to tell a SIGKILL of the kernel's from others. */
  cpuHardSeconds: number | undefined;
}

const CLD_EXITED = 1;
const CLD_KILLED = 2;
const CLD_DUMPED = 3;
const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

export function signalName(n: number): NodeJS.Signals {
  return signalNames.get(n) ?? (`SIG${n}` as NodeJS.Signals);
}

/** Decodes a wait(2) status word. */
function fromWaitStatus(status: number): Pick<ExitResult, 'code' | 'signal'> {
  const sig = status & 0x7f;
  return sig === 0 ? { code: (status >> 8) & 0xff, signal: null } : { code: null, signal: signalName(sig) };
}

/** The exit code the init leaves for a command's wait status (src/helper/init.c, exit_like). */
function initExitCode(status: number): number {
  const sig = status & 0x7f;
  return sig === 0 ? (status >> 8) & 0xff : (128 + sig) & 0xff;
}

function status(f: ExitFacts): Pick<ExitResult, 'code' | 'signal'> {
  if (f.killedEarly && !f.spawned) return { code: null, signal: f.killedEarly };
  // The init's record of the command's status counts only if the init's own exit agrees with it.
  const command = f.commandStatus;
  if (command !== undefined && f.siCode === CLD_EXITED && initExitCode(command) === f.siStatus) return fromWaitStatus(command);
  if (f.siCode === CLD_EXITED) return { code: f.siStatus, signal: null };
  if (f.siCode === CLD_KILLED || f.siCode === CLD_DUMPED) return { code: null, signal: signalName(f.siStatus) };
  return { code: null, signal: null };
}

function reason(f: ExitFacts, signal: NodeJS.Signals | null, usage: ResourceUsage): ExitReason {
  if (signal === null) return 'exit';
  if (f.timedOut) return 'timeout';
  if (f.killedByCaller || f.killedEarly) return 'killed';
  if (f.cgroup?.oomKilled && signal === 'SIGKILL') return 'memory';
  // RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL at the hard one (told apart by the CPU used).
  const cpu = f.cpuHardSeconds;
  if (signal === 'SIGXCPU') return 'cpu-time';
  if (signal === 'SIGKILL' && cpu !== undefined && usage.cpuUserMs + usage.cpuSystemMs >= cpu * 1000 - 100) return 'cpu-time';
  return 'signal';
}

/** The result of a sandbox that has exited. */
export function exitResult(f: ExitFacts): ExitResult {
  const { code, signal } = status(f);
  const cg = f.cgroup;
  const usage: ResourceUsage = {
    wallMs: f.wallMs,
    cpuUserMs: cg?.cpuUserMs ?? f.initUsage?.user ?? 0,
    cpuSystemMs: cg?.cpuSystemMs ?? f.initUsage?.system ?? 0,
    maxRssBytes: cg?.maxRssBytes ?? (f.initUsage?.maxRssKiB ?? 0) * 1024,
  };
  return { code, signal, reason: reason(f, signal, usage), limitsHit: cg?.limitsHit ?? [], usage };
}

/** The result of a sandbox whose command never ran (its setup failed before a PID 1 was watched). */
export function neverRan(wallMs: number): ExitResult {
  return { code: null, signal: null, reason: 'exit', limitsHit: [], usage: { wallMs, cpuUserMs: 0, cpuSystemMs: 0, maxRssBytes: 0 } };
}
