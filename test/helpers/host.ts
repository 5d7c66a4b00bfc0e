/**
 * What a spawning suite must leave as it found: this process's fds, its zombie children, the
 * mount table, and no process in a PID namespace it created.
 */
import fs from 'fs';

export interface HostSnapshot {
  fds: number;
  zombies: number;
  mountinfo: string;
}

function mounts(): string {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8');
}

/** Zombie children of this process. */
export function zombieChildren(pid = process.pid): number {
  let count = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' && Number(fields[1]) === pid) count++;
  }
  return count;
}

export function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

export function snapshot(): HostSnapshot {
  return { fds: openFds(), zombies: zombieChildren(), mountinfo: mounts() };
}

/**
 * Pids (host view) of every living process in the PID namespace with this inode. Zombies are
 * not alive: when the Node process is killed, its dead PID 1 is handed to the host's init, which
 * reaps it when it gets to it.
 */
export function processesInPidNamespace(inode: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/ns/pid`) !== `pid:[${inode}]`) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** Inode of the PID namespace a process is in. */
export function pidNamespaceOf(pid: number): number {
  return Number(/\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/pid`))?.[1]);
}

/** A PID namespace kept from being freed (so its inode cannot be reused by another test). */
export interface HeldNamespace {
  inode: number;
  release(): void;
}

/** Opens the PID namespace of `pid`: while held, its inode names it and nothing else. */
export function holdPidNamespace(pid: number): HeldNamespace {
  const fd = fs.openSync(`/proc/${pid}/ns/pid`, 'r');
  return { inode: fs.fstatSync(fd).ino, release: () => fs.closeSync(fd) };
}

/** Waits until `check` is true or `ms` pass; returns the last value of check. */
export async function waitFor(check: () => boolean, ms = 2000, step = 10): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, step));
  }
  return check();
}

/**
 * The fd count once it has held still for a few turns of the loop: handles of whatever ran before
 * (the helpers' own child processes, streams) close on later turns.
 */
export async function settledFds(): Promise<number> {
  let last = -1;
  let still = 0;
  await waitFor(() => {
    const fds = openFds();
    still = fds === last ? still + 1 : 0;
    last = fds;
    return still >= 3;
  }, 1000, 20);
  return last;
}
