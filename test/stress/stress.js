#!/usr/bin/env node
// npm run test:stress: thousands of mixed spawns, IN_FLIGHT at a time, against the built package
// (dist/), as root. Every run must end in one of the outcomes its scenario expects, within
// SETTLE_MS; afterwards this process must have the fds it had after the warm-up, no zombies, no
// living descendants (in any PID namespace), the same mount table, and it must exit by itself.
// Ends with one summary line; exits non-zero if anything leaked, entered early, hung or failed.
//
//   NSBOX_STRESS_COUNT      runs (default below; each run is one or two spawns)
//   NSBOX_STRESS_IN_FLIGHT  runs in flight (default 48, 32..64)
//   NSBOX_STRESS_SEED       seed of the scenario sequence and the delays (printed at start)
//   NSBOX_STRESS_ONLY       comma-separated scenario names to run alone (to reproduce one)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnIsolated, hostRootfs } = require('../../dist');
const { checkHost, snapshot, waitSteady } = require('./checks');

// 10000 runs (~11,700 spawns) took 57 s on this project's 2-core VM: well under 5 minutes.
const DEFAULT_COUNT = 10000;
const COUNT = intEnv('NSBOX_STRESS_COUNT', DEFAULT_COUNT, 1, 1e7);
const IN_FLIGHT = intEnv('NSBOX_STRESS_IN_FLIGHT', 48, 32, 64);
const SEED = intEnv('NSBOX_STRESS_SEED', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31);
const SETTLE_MS = 10_000; // a run not over by then is a hang
const EXIT_GRACE_MS = 5_000; // after the checks, the loop must empty by itself within this
const SANDBOX_HOSTNAME = 'nsbox-stress';
const MARKER = 'nsbox-stress-root'; // a directory only the rootfs has, to tell its / from the host's

function intEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${raw}`);
  return n;
}

// mulberry32: one generator per run, seeded by (SEED, run index), so a seed replays the same
// kinds and delays whatever order the pool happens to finish runs in.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const between = (rand, lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

// --- outcomes ---------------------------------------------------------------------------------

/** A run that ended otherwise than its scenario allows. */
class Unexpected extends Error {}
/** An exec or join that landed in the host's namespaces: the sandbox's setup had not finished. */
class EnteredEarly extends Error {}

/** Waits for 'close' (the end, even when `exited` rejected early, as abort does) and collects output. */
function finish(child) {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d) => (stderr += d));
  const closed = new Promise((resolve) => child.once('close', resolve));
  const settled = child.exited.then((result) => ({ result }), (error) => ({ error }));
  return Promise.all([settled, closed]).then(([s]) => ({ ...s, stdout, stderr }));
}

function describe(r) {
  const out = r.stdout || r.stderr ? ` stdout=${JSON.stringify(r.stdout.slice(0, 200))} stderr=${JSON.stringify(r.stderr.slice(0, 200))}` : '';
  if (r.error) return `error ${r.error.code ?? r.error.name}: ${r.error.message}${out}`;
  return `${r.result.signal ? `signal ${r.result.signal}` : `exit code ${r.result.code}`}${out}`;
}

function expectExit(r, code, what = 'it') {
  if (r.error || r.result.code !== code || r.result.signal !== null) throw new Unexpected(`${what}: expected exit code ${code}, got ${describe(r)}`);
}
function expectSignal(r, signal, what = 'it', alsoCode) {
  if (!r.error && r.result.signal === signal) return;
  if (!r.error && alsoCode !== undefined && r.result.code === alsoCode && r.result.signal === null) return;
  throw new Unexpected(`${what}: expected signal ${signal}${alsoCode === undefined ? '' : ` or exit code ${alsoCode}`}, got ${describe(r)}`);
}
function expectError(r, code, what = 'it') {
  if (r.error?.code !== code) throw new Unexpected(`${what}: expected error ${code}, got ${describe(r)}`);
}

// --- scenarios --------------------------------------------------------------------------------
// Each gets a context: ctx.spawn / ctx.exec (counted, and killed if the run hangs), ctx.rand,
// ctx.later(ms, fn) (fn at once for 0 ms). It returns normally when the outcome is expected.

let rootfs;
let rootEntries; // what ls / prints in the rootfs, sorted
let missingRootfs;
const host = {
  hostname: os.hostname(),
  net: fs.readlinkSync('/proc/self/ns/net'),
};

const SCENARIOS = {
  true: { weight: 2, async run(ctx) {
    expectExit(await finish(ctx.spawn('/bin/true', [], { rootfs, stdio: 'ignore' })), 0);
  } },

  echo: { weight: 2, async run(ctx) {
    const r = await finish(ctx.spawn('/bin/sh', ['-c', 'echo hi'], { rootfs }));
    expectExit(r, 0);
    if (r.stdout !== 'hi\n') throw new Unexpected(`expected stdout "hi\\n", got ${describe(r)}`);
  } },

  'missing-rootfs': { weight: 1, async run(ctx) {
    expectError(await finish(ctx.spawn('/bin/true', [], { rootfs: missingRootfs })), 'ENOENT');
  } },

  'missing-command': { weight: 1, async run(ctx) {
    expectError(await finish(ctx.spawn('/bin/nope', [], { rootfs })), 'ENOENT');
  } },

  // SIGKILL through kill() at 0-20 ms: lands anywhere from before the helper runs to the command.
  sigkill: { weight: 1, async run(ctx) {
    const box = ctx.spawn('/bin/sleep', ['60'], { rootfs, stdio: 'ignore' });
    const done = finish(box);
    ctx.later(between(ctx.rand, 0, 20), () => box.kill('SIGKILL'));
    expectSignal(await done, 'SIGKILL');
  } },

  // AbortController: aborted before the spawn (1 in 8) or 0-20 ms after it.
  abort: { weight: 1, async run(ctx) {
    const ac = new AbortController();
    if (ctx.rand() < 1 / 8) ac.abort();
    const box = ctx.spawn('/bin/sleep', ['60'], { rootfs, stdio: 'ignore', signal: ac.signal });
    const done = finish(box);
    if (!ac.signal.aborted) ctx.later(between(ctx.rand, 0, 20), () => ac.abort());
    expectError(await done, 'ABORT_ERR');
  } },

  // timeout: 1-30 ms, then killSignal (SIGTERM goes through the init's forwarding, SIGKILL not).
  timeout: { weight: 1, async run(ctx) {
    const killSignal = ctx.rand() < 0.5 ? 'SIGTERM' : 'SIGKILL';
    const ms = between(ctx.rand, 1, 30);
    const box = ctx.spawn('/bin/sleep', ['60'], { rootfs, stdio: 'ignore', timeout: ms, killSignal });
    let spawned = false;
    box.once('spawn', () => (spawned = true));
    const r = await finish(box);
    expectSignal(r, killSignal, `timeout ${ms} ms with ${killSignal}, ${spawned ? 'after' : 'before'} 'spawn'`);
  } },

  // The helper (PID 1) SIGKILLed from outside, not through nsbox, at 0-5 ms. The pid is only
  // signalled while the pidfd is held: until then nsbox has not reaped it, so it cannot be reused.
  'helper-killed': { weight: 1, async run(ctx) {
    const quick = ctx.rand() < 0.5;
    const box = quick ? ctx.spawn('/bin/true', [], { rootfs, stdio: 'ignore' }) : ctx.spawn('/bin/sleep', ['60'], { rootfs, stdio: 'ignore' });
    const done = finish(box);
    ctx.later(between(ctx.rand, 0, 5), () => {
      if (box.pidfd !== undefined) process.kill(box.pid, 'SIGKILL');
    });
    // /bin/true may be over before the kill: exit code 0 then.
    expectSignal(await done, 'SIGKILL', quick ? 'true' : 'sleep', quick ? 0 : undefined);
  } },

  // exec the moment spawnIsolated returned: it must see the sandbox's hostname and root.
  'exec-early': { weight: 1, async run(ctx) {
    const box = ctx.spawn('/bin/sleep', ['60'], { rootfs, hostname: SANDBOX_HOSTNAME, stdio: 'ignore' });
    const boxDone = finish(box);
    let r;
    try {
      r = await finish(ctx.exec(box, '/bin/sh', ['-c', 'hostname; ls /']));
    } finally {
      box.kill('SIGKILL');
    }
    expectSignal(await boxDone, 'SIGKILL', 'the box');
    if (r.error) throw new Unexpected(`exec: ${describe(r)}`);
    const [name, ...entries] = r.stdout.trim().split('\n');
    const early = [];
    if (name === host.hostname) early.push(`the host's hostname ${name}`);
    if (!entries.includes(MARKER)) early.push(`the host's root (${entries.join(' ')})`);
    if (early.length) throw new EnteredEarly(`exec saw ${early.join(' and ')}`);
    expectExit(r, 0, 'exec');
    if (name !== SANDBOX_HOSTNAME || entries.sort().join(' ') !== rootEntries) throw new Unexpected(`exec: expected ${SANDBOX_HOSTNAME} and ${rootEntries}, got ${describe(r)}`);
  } },

  // join the box's network the moment it was spawned: the joiner must not be in the host's.
  'join-early': { weight: 1, async run(ctx) {
    const box = ctx.spawn('/bin/sleep', ['60'], { rootfs, net: true, stdio: 'ignore' });
    const boxDone = finish(box);
    const boxRunning = new Promise((resolve) => {
      box.once('spawn', () => resolve(true));
      box.once('close', () => resolve(false));
    });
    let r;
    let boxNet;
    try {
      r = await finish(ctx.spawn('/bin/readlink', ['/proc/self/ns/net'], { rootfs, join: { net: box } }));
      // The box's own namespace, read once its command runs (its setup is over by then).
      if (await boxRunning) boxNet = fs.readlinkSync(`/proc/${box.pid}/ns/net`);
    } finally {
      box.kill('SIGKILL');
    }
    expectSignal(await boxDone, 'SIGKILL', 'the box');
    if (r.error) throw new Unexpected(`joiner: ${describe(r)}`);
    expectExit(r, 0, 'joiner');
    const joined = r.stdout.trim();
    if (joined === host.net) throw new EnteredEarly(`joiner landed in the host's network namespace ${joined} (the box's: ${boxNet})`);
    if (joined !== boxNet) throw new Unexpected(`joiner is in ${joined}, the box in ${boxNet}, the host in ${host.net}`);
  } },
};

