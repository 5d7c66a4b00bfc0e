/**
 * The `limits` option: a cgroup per sandbox, below the cgroup this process is in (per hierarchy),
 * in one parent per Node process (`nsbox-<pid>`, removed when empty), entered by the clone child
 * before the helper runs, read for what it refused and used once the sandbox is gone, then removed.
 * cgroup v2 where the controller is enabled there, v1 otherwise (a hybrid host: each controller
 * where it lives). See docs/limits.md.
 * @module
 */
import fs from 'fs';
import path from 'path';
import { invalidArgType, outOfRange, systemError, type NsboxError } from './errors';
import type { LimitHit } from './exit-result';

/** The `limits` option. */
export interface LimitsOption {
  /** Bytes of memory (v2 `memory.max`, v1 `memory.limit_in_bytes`); past it, the OOM killer. */
  memory?: number;
  /** Bytes of memory and swap together (v2 `memory.swap.max` = this minus `memory`, v1 `memory.memsw.limit_in_bytes`). */
  memorySwap?: number;
  /** Processes and threads (`pids.max`): a fork past it fails with EAGAIN. */
  pids?: number;
  /** CPU time, in cores (`0.5`: half of one; v2 `cpu.max`, v1 `cpu.cfs_quota_us`). */
  cpu?: number;
}

/** Limits after validation. */
export interface ResolvedLimits {
  memory?: number;
  memorySwap?: number;
  pids?: number;
  cpu?: number;
}

type Controller = 'memory' | 'pids' | 'cpu' | 'cpuacct';

/** Where a controller lives for this process: a hierarchy's mount point and our cgroup in it. */
interface Placement {
  version: 1 | 2;
  /** This process's cgroup directory in that hierarchy. */
  own: string;
}

const PERIOD_US = 100_000;

/** Validates `limits`; undefined when none is asked for. */
export function resolveLimits(v: unknown): ResolvedLimits | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidArgType('limits', 'an object such as { memory: 256 << 20, pids: 64, cpu: 0.5 }', v);
  const o = v as Record<string, unknown>;
  const out: ResolvedLimits = {};
  for (const key of Object.keys(o)) {
    const value = o[key];
    if (key === 'cpu') {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0.01 || value > 1024) throw outOfRange('limits.cpu', 'a number of cores from 0.01 to 1024', value);
      out.cpu = value;
    } else if (key === 'memory' || key === 'memorySwap' || key === 'pids') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw outOfRange(`limits.${key}`, 'a positive integer', value);
      out[key] = value;
    } else {
      throw outOfRange('limits', 'one of memory, memorySwap, pids, cpu', key);
    }
  }
  if (out.memorySwap !== undefined && (out.memory === undefined || out.memorySwap < out.memory)) {
    throw outOfRange('limits.memorySwap', 'at least limits.memory (memory and swap together), with memory given', out.memorySwap);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Mount points by controller (v1) and the v2 mount, from a mountinfo text. */
export function hierarchies(mountinfo: string): { v1: Map<string, string>; v2: string | undefined } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (dash < 0) continue;
    const type = fields[dash + 1];
    const point = fields[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (type === 'cgroup2') v2 ??= point;
    if (type === 'cgroup') for (const option of (fields[dash + 3] ?? '').split(',')) if (!v1.has(option)) v1.set(option, point);
  }
  return { v1, v2 };
}

/** This process's cgroup path per v1 controller, and its v2 path, from a /proc/self/cgroup text. */
export function ownCgroups(text: string): { v1: Map<string, string>; v2: string | undefined } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3];
    else for (const c of m[2].split(',')) v1.set(c, m[3]);
  }
  return { v1, v2 };
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The hierarchies' mounts, read once: mountinfo is the costly read (a spawn with limits paid 0.3 ms for it). */
let mountsOnce: ReturnType<typeof hierarchies> | undefined;

/** Where each controller lives for this process: v2 when enabled for our cgroup there, else v1. */
export function placements(mountinfo?: string, own = read('/proc/self/cgroup') ?? ''): Map<Controller, Placement> {
  const mounts = mountinfo !== undefined ? hierarchies(mountinfo) : (mountsOnce ??= hierarchies(read('/proc/self/mountinfo') ?? ''));
  const mine = ownCgroups(own);
  const out = new Map<Controller, Placement>();
  const under = (mount: string, cgroup: string): string => path.join(mount, cgroup.replace(/^\/+/, ''));
  const v2dir = mounts.v2 !== undefined && mine.v2 !== undefined ? under(mounts.v2, mine.v2) : undefined;
  const v2controllers = new Set((v2dir ? (read(path.join(v2dir, 'cgroup.controllers')) ?? '') : '').trim().split(/\s+/));
  for (const c of ['memory', 'pids', 'cpu', 'cpuacct'] as Controller[]) {
    // cpuacct is v1's; v2 accounts in cpu.stat without a controller of its own.
    if (v2dir && v2controllers.has(c === 'cpuacct' ? 'cpu' : c)) out.set(c, { version: 2, own: v2dir });
    else if (mounts.v1.has(c) && mine.v1.has(c)) out.set(c, { version: 1, own: under(mounts.v1.get(c) as string, mine.v1.get(c) as string) });
  }
  return out;
}

