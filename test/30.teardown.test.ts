/**
 * PID-1 semantics, part 3: orphans are reaped while the command runs, and nothing of the
 * namespace is left alive once `exited` resolves, or once the Node process itself is killed.
 */
import { spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { spawnIsolated } from '../lib';
import { describeAsRoot } from './helpers/privilege';
import { holdPidNamespace, processesInPidNamespace, waitFor } from './helpers/host';
import { collect, finish } from './helpers/run';

const DIST = path.join(__dirname, '..', 'dist', 'index.js');

describeAsRoot('reaping and teardown', () => {
  it('orphans are reaped while the command runs: no zombie accumulates', async () => {
    // Each inner sh leaves a short-lived orphan behind; after they exit, PID 1 must collect them.
    const script = [
      'orphans=""',
      'for i in 1 2 3 4 5 6 7 8; do orphans="$orphans $(sh -c "sleep 0.02 >/dev/null & echo \\$!")"; done',
      'sleep 0.5',
      'for p in $orphans; do if [ -e /proc/$p ]; then echo "left $p $(cut -d" " -f3 /proc/$p/stat)"; else echo gone; fi; done',
    ].join('\n');
    const r = await finish(spawnIsolated('sh', ['-c', script]));
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(8);
    expect(lines).toEqual(new Array(8).fill('gone'));
  });

  it('when the command exits, double-forked daemons are gone by the time exited resolves', async () => {
    const child = spawnIsolated('sh', ['-c', '(setsid sleep 1000 &); (sleep 1000 &); echo ready; read line']);
    const out = collect(child.stdout);
    await new Promise((r) => child.stdout?.once('data', r));
    const ns = holdPidNamespace(child.pid as number);
    // init + sh + two daemons
    expect(processesInPidNamespace(ns.inode).length).toBeGreaterThanOrEqual(4);
    child.stdin?.end('go\n');
    expect(await child.exited).toMatchObject({ code: 0, signal: null });
    expect(processesInPidNamespace(ns.inode)).toEqual([]);
    ns.release();
    expect(await out).toBe('ready\n');
  });

  it('SIGKILL of PID 1 takes every process of the namespace with it', async () => {
    const child = spawnIsolated('sh', ['-c', '(sleep 1000 &); (sleep 1000 &); echo ready; sleep 1000']);
    await new Promise((r) => child.stdout?.once('data', r));
    const ns = holdPidNamespace(child.pid as number);
    child.kill('SIGKILL');
    await child.exited;
    expect(processesInPidNamespace(ns.inode)).toEqual([]);
    ns.release();
  });

  it('unref() lets Node exit while a sandbox runs, and the sandbox goes with it; ref() keeps Node waiting', async () => {
    const run = (method: 'ref' | 'unref') =>
      new Promise<{ ms: number; pid: number }>((resolve) => {
        const started = Date.now();
        const script = `
          const { spawnIsolated } = require(${JSON.stringify(DIST)});
          const child = spawnIsolated('sleep', ['1.5'], { stdio: 'ignore' });
          child.${method}();
          console.log(child.pid);
        `;
        const node = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let pid = 0;
        node.stdout.on('data', (d: Buffer) => (pid = Number(d.toString())));
        node.on('exit', () => resolve({ ms: Date.now() - started, pid }));
      });
    const kept = await run('ref');
    expect(kept.ms).toBeGreaterThanOrEqual(1500);
    const released = await run('unref');
    expect(released.ms).toBeLessThan(1500); // node's own start-up and exit, however loaded the machine
    expect(released.pid).toBeGreaterThan(1);
    expect(await waitFor(() => !fs.existsSync(`/proc/${released.pid}`) || /\) Z/.test(fs.readFileSync(`/proc/${released.pid}/stat`, 'utf8')), 1000)).toBe(true);
  });

  it('a burst of exits reaches JavaScript at most 16 a turn of the loop, so timers run in between', async () => {
    const children = Array.from({ length: 40 }, () => spawnIsolated('sleep', ['10'], { stdio: 'ignore' }));
    await Promise.all(children.map((c) => new Promise((resolve) => c.once('spawn', resolve))));
    for (const child of children) child.kill('SIGKILL');
    // Hold the loop while they die: all 40 exits are then waiting at once.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    let turn = 0;
    const tick = (): void => {
      turn++;
      immediate = setImmediate(tick);
    };
    let immediate = setImmediate(tick);
    const exitsPerTurn = new Map<number, number>();
    for (const child of children) child.on('exit', () => exitsPerTurn.set(turn, (exitsPerTurn.get(turn) ?? 0) + 1));
    await Promise.all(children.map((c) => c.exited));
    clearImmediate(immediate);
    expect([...exitsPerTurn.values()].reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...exitsPerTurn.values())).toBeLessThanOrEqual(16);
    expect(exitsPerTurn.size).toBeGreaterThanOrEqual(3);
  });

  it.each([
    ['with init', true],
    ['without init', false],
  ])('if the Node process is SIGKILLed, the namespace is gone within a second (%s)', async (_name, init) => {
    const script = `
      const { spawnIsolated } = require(${JSON.stringify(DIST)});
      const child = spawnIsolated('sh', ['-c', '(sleep 1000 &); sleep 1000'], { init: ${init}, stdio: 'ignore' });
      child.on('spawn', () => console.log(child.pid));
      setInterval(() => {}, 1000);
    `;
    const node = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = Number(await new Promise<string>((r) => node.stdout.once('data', (d: Buffer) => r(d.toString()))));
    const ns = holdPidNamespace(pid);
    expect(await waitFor(() => processesInPidNamespace(ns.inode).length >= 2)).toBe(true);
    const killedAt = Date.now();
    node.kill('SIGKILL');
    expect(await waitFor(() => processesInPidNamespace(ns.inode).length === 0, 1000, 5)).toBe(true);
    expect(Date.now() - killedAt).toBeLessThan(1000);
    ns.release();
    await new Promise((r) => (node.exitCode !== null || node.signalCode !== null ? r(null) : node.once('exit', r)));
  });
});
