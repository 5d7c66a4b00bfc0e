// What the stress run must leave as it found, checked as test/helpers/host-check.ts does: this
// process's open fds, no zombies, no living descendant (a sandbox's PID 1 is our child, and
// everything in its PID namespace descends from it, so ancestry finds what is left in any PID
// namespace we created, without mistaking other people's sandboxes for ours), and the mount table.
'use strict';
const fs = require('fs');

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** fd -> what it points to, for this process. */
function openFds() {
  const fds = new Map();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      fds.set(Number(fd), fs.readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the directory's own fd, closed by now
    }
  }
  return fds;
}

function snapshot() {
  return { fds: openFds(), mountinfo: fs.readFileSync('/proc/self/mountinfo', 'utf8') };
}

/** Every process on the host: pid -> { ppid, state, comm }. */
function processTable() {
  const table = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      table.set(Number(entry), { ppid: Number(fields[1]), state: fields[0], comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/** Descendants of this process, at any depth: [{ pid, ppid, state, comm }]. */
function descendants() {
  const table = processTable();
  const children = new Map();
  for (const [pid, p] of table) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(pid);
  }
  const found = [];
  const queue = [...(children.get(process.pid) ?? [])];
  while (queue.length) {
    const pid = queue.shift();
    found.push({ pid, ...table.get(pid) });
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

function pidNamespace(pid) {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return '?';
  }
}

/** Waits until the fd count has held still for a few turns of the loop (handles close late). */
async function waitSteady(ms = 1000) {
  const end = Date.now() + ms;
  let last = -1;
  let still = 0;
  while (still < 3 && Date.now() < end) {
    const n = openFds().size;
    still = n === last ? still + 1 : 0;
    last = n;
    await delay(20);
  }
}

/** Lines of `a` not in `b`, as multisets. */
function minus(a, b) {
  const counts = new Map();
  for (const x of b) counts.set(x, (counts.get(x) ?? 0) + 1);
  return a.filter((x) => {
    const n = counts.get(x) ?? 0;
    if (n === 0) return true;
    counts.set(x, n - 1);
    return false;
  });
}

/** Compares the host with `before`, giving stragglers a few seconds to go. */
async function checkHost(before, ms = 3000) {
  const end = Date.now() + ms;
  for (;;) {
    const clean = openFds().size === before.fds.size && descendants().length === 0;
    if (clean || Date.now() > end) break;
    await delay(20);
  }
  const after = snapshot();
  const left = descendants();
  const zombies = left.filter((p) => p.state === 'Z');
  const alive = left.filter((p) => p.state !== 'Z');
  const ours = pidNamespace('self');
  const details = [];

  const leakedFds = after.fds.size - before.fds.size;
  if (leakedFds !== 0) {
    const added = minus([...after.fds.values()], [...before.fds.values()]);
    const removed = minus([...before.fds.values()], [...after.fds.values()]);
    details.push(`fds: ${before.fds.size} after the warm-up, ${after.fds.size} after the run; opened: ${added.join(' ') || '-'}; closed: ${removed.join(' ') || '-'}`);
  }
  for (const p of zombies) details.push(`zombie: pid ${p.pid} (${p.comm}), parent ${p.ppid}`);
  for (const p of alive) {
    const ns = pidNamespace(p.pid);
    details.push(`left alive: pid ${p.pid} (${p.comm}, state ${p.state}), parent ${p.ppid}, ${ns === ours ? 'in our PID namespace' : `in PID namespace ${ns}`}`);
  }
  const beforeMounts = before.mountinfo.split('\n').filter(Boolean);
  const afterMounts = after.mountinfo.split('\n').filter(Boolean);
  const mountsAdded = minus(afterMounts, beforeMounts);
  const mountsRemoved = minus(beforeMounts, afterMounts);
  for (const m of mountsAdded) details.push(`mount added: ${m}`);
  for (const m of mountsRemoved) details.push(`mount removed: ${m}`);

  return { leakedFds, zombies: zombies.length, leakedProcesses: alive.length, mounts: mountsAdded.length + mountsRemoved.length, details };
}

module.exports = { snapshot, waitSteady, checkHost };