/** The files and values that set each limit, per version. */
export function limitFiles(limits: ResolvedLimits, version: 1 | 2): Map<Controller, [string, string][]> {
  const files = new Map<Controller, [string, string][]>();
  const add = (c: Controller, file: string, value: string): void => void files.set(c, [...(files.get(c) ?? []), [file, value]]);
  if (limits.memory !== undefined) add('memory', version === 2 ? 'memory.max' : 'memory.limit_in_bytes', String(limits.memory));
  if (limits.memorySwap !== undefined) {
    add('memory', version === 2 ? 'memory.swap.max' : 'memory.memsw.limit_in_bytes', String(version === 2 ? limits.memorySwap - (limits.memory ?? 0) : limits.memorySwap));
  }
  if (limits.pids !== undefined) add('pids', 'pids.max', String(limits.pids));
  if (limits.cpu !== undefined) {
    const quota = String(Math.round(limits.cpu * PERIOD_US));
    if (version === 2) add('cpu', 'cpu.max', `${quota} ${PERIOD_US}`);
    else {
      add('cpu', 'cpu.cfs_period_us', String(PERIOD_US));
      add('cpu', 'cpu.cfs_quota_us', quota);
    }
  }
  return files;
}

/** A sandbox's cgroups: one directory per hierarchy it needed. */
export interface SandboxCgroups {
  /** Directories, by controller (several controllers may share one, in v2). */
  dirs: Map<Controller, { dir: string; version: 1 | 2 }>;
  /** `cgroup.procs` of each distinct directory, open for writing: the clone child writes 0 to each. */
  procsFds: number[];
}

let serial = 0;
let cleanedUp = false;

function parentOf(own: string): string {
  return path.join(own, `nsbox-${process.pid}`);
}

/** Removes a directory tree of empty cgroups (deepest first); gone already is fine. */
function removeCgroup(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
  // A cgroup is empty only once its last process is reaped; that is just before we are called.
  for (let tries = 0; tries < 50; tries++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    }
  }
}

/** Creates the cgroups for `limits`, sets them, and opens what the clone child enters by. */
export function createCgroups(limits: ResolvedLimits): SandboxCgroups | NsboxError {
  if (!cleanedUp) {
    cleanedUp = true;
    cleanupCgroups();
  }
  const where = placements();
  const dirs = new Map<Controller, { dir: string; version: 1 | 2 }>();
  const made: string[] = [];
  const fail = (e: unknown, what: string, file: string): NsboxError => {
    for (const d of made.reverse()) removeCgroup(d);
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS' ? ` (${process.geteuid?.() === 0 ? 'this cgroup hierarchy is not writable here' : 'no delegated cgroup v2 subtree: run under one, e.g. systemd-run --user --scope -p Delegate=yes, or as root'})` : '';
    return systemError({ errno: -(err.errno ?? -5), syscall: err.syscall ?? 'open' }, { step: `${what}${hint}`, path: file });
  };
  // Only the controllers the limits need: each costs a mkdir and an rmdir per spawn. Usage comes
  // from these where they account it, from the init's own accounting otherwise.
  const wanted = new Set<Controller>();
  for (const version of [1, 2] as const) for (const c of limitFiles(limits, version).keys()) wanted.add(c);
  // CPU accounting that survives a SIGKILLed init (v1 keeps it in its own cpuacct hierarchy).
  if (where.get('cpuacct')?.version === 1) wanted.add('cpuacct');
  const box = `box-${serial++}`;
  for (const c of wanted) {
    const p = where.get(c);
    if (!p) {
      if (c === 'cpuacct') continue;
      return fail(Object.assign(new Error(), { errno: -95, code: 'EOPNOTSUPP', syscall: 'mkdir' }), `put the sandbox in a ${c} cgroup: this host has no ${c} controller`, '/sys/fs/cgroup');
    }
    const dir = path.join(parentOf(p.own), box);
    if (![...dirs.values()].some((d) => d.dir === dir)) {
      try {
        fs.mkdirSync(parentOf(p.own), { recursive: true });
        fs.mkdirSync(dir);
        made.push(dir);
      } catch (e) {
        return fail(e, `create the sandbox's ${c} cgroup`, dir);
      }
    }
    dirs.set(c, { dir, version: p.version });
  }
  for (const [c, { dir, version }] of dirs) {
    for (const [file, value] of limitFiles(limits, version).get(c) ?? []) {
      try {
        fs.writeFileSync(path.join(dir, file), value);
      } catch (e) {
        return fail(e, `set ${file} to ${value}`, path.join(dir, file));
      }
    }
  }
  const procsFds: number[] = [];
  for (const dir of new Set([...dirs.values()].map((d) => d.dir))) {
    try {
      procsFds.push(fs.openSync(path.join(dir, 'cgroup.procs'), fs.constants.O_WRONLY));
    } catch (e) {
      for (const fd of procsFds) fs.closeSync(fd);
      return fail(e, 'open the sandbox cgroup to enter it', path.join(dir, 'cgroup.procs'));
    }
  }
  return { dirs, procsFds };
}