// --- the pool ---------------------------------------------------------------------------------

const stats = { runs: 0, spawns: 0, hung: 0, failed: 0, early: 0, byKind: {} };
const failures = []; // { index, kind, detail }

const ONLY = process.env.NSBOX_STRESS_ONLY ? process.env.NSBOX_STRESS_ONLY.split(',') : undefined;
for (const kind of ONLY ?? []) if (!SCENARIOS[kind]) throw new RangeError(`NSBOX_STRESS_ONLY: no scenario ${kind} (${Object.keys(SCENARIOS).join(', ')})`);
const weighted = Object.entries(SCENARIOS)
  .filter(([kind]) => !ONLY || ONLY.includes(kind))
  .flatMap(([kind, s]) => Array(s.weight).fill(kind));

/** One run of `kind`, settled within SETTLE_MS. Returns 'ok', 'early', 'failed' or 'hung'. */
async function runOne(kind, rand, record) {
  const children = [];
  const timers = [];
  const ctx = {
    rand,
    spawn: (command, args, options) => {
      if (record) stats.spawns++;
      const child = spawnIsolated(command, args, options);
      children.push(child);
      return child;
    },
    exec: (box, command, args, options) => {
      if (record) stats.spawns++;
      const child = box.exec(command, args, options);
      children.push(child);
      return child;
    },
    later: (ms, fn) => (ms === 0 ? fn() : timers.push(setTimeout(fn, ms))),
  };
  let hangTimer;
  const hang = new Promise((resolve) => (hangTimer = setTimeout(resolve, SETTLE_MS, 'hang')));
  let outcome;
  let detail;
  try {
    outcome = (await Promise.race([SCENARIOS[kind].run(ctx).then(() => 'ok'), hang])) === 'hang' ? 'hung' : 'ok';
  } catch (e) {
    outcome = e instanceof EnteredEarly ? 'early' : 'failed';
    detail = e instanceof Unexpected || e instanceof EnteredEarly ? e.message : `threw ${e?.stack ?? e}`;
  } finally {
    clearTimeout(hangTimer);
    for (const t of timers) clearTimeout(t);
  }
  if (outcome === 'hung') {
    // Say what was still pending, then kill it all so the checks afterwards stay meaningful.
    detail = `not settled after ${SETTLE_MS} ms: ${children.map((c) => `${c.spawnargs.join(' ')} (pid ${c.pid}, pidfd ${c.pidfd}, exitCode ${c.exitCode}, signalCode ${c.signalCode})`).join('; ')}`;
    const closed = children.map((c) => {
      try {
        c.kill('SIGKILL');
      } catch {
        // reported as hung already; the checks say what is left
      }
      return new Promise((resolve) => c.once('close', resolve));
    });
    let giveUp;
    await Promise.race([Promise.all(closed), new Promise((resolve) => (giveUp = setTimeout(resolve, 2000)))]);
    clearTimeout(giveUp);
  }
  return { outcome, detail };
}

