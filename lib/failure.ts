/**
 * Every failure of a spawn, before or inside the helper, arrives in one shape (`{ stage or step,
 * errno, syscall, path }`) and is worded here from the request that was carried out, never
 * guessed from the syscall's name.
 * @module
 */
import os from 'os';
import { CLONE_FLAGS, WIRE } from './constants';
import { systemError, type NsboxError } from './errors';
import { namespaceRefusal } from './probe';
import { kindsOf, type SpawnRequest } from './request';

/** A failure as the addon or the helper reports it. */
export interface SpawnFailure {
  errno: number;
  syscall: string;
  path?: string | undefined;
  /** `WIRE.start` stage, for a failure outside the plan's steps. */
  stage?: number | undefined;
  /** Index of the plan step that failed. */
  step?: number | undefined;
}

/** Tries a clone with these flags: 0 or the errno (the addon's tryClone). */
export type CloneTrier = (flags: number) => number;

const S = WIRE.start;

/** Words (and path) for a stage, from the request. */
function stageWords(r: SpawnRequest, f: SpawnFailure, tryClone: CloneTrier): [string, string?] {
  switch (f.stage) {
    case S.fds: return ['pass the stdio and control file descriptors'];
    case S.setgroups: return ['write /proc/self/setgroups', '/proc/self/setgroups'];
    case S.uidMap: return [`write the uid map (${r.userns?.uidMap.trim().replace(/\n/g, ', ')})`, f.path ?? '/proc/self/uid_map'];
    case S.gidMap: return [`write the gid map (${r.userns?.gidMap.trim().replace(/\n/g, ', ')})`, f.path ?? '/proc/self/gid_map'];
    case S.caps: return ['raise ambient capabilities for the user namespace'];
    case S.exec: return ['start the nsbox helper'];
    case S.join: {
      const kinds = kindsOf(r.joins.reduce((all, j) => all | j.nstype, 0));
      return [`enter the ${kinds.join(', ')} namespace${kinds.length === 1 ? '' : 's'} to join`];
    }
    case S.unshare: return [refusedNamespace(r, r.unshareFlags, f.errno, tryClone)];
    case S.clone: return [refusedNamespace(r, r.cloneFlags, f.errno, tryClone)];
    case S.request: return ['hand the spawn request to the addon (a bug in nsbox: please report it)'];
    case S.pipes: return ['open the pipes and the plan of the sandbox'];
    case S.image: return ['load the nsbox helper into a memfd'];
    case S.veth: return [`create veth ${r.veth?.hostName} to the sandbox`];
    case S.helper: return [`start the nsbox helper (${f.syscall})`];
    case S.joinRoot: return ["become root of the joined sandbox's user namespace"];
    case S.command: return [`start the command (${f.syscall})`];
    case S.cgroup: return ["enter the sandbox's cgroups"];
    default: return [`start the sandbox (${f.syscall})`];
  }
}

/**
 * Which namespace the kernel refuses to create, by trying each of the request's on its own (with
 * the user namespace that makes the others possible, when there is one), and why, when the host's
 * settings say (probe()'s reason and remedy).
 */
function refusedNamespace(r: SpawnRequest, flags: number, errno: number, tryClone: CloneTrier): string {
  const all = r.cloneFlags | r.unshareFlags;
  const withUser = all & CLONE_FLAGS.user;
  // The user namespace first: the others are tried inside one.
  const names = kindsOf(flags).sort((a, b) => Number(b === 'user') - Number(a === 'user'));
  let refused = names;
  for (const ns of names) {
    if (tryClone(CLONE_FLAGS[ns] | withUser) !== 0) {
      refused = [ns];
      break;
    }
  }
  const what = refused.length === 1 ? `create ${refused[0]} namespace` : `create ${refused.join(', ')} namespaces`;
  const why = namespaceRefusal(refused, errno);
  const hint = !withUser && process.geteuid?.() !== 0 && errno === os.constants.errno.EPERM ? ' (unprivileged: add user: true)' : '';
  return `${what}${hint}${why ? ` (${why})` : ''}`;
}

/** The NsboxError for a failure of this request. */
export function spawnError(r: SpawnRequest, f: SpawnFailure, tryClone: CloneTrier): NsboxError {
  const step = f.step !== undefined && f.step >= 0 ? r.plan.steps[f.step] : undefined;
  if (step) return systemError(f, { step: step.describe, stepIndex: f.step, path: step.path });
  const [words, path] = stageWords(r, f, tryClone);
  return systemError(f, { step: words, path: path ?? f.path });
}
