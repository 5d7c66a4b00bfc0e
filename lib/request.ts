/**
 * One request per spawn, from options to helper: everything the addon does (which namespaces
 * clone() makes and which the clone child unshares, stdio, joins, maps and who writes them, a
 * veth) and the plan the helper runs, encoded once into one buffer (layout: src/sys/wire.h). The
 * native side carries it out and decides nothing it does not say.
 * @module
 */
import { CLONE_FLAGS, NAMESPACES, WIRE, type Namespace } from './constants';
import type { ResolvedOptions, ResolvedVeth } from './options';
import { buildPlan, planSize, stringSize, writePlan, writeString, writeU32, type Plan } from './plan';
import { usernsRequest, type UsernsRequest } from './userns';

/** One setns() the clone child makes: an fd of ours (a pidfd or a namespace file) and the kinds. */
export interface JoinRequest {
  fd: number;
  nstype: number;
}

/** Everything a spawn needs, as data. */
export interface SpawnRequest {
  /** `CLONE_NEW*` flags clone() itself makes. */
  cloneFlags: number;
  /** `CLONE_NEW*` flags the clone child makes with unshare(), after the joins. */
  unshareFlags: number;
  /** One entry per fd: `WIRE.stdio.pipe`, `WIRE.stdio.ignore`, or an fd of ours. */
  stdio: number[];
  /** Filled in right before the clone, from what `join` or `exec` names. */
  joins: JoinRequest[];
  /** Filled in right before the clone: `cgroup.procs` fds of the sandbox's cgroups, entered first. */
  cgroups: number[];
  /** Who writes the user namespace's maps, and what they say (none without `user`). */
  userns: UsernsRequest | undefined;
  veth: ResolvedVeth | undefined;
  dieWithParent: boolean;
  /** The helper inherits Node's environment (for the command: `env` not given). */
  inheritEnv: boolean;
  plan: Plan;
}

/**
 * What clone() makes itself: the user namespace must exist first, as it owns the others, and only
 * a clone makes the helper PID 1. The mount namespace too: the kernel refuses to bind-mount a
 * mount namespace whose id is not above the caller's (a loop check), and ids made on another CPU
 * by the child can be lower (persistNamespace failed so, under load). So does the network
 * namespace when we are to put a veth end into it right after. The rest, among them the costly
 * network namespace, the child unshares itself, in parallel with Node.
 */
function atClone(o: ResolvedOptions): number {
  return CLONE_FLAGS.user | CLONE_FLAGS.pid | CLONE_FLAGS.mount | (o.veth ? CLONE_FLAGS.net : 0);
}

const STDIO_CODE = { pipe: WIRE.stdio.pipe, ignore: WIRE.stdio.ignore } as const;

/** The namespaces to create, as `CLONE_NEW*` flags (the time namespace is the helper's step). */
export function namespaceFlags(o: ResolvedOptions): number {
  let flags = 0;
  for (const kind of ['pid', 'mount', 'uts', 'ipc', 'user', 'net', 'cgroup'] as const) if (o[kind]) flags |= CLONE_FLAGS[kind];
  return flags;
}

/** The kinds named by a set of `CLONE_NEW*` flags, in `NAMESPACES` order. */
export function kindsOf(flags: number): Namespace[] {
  return NAMESPACES.filter((ns) => flags & CLONE_FLAGS[ns]);
}

/**
 * Turns validated options into the request. Pure: no syscalls (joins come later; the seccomp
 * program, compiled from `o.seccomp` by the addon, is given).
 */
export function buildRequest(command: string, args: readonly string[], o: ResolvedOptions, seccomp?: Uint8Array): SpawnRequest {
  const flags = namespaceFlags(o);
  const userns = usernsRequest(o);
  return {
    cloneFlags: flags & atClone(o),
    unshareFlags: flags & ~atClone(o),
    stdio: o.stdio.map((entry) => (typeof entry === 'number' ? entry : STDIO_CODE[entry])),
    joins: [],
    cgroups: [],
    userns,
    veth: o.veth,
    dieWithParent: o.dieWithParent,
    inheritEnv: o.env === undefined,
    plan: buildPlan(command, args, o, userns, seccomp),
  };
}

function spawnOptions(r: SpawnRequest): number {
  const bits = WIRE.spawn.options;
  let options = 0;
  if (r.dieWithParent) options |= bits.dieWithParent;
  if (r.inheritEnv) options |= bits.inheritEnv;
  if (r.userns) options |= r.userns.writer === 'child' ? bits.mapsByChild : bits.mapsByParent;
  // Entering a user namespace: become its root, as nsenter does (see src/clone_child.cc).
  if (r.joins.some((j) => j.nstype & CLONE_FLAGS.user)) options |= bits.joinAsRoot;
  if (r.veth) options |= bits.veth;
  // A single-id map that does not make the helper root: it keeps its capabilities ambient.
  if (r.userns?.writer === 'child' && !/^0 /.test(r.userns.uidMap)) options |= bits.keepCaps;
  return options;
}

/** Serializes a request in the layout of src/sys/wire.h: the spawn section, then the plan. */
export function encodeRequest(r: SpawnRequest): Buffer {
  const strings = [r.userns?.uidMap ?? '', r.userns?.gidMap ?? '', r.veth?.hostName ?? '', r.veth?.insideName ?? '', r.veth?.hostAddress ?? ''];
  let size = WIRE.spawn.headerSize + 4 * r.stdio.length + 8 * r.joins.length + 4 * r.cgroups.length;
  for (const text of strings) size += stringSize(text);
  const out = Buffer.allocUnsafe(size + planSize(r.plan));
  const header = [WIRE.spawn.magic, WIRE.spawn.version, size, spawnOptions(r), r.cloneFlags, r.unshareFlags, r.stdio.length, r.joins.length, r.veth?.hostPrefix ?? 0, r.cgroups.length];
  let at = 0;
  for (const v of header) at = writeU32(out, v, at);
  for (const fd of r.stdio) at = writeU32(out, fd, at);
  for (const j of r.joins) at = writeU32(out, j.nstype, writeU32(out, j.fd, at));
  for (const fd of r.cgroups) at = writeU32(out, fd, at);
  for (const text of strings) at = writeString(out, text, at);
  writePlan(out, at, r.plan);
  return out;
}
