#!/usr/bin/env node
// npm run bench [-- --quick]: nsbox against the baselines a Node user would pick instead, all
// measured in this one invocation, with ratios. Prints a table and writes bench/results/*.json.
// Needs root (namespaces), dist/ (npm install), gcc for the C floor; unshare, bwrap and crun are
// measured when installed and skipped (said so) when not.
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnIsolated, hostRootfs } = require('../dist');
const { resolveOptions } = require('../dist/options');
const { buildRequest, encodeRequest } = require('../dist/request');
const { now, stats, latency, interleaved, nodeSpawn, nsbox } = require('./lib');

const quick = process.argv.includes('--quick');
const N = quick ? 100 : 300;
const THROUGHPUT_TOTAL = quick ? 600 : 2000;
const IN_FLIGHT = 64;
const SLEEPERS = 1000;
const HEAP_MB = 1024;
const results = { machine: machine(), when: new Date().toISOString(), quick, latency: {}, targets: [] };

function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}`;
}

function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function log(line = '') {
  process.stdout.write(`${line}\n`);
}

function ms(x) {
  return x === undefined ? '-' : x.toFixed(3);
}

function target(name, ok, detail) {
  results.targets.push({ name, ok, detail });
}

function buildFloor(dir) {
  if (!have('gcc')) return undefined;
  const out = path.join(dir, 'floor');
  execFileSync('gcc', ['-O2', '-o', out, path.join(__dirname, 'floor.c')]);
  return out;
}

function floorSpawn(floor, rootfs, vfork) {
  const out = execFileSync(floor, ['spawn', rootfs, String(N), ...(vfork ? ['vfork'] : [])], { encoding: 'utf8' });
  return stats(out.trim().split('\n').map(Number));
}

function crunBundle(dir, rootfs) {
  const bundle = path.join(dir, 'crun-bundle');
  fs.mkdirSync(bundle);
  execFileSync('crun', ['spec'], { cwd: bundle });
  const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  config.root = { path: rootfs, readonly: false };
  config.process.args = ['/bin/true'];
  config.process.terminal = false;
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
  return bundle;
}

async function measureLatency(rootfs, dir) {
  const rows = [
    ['nsbox: pid+mount+rootfs, init (the target)', nsbox('/bin/true', [], { rootfs })],
    // The default hardening (capabilities, no_new_privs, seccomp, masked /proc, keyring) is in
    // the target; these show what it costs, and what the strictest preset does.
    ['nsbox: the target without hardening', nsbox('/bin/true', [], { rootfs, capabilities: 'all', seccomp: false, noNewPrivileges: false })],
    ["nsbox: the target, preset: 'untrusted'", nsbox('/bin/true', [], { rootfs, preset: 'untrusted' })],
    ['nsbox: the target with limits (cgroups)', nsbox('/bin/true', [], { rootfs, limits: { memory: 256 << 20, pids: 64, cpu: 1 } })],
    ['nsbox: pid+mount+rootfs, no init', nsbox('/bin/true', [], { rootfs, init: false })],
    ['nsbox: pid+mount+rootfs, no /dev', nsbox('/bin/true', [], { rootfs, dev: false })],
    ['nsbox: pid+mount, host root, fresh /proc', nsbox('/bin/true', [])],
    ['Node child_process.spawn(/bin/true)', nodeSpawn('/bin/true', [])],
  ];
  if (have('unshare')) rows.push(['Node spawn of unshare --fork --pid --mount-proc', nodeSpawn('unshare', ['--fork', '--pid', '--mount-proc', '/bin/true'])]);
  else log('(unshare not installed: skipped)');
  if (have('bwrap')) {
    rows.push(['Node spawn of bwrap --unshare-pid --bind rootfs / --proc /proc', nodeSpawn('bwrap', ['--unshare-pid', '--bind', rootfs, '/', '--proc', '/proc', '/bin/true'])]);
  } else log('(bwrap not installed: skipped)');
  if (have('crun')) {
    const crunRoot = hostRootfs(['true'], { dir: path.join(dir, 'crun-rootfs') });
    const bundle = crunBundle(dir, crunRoot.dir);
    let id = 0;
    const crun = () => nodeSpawn('crun', ['run', '--bundle', bundle, `nsbox-bench-${process.pid}-${id++}`])();
    try {
      execFileSync('crun', ['run', '--bundle', bundle, `nsbox-bench-${process.pid}-probe`], { stdio: ['ignore', 'ignore', 'pipe'] });
      rows.push(['Node spawn of crun run', crun]);
    } catch (e) {
      log(`(crun cannot run here, skipped: ${String(e.stderr || e.message).trim().split('\n').pop()})`);
    }
  } else log('(crun not installed: skipped)');
  Object.assign(results.latency, await interleaved(rows, N));
  const floor = buildFloor(dir);
  if (floor) {
    results.latency['C floor: clone(NEWPID|NEWNS) + mounts + pivot_root + exec'] = floorSpawn(floor, rootfs, false);
    results.latency['C floor, with CLONE_VM|CLONE_VFORK'] = floorSpawn(floor, rootfs, true);
  } else log('(gcc not installed: no C floor)');
  return floor;
}

function printLatency() {
  const base = results.latency['Node child_process.spawn(/bin/true)'].median;
  const bwrapKey = Object.keys(results.latency).find((k) => k.includes('bwrap'));
  const bwrap = bwrapKey ? results.latency[bwrapKey].median : undefined;
  log(`\nLatency of one spawn until it has exited (ms, ${N} sequential runs each, in 3 interleaved rounds)`);
  log(`${'what'.padEnd(64)} ${'median'.padStart(8)} ${'p99'.padStart(8)} ${'x spawn'.padStart(8)} ${'x bwrap'.padStart(8)}`);
  for (const [name, s] of Object.entries(results.latency)) {
    const vsBwrap = bwrap ? (s.median / bwrap).toFixed(2) : '-';
    log(`${name.padEnd(64)} ${ms(s.median).padStart(8)} ${ms(s.p99).padStart(8)} ${(s.median / base).toFixed(2).padStart(8)} ${vsBwrap.padStart(8)}`);
  }
  const mine = results.latency['nsbox: pid+mount+rootfs, init (the target)'].median;
  target('1a. latency <= 1.0x child_process.spawn(/bin/true)', mine <= base, `${(mine / base).toFixed(2)}x`);
  if (bwrap) target('1b. latency <= 0.3x Node-driven bwrap', mine <= 0.3 * bwrap, `${(mine / bwrap).toFixed(2)}x`);
}

function runHeapChild(rootfs, mb) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'heap.js'), String(mb), rootfs, String(Math.min(N, 200))], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`heap.js exited ${code}`))));
  });
}

async function measureHeap(rootfs) {
  const small = await runHeapChild(rootfs, 0);
  const big = await runHeapChild(rootfs, HEAP_MB);
  results.heap = { small, big };
  log(`\nParent heap: ${small.rssMB} MB RSS vs ${big.rssMB} MB RSS (median ms)`);
  log(`  nsbox                  ${ms(small.nsbox.median)} -> ${ms(big.nsbox.median)}  (${(big.nsbox.median / small.nsbox.median).toFixed(2)}x)`);
  log(`  child_process.spawn    ${ms(small.childProcess.median)} -> ${ms(big.childProcess.median)}  (${(big.childProcess.median / small.childProcess.median).toFixed(2)}x)`);
  target('2. with 1 GB of touched heap, within 1.2x of the small-heap latency', big.nsbox.median <= 1.2 * small.nsbox.median, `${(big.nsbox.median / small.nsbox.median).toFixed(2)}x`);
}

/** Time Node's main thread has spent on a CPU, and runnable but waiting for one (ms). */
function mainThreadSchedule() {
  const [run, wait] = fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
  return { run: run / 1e6, wait: wait / 1e6 };
}

/** `total` spawns with `inFlight` at a time; a 1 ms interval measures the event loop meanwhile. */
async function throughput(once, total, inFlight) {
  let fired = 0;
  let worstGap = 0;
  let last = now();
  const timer = setInterval(() => {
    const t = now();
    worstGap = Math.max(worstGap, t - last);
    last = t;
    fired++;
  }, 1);
  const start = now();
  const cpu = process.cpuUsage();
  const schedule = mainThreadSchedule();
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      await once();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  // How much of the run the event loop's thread was ready to run but had no CPU.
  const waitingShare = (mainThreadSchedule().wait - schedule.wait) / (seconds * 1000);
  clearInterval(timer);
  worstGap = Math.max(worstGap, now() - last);
  // This process's own CPU time (all its threads, not its children's) per spawn: the part of a
  // spawn that competes with the event loop.
  const nodeCpuUs = (used.user + used.system) / total;
  return { perSecond: total / seconds, intervalFiresPerSecond: fired / seconds, worstGapMs: worstGap, nodeCpuUs, waitingShare };
}

/** Puts a libc-free /bin/static-true into the rootfs; returns its path inside, or undefined. */
function buildStaticTrue(rootfs) {
  if (!have('gcc') || process.arch !== 'x64') return undefined;
  execFileSync('gcc', ['-O2', '-static', '-nostdlib', '-o', path.join(rootfs, 'bin', 'static-true'), path.join(__dirname, 'static-true.c')]);
  return '/bin/static-true';
}

async function measureThroughput(rootfs) {
  results.throughput = { nsbox: await throughput(nsbox('/bin/true', [], { rootfs }), THROUGHPUT_TOTAL, IN_FLIGHT) };
  // The same with the sandboxes at niceness 19: what giving the event loop priority buys.
  results.throughput['nsbox, nice 19'] = await throughput(nsbox('/bin/true', [], { rootfs, nice: 19 }), THROUGHPUT_TOTAL, IN_FLIGHT);
  // The same with a command that costs next to nothing: what is left is nsbox and the kernel.
  const staticTrue = buildStaticTrue(rootfs);
  if (staticTrue) results.throughput['nsbox, static true'] = await throughput(nsbox(staticTrue, [], { rootfs }), THROUGHPUT_TOTAL, IN_FLIGHT);
  results.throughput.childProcess = await throughput(nodeSpawn('/bin/true', []), THROUGHPUT_TOTAL, IN_FLIGHT);
  if (have('bwrap')) {
    results.throughput.bwrap = await throughput(nodeSpawn('bwrap', ['--unshare-pid', '--bind', rootfs, '/', '--proc', '/proc', '/bin/true']), Math.round(THROUGHPUT_TOTAL / 2), IN_FLIGHT);
  }
  log(`\nThroughput, ${IN_FLIGHT} in flight (spawns/s; a 1 ms setInterval meanwhile: fires/s, worst gap ms;`);
  log(`Node's own CPU per spawn; share of the run its main thread was runnable but waiting for a CPU)`);
  for (const [name, t] of Object.entries(results.throughput)) {
    log(`  ${name.padEnd(18)} ${t.perSecond.toFixed(0).padStart(6)}/s   timer ${t.intervalFiresPerSecond.toFixed(0).padStart(4)}/s   worst gap ${t.worstGapMs.toFixed(1).padStart(6)} ms   node ${t.nodeCpuUs.toFixed(0).padStart(4)} us   waiting ${(t.waitingShare * 100).toFixed(0).padStart(2)}%`);
  }
  const t = results.throughput.nsbox;
  target('3. >= 1,500 isolated spawns/s with 64 in flight', t.perSecond >= 1500, `${t.perSecond.toFixed(0)}/s`);
  if (results.throughput.bwrap) target('3b. >= 3.5x Node-driven bwrap', t.perSecond >= 3.5 * results.throughput.bwrap.perSecond, `${(t.perSecond / results.throughput.bwrap.perSecond).toFixed(2)}x`);
  target('4. event loop: 1 ms interval >= 500 fires/s, worst gap < 10 ms', t.intervalFiresPerSecond >= 500 && t.worstGapMs < 10, `${t.intervalFiresPerSecond.toFixed(0)}/s, ${t.worstGapMs.toFixed(1)} ms`);
  const n = results.throughput['nsbox, nice 19'];
  target('4, with nice: 19 (the sandboxes yield to the event loop)', n.intervalFiresPerSecond >= 500 && n.worstGapMs < 10, `${n.intervalFiresPerSecond.toFixed(0)}/s, ${n.worstGapMs.toFixed(1)} ms`);
}

