/**
 * From a worker thread: spawns work, and a worker that ends with sandboxes still running neither
 * crashes the process (the addon's handles close before it may be unloaded) nor leaves them
 * alive (the parent-death signal follows the thread that cloned them).
 */
import { execFile } from 'child_process';
import { describeAsRoot } from './helpers/privilege';
import { DIST } from './helpers/node';

function runMain(script: string): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['-e', script], { timeout: 20_000 }, (_err, stdout, stderr) => {
      resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr });
    });
  });
}

describeAsRoot('worker threads', () => {
  it('a worker spawns, collects output and status, and ends cleanly', async () => {
    const r = await runMain(`
      const { Worker } = require('worker_threads');
      const w = new Worker(\`
        const { parentPort } = require('worker_threads');
        const { spawnIsolated } = require(${JSON.stringify(DIST)});
        const c = spawnIsolated('sh', ['-c', 'echo $$'], { init: false, stdio: ['ignore', 'pipe', 'ignore'] });
        let out = ''; c.stdout.on('data', (d) => (out += d));
        c.exited.then((r) => parentPort.postMessage({ out, ...r }));
      \`, { eval: true });
      w.on('message', (m) => console.log(JSON.stringify(m)));
    `);
    expect(r.stderr).toBe('');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ out: '1\n', code: 0, signal: null });
  });

  it('terminating a worker with sandboxes running: no crash, and the sandboxes end', async () => {
    const r = await runMain(`
      const fs = require('fs');
      const { Worker } = require('worker_threads');
      const w = new Worker(\`
        const { parentPort } = require('worker_threads');
        const { spawnIsolated } = require(${JSON.stringify(DIST)});
        for (let i = 0; i < 3; i++) {
          const c = spawnIsolated('sleep', ['100'], { stdio: ['ignore', 'pipe', 'ignore'] });
          c.on('spawn', () => parentPort.postMessage(c.pid));
        }
      \`, { eval: true });
      const pids = [];
      w.on('message', (pid) => { pids.push(pid); if (pids.length === 3) w.terminate(); });
      w.on('exit', () => setTimeout(() => {
        const alive = pids.filter((p) => { try { return !/\\) Z/.test(fs.readFileSync('/proc/' + p + '/stat', 'utf8')); } catch { return false; } });
        console.log(JSON.stringify({ pids: pids.length, alive }));
      }, 500));
    `);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ pids: 3, alive: [] });
  });

  it("each thread watches its own sandboxes: a worker ending leaves the main thread's alone", async () => {
    const r = await runMain(`
      const { Worker } = require('worker_threads');
      const { spawnIsolated } = require(${JSON.stringify(DIST)});
      const mine = spawnIsolated('sh', ['-c', 'sleep 0.5; exit 7'], { stdio: 'ignore' });
      const w = new Worker(\`
        const { parentPort } = require('worker_threads');
        const { spawnIsolated } = require(${JSON.stringify(DIST)});
        Promise.all([1, 2, 3].map(() => spawnIsolated('true', [], { stdio: 'ignore' }).exited)).then((all) => {
          spawnIsolated('sleep', ['100'], { stdio: 'ignore' }).on('spawn', () => parentPort.postMessage(all.map((x) => x.code)));
        });
      \`, { eval: true });
      w.on('message', (codes) => { console.log(JSON.stringify({ worker: codes })); w.terminate(); });
      w.on('exit', () => mine.exited.then((x) => console.log(JSON.stringify({ main: x }))));
    `);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l))).toMatchObject([{ worker: [0, 0, 0] }, { main: { code: 7, signal: null } }]);
  });
});
