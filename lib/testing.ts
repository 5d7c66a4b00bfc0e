/**
 * `nsbox/testing`: helpers for tests of namespace behaviour, for jest and `node:test` alike.
 *
 * - {@link withSandbox} runs a test body with a `box` whose sandboxes (and their `exec`s) are all
 *   ended when the body ends, and fails if the body left a process, a mount or an fd behind.
 * - {@link supports} and {@link skipUnless} decide from {@link probe} whether this host can run
 *   a test, with the reason; under `CI=true` nothing is skipped.
 * - {@link runInSandbox} runs a JavaScript function or module inside a sandbox, with this Node,
 *   and resolves with its JSON result.
 * @module
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { pathToFileURL } from 'url';
import type { IsolatedProcess } from './child';
import type { ExecOptions } from './exec';
import { invalidArgType, invalidArgValue } from './errors';
import type { IsolatedOptions, MountSpec } from './options';
import { probe, type Verdict } from './probe';
import { DEFAULT_MAX_BUFFER, RunError, runWith, type RunBufferOptions, type RunOptions, type RunResult, type Spawner } from './run';
import { spawnIsolated } from './spawn';

/** What a {@link withSandbox} body starts its sandboxes with: each is ended when the body ends. */
export interface SandboxBox {
  /** `spawnIsolated` with the options of `withSandbox` as defaults (those given here win). */
  spawn(command: string, args?: readonly string[], options?: IsolatedOptions): IsolatedProcess;
  /** `runIsolated` with the same defaults. */
  run(command: string, args: readonly string[] | undefined, options: RunBufferOptions): Promise<RunResult<Buffer>>;
  run(command: string, args?: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** {@link runInSandbox} with the same defaults. */
  runInSandbox<A extends readonly unknown[], R>(fn: (...args: A) => R, args?: A, options?: RunInSandboxOptions): Promise<Awaited<R>>;
  runInSandbox(modulePath: string, args?: readonly unknown[], options?: RunInSandboxOptions): Promise<unknown>;
  /** Every sandbox and exec started through this box so far. */
  readonly started: readonly IsolatedProcess[];
}

/** Options of {@link withSandbox}: the defaults of the box's sandboxes, and how the end is checked. */
export interface WithSandboxOptions extends IsolatedOptions {
  /** Milliseconds each sandbox still running at the end gets after SIGTERM before SIGKILL (default 0: SIGKILL at once). */
  graceMs?: number | undefined;
  /** Milliseconds to wait for fds, child processes and mounts to settle before calling them left behind (default 2000). */
  settleMs?: number | undefined;
}

interface HostState {
  fds: Map<number, string>;
  children: Set<number>;
  mountinfo: string;
}

let warm: Promise<void> | undefined;

/**
 * The first spawn of a process opens a few fds for good (the helper's sealed memfd, among
 * others): spawn once, with no namespace, before the first look, so they are not counted.
 */
function warmUp(): Promise<void> {
  warm ??= (async () => {
    try {
      await spawnIsolated('true', [], { pid: false, mount: false, stdio: 'ignore', seccomp: false }).exited;
    } catch {
      // Only a warm-up: the body's own spawns will say what is wrong.
    }
  })();
  return warm;
}

function fdTable(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const entry of fs.readdirSync('/proc/self/fd')) {
    try {
      fds.set(Number(entry), fs.readlinkSync(`/proc/self/fd/${entry}`));
    } catch {
      // closed meanwhile (the readdir's own fd among them)
    }
  }
  return fds;
}

