/**
 * The published types: IsolatedProcess's events are typed per event (a misspelt name is a type
 * error; `tsc --noEmit` over the test files checks the @ts-expect-error lines), runIsolated's
 * result follows its encoding, NsboxError's code is a union of the codes nsbox produces, and
 * dist/*.d.ts compile for a consumer with exactOptionalPropertyTypes and no skipLibCheck.
 */
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { spawnIsolated, runIsolated, type IsolatedProcess, type NsboxError, type RunError, type RunResult } from '../lib';

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

/** Never called: the codes of NsboxError and RunError. */
export function codeChecks(err: NsboxError, run: RunError): NsboxError['code'][] {
  const errno: NsboxError['code'] = 'ENOENT';
  const own: NsboxError['code'][] = ['ERR_NSBOX_ADDON', 'ERR_NSBOX_NOT_READY', 'ERR_NSBOX_EXIT', 'ERR_NSBOX_SIGNAL', 'ERR_NSBOX_TIMEOUT', 'ERR_NSBOX_MAX_BUFFER'];
  // @ts-expect-error an AbortError's code, never an NsboxError's
  const abort: NsboxError['code'] = 'ABORT_ERR';
  // @ts-expect-error errno names are upper case
  const lower: NsboxError['code'] = 'enoent';
  // @ts-expect-error a RunError is one of four
  const notRun: RunError['code'] = 'ENOENT';
  const runCode: RunError['code'] = run.code;
  return [errno, ...own, abort, lower, notRun, runCode, err.code];
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

/** A package's consumer: strict, exactOptionalPropertyTypes, and the .d.ts files checked too. */
const CONSUMER = `
import { spawnIsolated, runIsolated, NsboxError, RunError, hostRootfs, probe, type IsolatedOptions, type RunOptions } from 'nsbox';
import { withSandbox, runInSandbox, skipUnless, type WithSandboxOptions, type RunInSandboxOptions } from 'nsbox/testing';
const options: IsolatedOptions = { pid: true, rootfs: '/srv/rootfs', mounts: [{ type: 'bind', source: '/a', target: '/b', readonly: true }, { type: 'tmpfs', target: '/tmp' }], stdio: ['pipe', 'inherit', 'ignore'] };
const child = spawnIsolated('true', [], options);
child.on('exit', (code: number | null, signal: NodeJS.Signals | null) => void [code, signal]);
const maybe = process.env.T === undefined ? undefined : 5;
// What the runtime takes as absent, the types take too.
const run: RunOptions = { input: undefined, encoding: undefined, maxBuffer: maybe, all: undefined, reject: undefined, timeout: 1000 };
void runIsolated('true', [], run).catch((e: unknown) => (e instanceof RunError ? e.code : e instanceof NsboxError ? e.code : 'other'));
const box: WithSandboxOptions = { graceMs: maybe, settleMs: undefined, hostname: 'box' };
void withSandbox(box, async (b) => (await b.run('true')).stdout.length + (await b.run('true', [], { encoding: 'buffer' })).stdout.byteLength);
const inSandbox: RunInSandboxOptions = { maxBuffer: maybe, net: true };
const sum: Promise<number> = runInSandbox((a: number, b: number) => a + b, [1, 2], inSandbox);
void sum;
void [hostRootfs, probe().supported, skipUnless('root')];
`;

describe('the published declarations', () => {
  let dir: string;
  beforeAll(() => {
    // A project beside the package: node_modules/nsbox is this package (its exports map, dist/*.d.ts).
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-consumer-'));
    fs.mkdirSync(path.join(dir, 'node_modules', '@types'), { recursive: true });
    fs.symlinkSync(path.join(__dirname, '..'), path.join(dir, 'node_modules', 'nsbox'));
    fs.symlinkSync(path.join(__dirname, '..', 'node_modules', '@types', 'node'), path.join(dir, 'node_modules', '@types', 'node'));
    fs.writeFileSync(path.join(dir, 'consumer.cts'), CONSUMER);
    fs.writeFileSync(path.join(dir, 'consumer.mts'), CONSUMER);
    const compilerOptions = { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, exactOptionalPropertyTypes: true, skipLibCheck: false, noEmit: true, types: ['node'] };
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.cts', 'consumer.mts'] }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('compile for a CommonJS and an ESM consumer with exactOptionalPropertyTypes and skipLibCheck off', async () => {
    const tsc = path.join(__dirname, '..', 'node_modules', '.bin', 'tsc');
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(tsc, ['-p', dir], { timeout: 25_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code ?? -1) : 0, out: stdout + stderr }));
    });
    expect(r).toEqual({ code: 0, out: '' });
  });
});