function number(text: string | undefined, key?: string): number {
  if (text === undefined) return 0;
  if (key === undefined) return Number(text.trim()) || 0;
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** What the cgroups say once the sandbox is gone: limits that refused something, OOM kills, usage. */
export interface CgroupReading {
  limitsHit: LimitHit[];
  oomKilled: boolean;
  cpuUserMs?: number;
  cpuSystemMs?: number;
  maxRssBytes?: number;
}

/** Reads the sandbox's {@link CgroupReading}. */
export function readCgroups(cg: SandboxCgroups): CgroupReading {
  const hit: LimitHit[] = [];
  const mem = cg.dirs.get('memory');
  const pids = cg.dirs.get('pids');
  const cpu = cg.dirs.get('cpu');
  // v2 accounts CPU in cpu.stat of the cpu controller; v1 in cpuacct, which is made only when asked.
  const acct = cg.dirs.get('cpuacct') ?? (cpu?.version === 2 ? cpu : undefined);
  let oomKilled = false;
  let maxRssBytes: number | undefined;
  if (mem) {
    const events = read(path.join(mem.dir, mem.version === 2 ? 'memory.events' : 'memory.oom_control'));
    oomKilled = number(events, 'oom_kill') > 0;
    const refused = mem.version === 2 ? number(events, 'max') > 0 : number(read(path.join(mem.dir, 'memory.failcnt'))) > 0;
    if (oomKilled || refused) hit.push('memory');
    maxRssBytes = mem.version === 1 ? number(read(path.join(mem.dir, 'memory.max_usage_in_bytes'))) : number(read(path.join(mem.dir, 'memory.peak'))) || undefined;
  }
  if (pids && number(read(path.join(pids.dir, 'pids.events')), 'max') > 0) hit.push('pids');
  if (cpu && number(read(path.join(cpu.dir, 'cpu.stat')), 'nr_throttled') > 0) hit.push('cpu');
  let cpuUserMs: number | undefined;
  let cpuSystemMs: number | undefined;
  if (acct?.version === 1) {
    cpuUserMs = Math.round(number(read(path.join(acct.dir, 'cpuacct.usage_user'))) / 1e6);
    cpuSystemMs = Math.round(number(read(path.join(acct.dir, 'cpuacct.usage_sys'))) / 1e6);
  } else if (acct?.version === 2) {
    const stat = read(path.join(acct.dir, 'cpu.stat'));
    cpuUserMs = Math.round(number(stat, 'user_usec') / 1000);
    cpuSystemMs = Math.round(number(stat, 'system_usec') / 1000);
  }
  return { limitsHit: hit, oomKilled, cpuUserMs, cpuSystemMs, maxRssBytes };
}

/** Whether each limit works for this process: its controller is there, and its cgroup writable. */
export function limitsVerdicts(): Record<'memory' | 'pids' | 'cpu', { supported: true; reason?: undefined } | { supported: false; reason: string }> {
  const where = placements();
  const verdict = (c: Controller): { supported: true } | { supported: false; reason: string } => {
    const p = where.get(c);
    if (!p) return { supported: false, reason: `no ${c} controller: neither a cgroup v1 hierarchy with it nor cgroup v2 with it enabled for this process's cgroup` };
    try {
      fs.accessSync(p.own, fs.constants.W_OK);
      return { supported: true };
    } catch {
      return {
        supported: false,
        reason: `this process cannot create cgroups in ${p.own} (cgroup v${p.version})${process.geteuid?.() === 0 ? '' : ': a delegated cgroup v2 subtree is needed (systemd: systemd-run --user --scope -p Delegate=yes node ...)'}`,
      };
    }
  };
  return { memory: verdict('memory'), pids: verdict('pids'), cpu: verdict('cpu') };
}

/** Removes a sandbox's cgroups, and this process's parent cgroup once it is empty. */
export function removeCgroups(cg: SandboxCgroups): void {
  for (const fd of cg.procsFds.splice(0)) {
    try {
      fs.closeSync(fd);
    } catch {
      // closed already
    }
  }
  for (const { dir } of cg.dirs.values()) {
    removeCgroup(dir);
    try {
      fs.rmdirSync(path.dirname(dir));
    } catch {
      // other sandboxes of this process still there
    }
  }
}

/**
 * Removes the cgroups nsbox left behind when a process using it was SIGKILLed: the `nsbox-<pid>`
 * parents (below this process's own cgroups) whose process is gone. Runs before the first
 * sandbox with limits of each process; call it yourself at any time. Returns the directories removed.
 */
export function cleanupCgroups(): string[] {
  const removed: string[] = [];
  for (const { own } of placements().values()) {
    let entries: string[];
    try {
      entries = fs.readdirSync(own);
    } catch {
      continue;
    }
    for (const name of entries) {
      const m = /^nsbox-(\d+)$/.exec(name);
      if (!m || Number(m[1]) === process.pid || fs.existsSync(`/proc/${m[1]}`)) continue;
      removeCgroup(path.join(own, name));
      if (!fs.existsSync(path.join(own, name))) removed.push(path.join(own, name));
    }
  }
  return removed;
}