/** Living child processes of every thread of this process. */
function childProcesses(): Set<number> {
  const pids = new Set<number>();
  for (const task of fs.readdirSync('/proc/self/task')) {
    let list: string;
    try {
      list = fs.readFileSync(`/proc/self/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const pid of list.split(' ').filter(Boolean).map(Number)) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') pids.add(pid);
        else pids.add(pid); // a zombie nobody reaped is left behind too
      } catch {
        // gone
      }
    }
  }
  return pids;
}

function hostState(): HostState {
  return { fds: fdTable(), children: childProcesses(), mountinfo: fs.readFileSync('/proc/self/mountinfo', 'utf8') };
}

/** What is in `after` and not in `before`, in words; empty when nothing was left behind. */
function leftBehind(before: HostState, after: HostState): string[] {
  const found: string[] = [];
  for (const [fd, target] of after.fds) {
    if (before.fds.get(fd) !== target) found.push(`fd ${fd} (${target})`);
  }
  for (const pid of after.children) {
    if (!before.children.has(pid)) found.push(`process ${pid} (${describeProcess(pid)})`);
  }
  if (after.mountinfo !== before.mountinfo) {
    const was = new Set(before.mountinfo.split('\n'));
    for (const line of after.mountinfo.split('\n')) if (line && !was.has(line)) found.push(`mount ${line.split(' ')[4] ?? line}`);
    if (!found.some((f) => f.startsWith('mount '))) found.push('a mount was removed from this mount namespace');
  }
  return found;
}

function describeProcess(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') || '?';
  } catch {
    return 'gone';
  }
}

async function settled(before: HostState, ms: number): Promise<string[]> {
  const end = Date.now() + ms;
  for (;;) {
    const found = leftBehind(before, hostState());
    if (found.length === 0 || Date.now() >= end) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Runs `body` with a {@link SandboxBox}. When the body ends, returning or throwing, every
 * sandbox and exec started through the box that is still running is killed and awaited; then
 * this process must have the fds, child processes and mounts it had before the body, or the
 * returned promise rejects with an Error listing what was left (code `ERR_NSBOX_LEFT_BEHIND`).
 * The body's own error wins over that one. Resolves with what the body returned.
 *
 * @example
 * test('hostname', () => withSandbox({ uts: true }, async (box) => {
 *   const { stdout } = await box.run('hostname', [], { hostname: 'box' });
 *   expect(stdout).toBe('box\n');
 * }));
 */
export async function withSandbox<T>(options: WithSandboxOptions, body: (box: SandboxBox) => Promise<T> | T): Promise<T> {
  const { graceMs = 0, settleMs = 2000, ...defaults } = options ?? {};
  await warmUp();
  const before = hostState();
  const started: IsolatedProcess[] = [];
  const track = (child: IsolatedProcess): IsolatedProcess => {
    started.push(child);
    // exec through a tracked sandbox is tracked too.
    const exec = child.exec.bind(child);
    child.exec = (command: string, args?: readonly string[], execOptions?: ExecOptions) => track(exec(command, args, execOptions));
    // Whatever the body does with it, its failures are the body's to see, not an unhandled throw at the end.
    child.exited.catch(() => undefined);
    return child;
  };
  const box: SandboxBox = {
    spawn: (command, args, spawnOptions) => track(spawnIsolated(command, args ?? [], { ...defaults, ...spawnOptions })),
    run: ((command: string, args?: readonly string[], runOptions?: RunOptions) =>
      runWith((c, a, o) => track(spawnIsolated(c, a, o)), command, args ?? [], { ...defaults, ...runOptions })) as SandboxBox['run'],
    runInSandbox: ((code: unknown, args?: readonly unknown[], runOptions?: RunInSandboxOptions) =>
      runCode((c, a, o) => track(spawnIsolated(c, a, o)), code, args, { ...defaults, ...runOptions })) as SandboxBox['runInSandbox'],
    started,
  };
  let result: T;
  let bodyError: unknown;
  let failed = false;
  try {
    result = await body(box);
  } catch (e) {
    failed = true;
    bodyError = e;
  }
  await Promise.all(
    started.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exited.catch(() => undefined);
      if (graceMs > 0) return child.stop(graceMs).catch(() => undefined);
      child.kill('SIGKILL');
      return child.exited.catch(() => undefined);
    }),
  );
  const found = await settled(before, settleMs);
  if (failed) throw bodyError;
  if (found.length > 0) {
    throw Object.assign(new Error(`withSandbox: the body left behind ${found.join(', ')}`), { code: 'ERR_NSBOX_LEFT_BEHIND', leftBehind: found });
  }
  return result!;
}

/** What {@link supports} and {@link skipUnless} know how to decide. */
export type Feature =
  /** nsbox runs on this kernel at all (Linux 5.11+). */
  | 'nsbox'
  /** This process is root (uid 0): namespaces without a user namespace, multi-range maps, veth. */
  | 'root'
  /** This process may create namespaces: as root, or through an unprivileged user namespace. */
  | 'namespaces'
  /** Unprivileged users may create user namespaces (rootless sandboxes). */
  | 'user-namespaces'
  /** Time namespaces (Linux 5.6). */
  | 'time-namespaces'
  /** Overlay mounts inside a user namespace (Linux 5.11 and the overlay module). */
  | 'overlay-in-user-namespace'
  /** The cgroup v2 hierarchy is mounted (v2 or hybrid). */
  | 'cgroup2';

const FEATURES: readonly Feature[] = ['nsbox', 'root', 'namespaces', 'user-namespaces', 'time-namespaces', 'overlay-in-user-namespace', 'cgroup2'];

/** Whether this host (and this process's privilege) can do `feature`, and if not, why: {@link probe}'s reasons. */
export function supports(feature: Feature): Verdict {
  if (!FEATURES.includes(feature)) {
    throw Object.assign(new TypeError(`Unknown feature "${String(feature)}" (known: ${FEATURES.join(', ')})`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  const host = probe();
  const root = process.geteuid?.() === 0;
  const no = (reason: string): Verdict => ({ supported: false, reason });
  if (!host.supported) return no(host.reason);
  switch (feature) {
    case 'nsbox':
      return { supported: true };
    case 'root':
      return root ? { supported: true } : no('needs root (uid 0): run the tests as root, or with sudo');
    case 'namespaces':
      if (root || host.userNamespaces.unprivileged) return { supported: true };
      return no(`not root, and no unprivileged user namespaces: ${host.userNamespaces.reason}`);
    case 'user-namespaces':
      return host.userNamespaces.unprivileged ? { supported: true } : no(host.userNamespaces.reason);
    case 'time-namespaces':
      return host.timeNamespaces ? { supported: true } : no(`no time namespaces: Linux ${host.kernel.release} is older than 5.6, or built without CONFIG_TIME_NS`);
    case 'overlay-in-user-namespace':
      return host.overlayInUserNamespace;
    case 'cgroup2':
      return host.cgroup.version === 'v2' || host.cgroup.version === 'hybrid' ? { supported: true } : no(`no cgroup v2 hierarchy is mounted (cgroup layout: ${host.cgroup.version})`);
  }
}

/**
 * `false` when this host can do `feature`, else the reason (printed on stderr): the shape of
 * `node:test`'s `skip` option, `test('…', { skip: skipUnless('root') }, fn)`; with jest,
 * `(skipUnless('root') ? test.skip : test)('…', fn)`. Under `CI=true` it is always `false`:
 * nothing skips in CI, and a test the host cannot run fails with its own error.
 */
export function skipUnless(feature: Feature): string | false {
  const verdict = supports(feature);
  if (verdict.supported) return false;
  if (process.env.CI === 'true') {
    process.stderr.write(`nsbox/testing: CI=true, so not skipping what needs ${feature}: ${verdict.reason}\n`);
    return false;
  }
  process.stderr.write(`nsbox/testing: skipping what needs ${feature}: ${verdict.reason}\n`);
  return `needs ${feature}: ${verdict.reason}`;
}

/** Options of {@link runInSandbox}: those of `spawnIsolated` but `stdio` (its own), and how much output is kept. */
export interface RunInSandboxOptions extends Omit<IsolatedOptions, 'stdio'> {
  /** Bytes kept of the code's stdout and of its stderr (shown when it fails); as runIsolated's. */
  maxBuffer?: number | undefined;
}

/**
 * What runs inside: reads the code and its arguments from stdin, calls it, and writes
 * `{ value }` or `{ error }` as JSON to fd 3 (stdout stays the code's own). It exits once the
 * result is written: what the code left running (a server) ends with the sandbox.
 */
const RUNNER = `'use strict';
const fs = require('fs');
const { source, url, args } = JSON.parse(fs.readFileSync(0, 'utf8'));
const report = (json) => { fs.writeSync(3, json); process.exit(0); };
(async () => {
  if (source !== undefined) return (0, eval)('(' + source + ')')(...args);
  const m = await import(url);
  const fn = [m.default, m.default && m.default.default].find((f) => typeof f === 'function');
  if (!fn) throw new TypeError(url + ' exports no function (module.exports or export default)');
  return fn(...args);
})().then(
  (value) => {
    let json;
    try {
      json = JSON.stringify(value);
    } catch (e) {
      report(JSON.stringify({ error: { name: 'TypeError', message: 'runInSandbox: the result is not JSON: ' + e.message } }));
    }
    report(json === undefined ? '{}' : '{"value":' + json + '}');
  },
  (e) => report(JSON.stringify({ error: e instanceof Error ? { name: e.name, message: e.message, stack: e.stack, code: e.code } : { name: 'Error', message: 'threw a non-Error: ' + String(e) } })),
);
`;

/** The files this Node binary loads: itself, its libraries and the dynamic loader (ldd's list). */
function nodeFiles(): string[] {
  const files = [process.execPath];
  try {
    const out = execFileSync('ldd', [process.execPath], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const m of out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) files.push(m[1]!);
  } catch {
    // a static node: only itself
  }
  return files;
}

/**
 * Runs `fn(...args)` inside a sandbox, in a `node` of this Node binary, and resolves with its
 * result as JSON gives it back (a Date comes back a string; `undefined` stays `undefined`). `fn`
 * travels as its source, so it is a function or arrow expression that uses only its arguments
 * and `require`, never a closure's variables. Or a module: `modulePath`'s function
 * (`module.exports` or `export default`) is called the same way. `args` are sent as JSON, on stdin.
 *
 * Without `rootfs` the sandbox sees the host's tree (host-root mode), this Node and the module
 * included. With `rootfs`, this Node binary, its libraries and the module file are bind-mounted
 * read-only at their host paths (their mount points are made in the rootfs where missing); other
 * files the code needs go in `mounts`.
 *
 * What `fn` throws (an `AssertionError` too) rejects with an Error of the same name, message and
 * `code`, the stack from inside. A code that ends the process without a result rejects with
 * runIsolated's {@link RunError} (non-zero exit, a signal, `timeout`) or with
 * `ERR_NSBOX_NO_RESULT`; a sandbox that cannot be set up with its NsboxError. The code's stdout and
 * stderr are collected, and stderr's end is in those messages.
 *
 * @example
 * const ifaces = await runInSandbox(() => Object.keys(require('os').networkInterfaces()), [], { net: true });
 * // ['lo']
 */
export function runInSandbox<A extends readonly unknown[], R>(fn: (...args: A) => R, args?: A, options?: RunInSandboxOptions): Promise<Awaited<R>>;
export function runInSandbox(modulePath: string, args?: readonly unknown[], options?: RunInSandboxOptions): Promise<unknown>;
export function runInSandbox(code: unknown, args?: readonly unknown[], options?: RunInSandboxOptions): Promise<unknown> {
  return runCode(spawnIsolated, code, args, options ?? {});
}

async function runCode(spawn: Spawner, code: unknown, args: readonly unknown[] | undefined, options: RunInSandboxOptions): Promise<unknown> {
  let payload: { source?: string; url?: string; args: readonly unknown[] };
  const binds: string[] = [];
  if (!Array.isArray(args ?? [])) throw invalidArgType('args', 'an array of JSON values', args);
  const list = args ?? [];
  if (typeof code === 'function') {
    const source = Function.prototype.toString.call(code);
    try {
      new Function(`return (${source});`); // parsed, never called: a method or a native function is no expression
    } catch {
      throw invalidArgValue('fn', 'must be a function or arrow expression (its source is what runs; not a method, a bound or a native function)');
    }
    payload = { source, args: list };
  } else if (typeof code === 'string' && code.length > 0) {
    const file = path.resolve(code);
    if (!fs.existsSync(file)) throw invalidArgValue('modulePath', 'must name an existing file', code);
    payload = { url: pathToFileURL(file).href, args: list };
    binds.push(file);
  } else {
    throw invalidArgType('fn', 'a function or a module path', code);
  }
  let input: string;
  try {
    input = JSON.stringify(payload);
  } catch (e) {
    throw invalidArgValue('args', `must be JSON (${(e as Error).message})`);
  }
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
  const { maxBuffer, ...spawnOptions } = options;
  if (spawnOptions.rootfs !== undefined) {
    const mounts: MountSpec[] = [...nodeFiles(), ...binds].map((file) => ({ type: 'bind', source: fs.realpathSync(file), target: file, readonly: true }));
    spawnOptions.mounts = [...mounts, ...(spawnOptions.mounts ?? [])];
  }
  const report: Buffer[] = [];
  const spawnWithReport: Spawner = (c, a, o) => {
    const child = spawn(c, a, { ...o, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    child.stdio[3]?.on('data', (d: Buffer) => report.push(d));
    return child;
  };
  const what = payload.source === undefined ? `runInSandbox ${code as string}` : 'runInSandbox(fn)';
  const run = await runWith(spawnWithReport, process.execPath, ['-e', RUNNER], { ...spawnOptions, input, ...(maxBuffer === undefined ? {} : { maxBuffer }) }).catch((e: unknown) => {
    // Its command is node -e and the runner's whole source: name the call instead.
    throw e instanceof RunError ? new RunError({ ...e.result, command: what }, maxBuffer ?? DEFAULT_MAX_BUFFER) : e;
  });
  const stderr = String(run.stderr).trimEnd();
  if (report.length === 0) {
    throw Object.assign(new Error(`${what}: the code ended without a result${stderr ? `\n\n${stderr.slice(-4000)}` : ''}`), { code: 'ERR_NSBOX_NO_RESULT', result: run });
  }
  const result = JSON.parse(Buffer.concat(report).toString('utf8')) as { value?: unknown; error?: { name: string; message: string; stack?: string; code?: unknown } };
  if (result.error) {
    const inside = result.error;
    const err = new Error(inside.message);
    err.name = inside.name;
    if (inside.stack) err.stack = inside.stack;
    if (inside.code !== undefined) Object.assign(err, { code: inside.code });
    throw err;
  }
  return result.value;
}