async function measureTeardown(floor) {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const child = spawnIsolated('/bin/sh', ['-c', `i=0; while [ $i -lt ${SLEEPERS} ]; do sleep 1000 & i=$((i+1)); done; echo ready; wait`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    const start = now();
    child.kill('SIGKILL');
    await child.exited;
    runs.push(now() - start);
  }
  results.teardown = { nsbox: stats(runs) };
  if (floor) {
    const c = [0, 1, 2].map(() => Number(execFileSync(floor, ['teardown', String(SLEEPERS)], { encoding: 'utf8' })));
    results.teardown.floor = stats(c);
  }
  const f = results.teardown.floor?.median;
  log(`\nTeardown of a sandbox holding ${SLEEPERS} sleeping processes (SIGKILL to exited, median of 3)`);
  log(`  nsbox ${ms(results.teardown.nsbox.median)} ms${f ? `, kernel floor (C) ${ms(f)} ms: ${(results.teardown.nsbox.median / f).toFixed(2)}x` : ''}`);
  if (f) target('5. teardown within 1.3x of the kernel cost', results.teardown.nsbox.median <= 1.3 * f, `${(results.teardown.nsbox.median / f).toFixed(2)}x`);
}

function statusField(pid, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function measureMemory(rootfs) {
  const threadsBefore = statusField('self', 'Threads');
  const children = [];
  for (let i = 0; i < 64; i++) children.push(spawnIsolated('/bin/sleep', ['30'], { rootfs, stdio: 'ignore' }));
  await Promise.all(children.map((c) => new Promise((r) => c.once('spawn', r))));
  const threadsWith64 = statusField('self', 'Threads');
  const helperRssKB = statusField(children[0].pid, 'VmRSS');
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  results.memory = { helperRssKB, threadsBefore, threadsWith64 };
  log(`\nMemory: the PID-1 helper's RSS ${helperRssKB} KB; Node threads ${threadsBefore} before, ${threadsWith64} with 64 live sandboxes`);
  target('6. helper RSS < 1 MB, no thread per sandbox', helperRssKB < 1024 && threadsWith64 === threadsBefore, `${helperRssKB} KB, +${threadsWith64 - threadsBefore} threads`);
}

/** The hardening off, to see what each feature costs on its own. */
const OFF = { capabilities: 'all', seccomp: false, noNewPrivileges: false };

/** Where the time of one spawn goes: stages seen from Node, then the cost of each setup feature. */
async function profile(rootfs) {
  const stages = { prepare: [], cloneAndExecHelper: [], setupAndExecCommand: [], commandRunExitAndNotify: [] };
  for (let i = 0; i < N; i++) {
    const t0 = now();
    encodeRequest(buildRequest('/bin/true', [], resolveOptions('/bin/true', [], { rootfs, stdio: 'ignore' })));
    const t1 = now();
    const child = spawnIsolated('/bin/true', [], { rootfs, stdio: 'ignore' });
    const t2 = now();
    let t3 = 0;
    child.once('spawn', () => (t3 = now()));
    await child.exited;
    const t4 = now();
    stages.prepare.push(t1 - t0);
    stages.cloneAndExecHelper.push(t2 - t1 - (t1 - t0));
    stages.setupAndExecCommand.push(t3 - t2);
    stages.commandRunExitAndNotify.push(t4 - t3);
  }
  // Inside the helper, per step, with the trace option.
  const perStep = new Map();
  for (let i = 0; i < N; i++) {
    const child = spawnIsolated('/bin/true', [], { rootfs, stdio: 'ignore', trace: true });
    child.on('trace', ({ step, microseconds }) => {
      const name = step.replace(rootfs, 'ROOTFS');
      if (!perStep.has(name)) perStep.set(name, []);
      perStep.get(name).push(microseconds);
    });
    await child.exited;
  }
  const variants = {
    'no namespaces, no init': { pid: false, mount: false, init: false, ...OFF },
    'no namespaces': { pid: false, mount: false, ...OFF },
    '+ pid': { mount: false, ...OFF },
    '+ mount (private /)': { proc: false, ...OFF },
    '+ fresh /proc': { ...OFF },
    '+ rootfs (bind, pivot_root)': { rootfs, dev: false, ...OFF },
    '+ minimal /dev': { rootfs, ...OFF },
    '+ hardening (the defaults)': { rootfs },
  };
  const features = await interleaved(Object.entries(variants).map(([name, options]) => [name, nsbox('/bin/true', [], options)]), N);
  const steps = Object.fromEntries([...perStep].map(([k, v]) => [k, stats(v)]));
  results.profile = { stages: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, stats(v)])), steps, features };
  log('\nWhere one spawn goes (median ms): stages seen from Node');
  for (const [k, v] of Object.entries(results.profile.stages)) log(`  ${k.padEnd(28)} ${ms(v.median)}`);
  log('...each step inside the helper (median microseconds, from the trace option)');
  for (const [k, v] of Object.entries(steps)) log(`  ${String(v.median).padStart(6)}  ${k}`);
  log('...and what each setup feature adds (median ms until exited)');
  let previous;
  for (const [k, v] of Object.entries(features)) {
    log(`  ${k.padEnd(28)} ${ms(v.median)}${previous === undefined ? '' : `  (${v.median - previous >= 0 ? '+' : ''}${(v.median - previous).toFixed(3)})`}`);
    previous = v.median;
  }
}

async function main() {
  if (process.getuid() !== 0) {
    console.error('bench: needs root (namespaces, and the C floor)');
    process.exit(2);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-bench-'));
  // Under preset: 'untrusted' a root caller's root inside is uid 65534 outside: it must reach the rootfs.
  fs.chmodSync(dir, 0o755);
  const rootfs = hostRootfs(['true', 'sh', 'sleep'], { dir: path.join(dir, 'rootfs') });
  try {
    log(`nsbox benchmark on ${results.machine}${quick ? ' (quick)' : ''}`);
    const floor = await measureLatency(rootfs.dir, dir);
    printLatency();
    await measureHeap(rootfs.dir);
    await measureThroughput(rootfs.dir);
    await measureTeardown(floor);
    await measureMemory(rootfs.dir);
    await profile(rootfs.dir);
    log('\nTargets (issue 4)');
    for (const t of results.targets) log(`  ${t.ok ? 'met    ' : 'NOT MET'} ${t.name}: ${t.detail}`);
    const out = path.join(__dirname, 'results');
    fs.mkdirSync(out, { recursive: true });
    const json = JSON.stringify(results, null, 2);
    fs.writeFileSync(path.join(out, 'latest.json'), json);
    log(`\nwritten: bench/results/latest.json`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