async function pool() {
  let next = 0;
  const worker = async () => {
    while (next < COUNT) {
      const index = next++;
      const rand = rng(SEED ^ Math.imul(index + 1, 0x9e3779b1));
      const kind = weighted[Math.floor(rand() * weighted.length)];
      const { outcome, detail } = await runOne(kind, rand, true);
      stats.runs++;
      const k = (stats.byKind[kind] ??= { runs: 0, ok: 0, early: 0, failed: 0, hung: 0 });
      k.runs++;
      k[outcome]++;
      if (outcome === 'early') stats.early++;
      if (outcome === 'failed') stats.failed++;
      if (outcome === 'hung') stats.hung++;
      if (outcome !== 'ok') failures.push({ index, kind, outcome, detail });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

// --- main -------------------------------------------------------------------------------------

function report(lines) {
  for (const line of lines) process.stderr.write(`${line}\n`);
}

function printFailures() {
  const byKey = new Map();
  for (const f of failures) {
    const key = `${f.outcome} ${f.kind}`;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key).push(f);
  }
  for (const [key, list] of byKey) {
    report([`${key}: ${list.length} of ${stats.byKind[list[0].kind].runs} runs`]);
    for (const f of list.slice(0, 5)) report([`  run ${f.index}: ${f.detail}`]);
    if (list.length > 5) report([`  ... and ${list.length - 5} more`]);
  }
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('test:stress needs root (PID, mount, UTS and network namespaces)');
  rootfs = hostRootfs(['sh', 'true', 'sleep', 'hostname', 'ls', 'readlink']).dir;
  fs.mkdirSync(path.join(rootfs, MARKER));
  rootEntries = fs.readdirSync(rootfs).sort().join(' ');
  missingRootfs = path.join(os.tmpdir(), `nsbox-stress-missing-${process.pid}`);
  try {
    report([`nsbox stress: ${COUNT} runs, ${IN_FLIGHT} in flight, NSBOX_STRESS_SEED=${SEED}`]);
    // Warm-up: one run of each kind, so that what a first spawn opens for good (the helper's
    // memfd, a pidfd of this process, /dev/null, the poller) is open before the first look.
    // If the plainest spawn fails, nothing else will work: say why rather than fail every run.
    for (const kind of Object.keys(SCENARIOS)) {
      const { outcome, detail } = await runOne(kind, rng(SEED), false);
      if (kind === 'true' && outcome !== 'ok') throw new Error(`the warm-up spawn of /bin/true failed: ${detail}`);
    }
    await waitSteady();
    const before = snapshot();
    const start = process.hrtime.bigint();
    await pool();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { seconds, host: await checkHost(before) };
  } finally {
    fs.rmSync(rootfs, { recursive: true, force: true });
  }
}

// The summary is printed once the loop has emptied (beforeExit), which proves that nothing keeps
// this process alive; an unref'd watchdog prints it with the failure if the loop never empties.
function finishWith({ seconds, host }) {
  printFailures();
  for (const line of host.details) report([line]);
  let printed = false;
  const summary = (exitedByItself) => {
    const parts = [
      `${stats.spawns} spawns (${stats.runs} runs)`,
      `${host.leakedFds} leaked fds`,
      `${host.zombies} zombies`,
      `${host.leakedProcesses} leaked processes`,
      `${host.mounts} mounts`,
      `${stats.early} entered early`,
      `${stats.failed} failed`,
      `${stats.hung} hung`,
    ];
    if (!exitedByItself) parts.push('did not exit by itself');
    parts.push(`${seconds.toFixed(1)} s`);
    const bad = host.leakedFds || host.zombies || host.leakedProcesses || host.mounts || stats.early || stats.failed || stats.hung || stats.runs !== COUNT || !exitedByItself;
    process.stdout.write(`${parts.join(', ')}${bad ? ' FAIL' : ''}\n`);
    return bad;
  };
  process.once('beforeExit', () => {
    if (printed) return;
    printed = true;
    if (summary(true)) process.exitCode = 1;
  });
  setTimeout(() => {
    printed = true;
    const handles = process.getActiveResourcesInfo();
    report([`the loop did not empty within ${EXIT_GRACE_MS} ms of the checks; active handles: ${handles.join(', ') || 'none'}`]);
    summary(false);
    process.exit(1);
  }, EXIT_GRACE_MS).unref();
}

main().then(finishWith, (e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exitCode = 2;
});
