/**
 * The published types: IsolatedProcess's events are typed per event (a misspelt name is a type
 * error; `tsc --noEmit` over the test files checks the @ts-expect-error lines), and runIsolated's
 * result follows its encoding.
 */
import { spawnIsolated, runIsolated, type IsolatedProcess, type RunResult } from '../lib';

/** Never called: its body is checked by the type checker only. */
function typeChecks(child: IsolatedProcess): void {
  child.on('exit', (code, signal) => {
    const c: number | null = code;
    const s: NodeJS.Signals | null = signal;
    void c;
    void s;
  });
  child.once('trace', ({ step, microseconds }) => void `${step} ${microseconds.toFixed()}`);
  child.on('error', (err) => void err.message);
  // @ts-expect-error a misspelt event name
  child.on('exitt', () => undefined);
  // @ts-expect-error exit's code is not a string
  child.on('exit', (code: string) => void code);
  // @ts-expect-error emit checks its arguments too
  child.emit('exit', 'zero', null);
  const text: Promise<RunResult<string>> = runIsolated('true');
  const bytes: Promise<RunResult<Buffer>> = runIsolated('true', [], { encoding: 'buffer' });
  void text;
  void bytes;
}

it('typed events are the runtime events', async () => {
  expect(typeof typeChecks).toBe('function');
  if (process.getuid?.() !== 0 && process.env.CI !== 'true') return;
  const child = spawnIsolated('true', [], { stdio: 'ignore' });
  const seen: string[] = [];
  child.on('spawn', () => seen.push('spawn'));
  child.on('exit', (code, signal) => seen.push(`exit ${code} ${signal}`));
  child.on('close', (code) => seen.push(`close ${code}`));
  await child.exited;
  expect(seen).toEqual(['spawn', 'exit 0 null', 'close 0']);
});

/** Never called: box.run's result follows its encoding too. */
export function boxTypeChecks(box: import('../lib/testing').SandboxBox): void {
  const text: Promise<RunResult<string>> = box.run('true');
  const bytes: Promise<RunResult<Buffer>> = box.run('true', [], { encoding: 'buffer' });
  void text;
  void bytes;
}
