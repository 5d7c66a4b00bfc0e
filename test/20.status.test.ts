/**
 * PID-1 semantics, part 2: the real exit status comes back, and signals reach the command.
 */
import { spawnIsolated, type IsolatedProcess } from '../lib';
import { describeAsRoot } from './helpers/privilege';
import { collect, run } from './helpers/run';

/** Resolves once the command has printed `ready`. */
function ready(child: IsolatedProcess): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('ready')) resolve();
    });
  });
}

const LOOP = 'echo ready; while :; do sleep 0.05; done';

describeAsRoot('exit status', () => {
  it.each([0, 1, 42, 255])('exit %i comes back as the code', async (n) => {
    expect(await run('sh', ['-c', `exit ${n}`])).toMatchObject({ code: n, signal: null });
  });

  it('exited resolves only once the piped output has been read to the end', async () => {
    for (const init of [true, false]) {
      const child = spawnIsolated('sh', ['-c', 'echo out; head -c 60000 /dev/zero; echo err >&2'], { init });
      let out = 0;
      let err = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.length));
      child.stderr?.on('data', (d: Buffer) => (err += d));
      // Hold the loop until the command is long gone: its exit and its output then wait together.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
      expect(await child.exited).toMatchObject({ code: 0, signal: null });
      expect([out, err]).toEqual([60004, 'err\n']);
    }
  });

  it('a command killed by SIGSEGV inside reports the signal, although PID 1 cannot die of it', async () => {
    const r = await run('sh', ['-c', 'kill -SEGV $$']);
    expect(r).toMatchObject({ code: null, signal: 'SIGSEGV' });
  });

  it('without init the status is the process own', async () => {
    expect(await run('sh', ['-c', 'exit 3'], { init: false })).toMatchObject({ code: 3, signal: null });
  });

  it('exitCode and signalCode follow ChildProcess', async () => {
    const child = spawnIsolated('sh', ['-c', 'kill -USR1 $$'], { stdio: 'ignore' });
    const exit = new Promise((r) => child.once('exit', (code, signal) => r([code, signal])));
    await child.exited;
    expect(await exit).toEqual([null, 'SIGUSR1']);
    expect(child.signalCode).toBe('SIGUSR1');
    expect(child.exitCode).toBeNull();
  });
});

describeAsRoot('signals', () => {
  it('SIGTERM reaches a command without a handler, which dies of it', async () => {
    const child = spawnIsolated('sh', ['-c', LOOP]);
    await ready(child);
    expect(child.kill('SIGTERM')).toBe(true);
    expect(await child.exited).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(child.killed).toBe(true);
  });

  it('SIGTERM reaches a command that traps it, and the trap runs', async () => {
    const child = spawnIsolated('sh', ['-c', `trap 'echo trapped; exit 7' TERM; ${LOOP}`]);
    const out = collect(child.stdout);
    await ready(child);
    child.kill('SIGTERM');
    expect(await child.exited).toMatchObject({ code: 7, signal: null });
    expect(await out).toContain('trapped');
  });

  it('SIGKILL ends a command that ignores everything, with or without init', async () => {
    for (const init of [true, false]) {
      const child = spawnIsolated('sh', ['-c', `trap '' TERM INT HUP; ${LOOP}`], { init });
      await ready(child);
      child.kill('SIGTERM');
      child.kill('SIGKILL');
      expect(await child.exited).toMatchObject({ code: null, signal: 'SIGKILL' });
    }
  });

  it('without init, PID 1 ignores SIGTERM (kernel rule); stop() escalates to SIGKILL', async () => {
    const child = spawnIsolated('sh', ['-c', LOOP], { init: false });
    await ready(child);
    const started = Date.now();
    expect(await child.stop(300)).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('stop() ends a cooperative command with SIGTERM, without waiting for the grace period', async () => {
    const child = spawnIsolated('sh', ['-c', LOOP]);
    await ready(child);
    const started = Date.now();
    expect(await child.stop(10_000)).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('timeout sends killSignal', async () => {
    const r = await run('sleep', ['10'], { timeout: 100, killSignal: 'SIGINT' });
    expect(r).toMatchObject({ code: null, signal: 'SIGINT' });
  });

  it('an AbortSignal kills the sandbox and rejects exited with an AbortError', async () => {
    const controller = new AbortController();
    const child = spawnIsolated('sleep', ['10'], { signal: controller.signal });
    const errors: Error[] = [];
    child.on('error', (e) => errors.push(e));
    const exit = new Promise((r) => child.once('exit', (_code, signal) => r(signal)));
    setTimeout(() => controller.abort(), 50);
    await expect(child.exited).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(await exit).toBe('SIGTERM');
    expect(errors.map((e) => e.name)).toEqual(['AbortError']);
  });

  it('an already aborted signal runs nothing', async () => {
    const child = spawnIsolated('sleep', ['10'], { signal: AbortSignal.abort() });
    await expect(child.exited).rejects.toMatchObject({ name: 'AbortError' });
    expect(child.pid).toBeUndefined();
  });

  it('kill() after the exit returns false; unknown signals throw', async () => {
    const child = spawnIsolated('true', [], { stdio: 'ignore' });
    await child.exited;
    expect(child.kill('SIGTERM')).toBe(false);
    expect(() => child.kill('SIGNOPE' as NodeJS.Signals)).toThrow(TypeError);
  });
});
