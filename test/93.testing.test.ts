/**
 * nsbox/testing: withSandbox ends what the body started and fails on what it left behind;
 * supports() and skipUnless() answer from probe(), and never skip under CI=true; runInSandbox
 * runs a function or a module inside, with this Node, and resolves with its JSON result.
 */
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { RunError, type IsolatedProcess } from '../lib';
import { runInSandbox, skipUnless, supports, withSandbox } from '../lib/testing';
import { buildRootfs } from './helpers/rootfs';
import { describeAsRoot } from './helpers/privilege';
import { readablePackage, runAsNobody, type ReadablePackage } from './helpers/unprivileged';

describeAsRoot('withSandbox', () => {
  it('resolves with the body’s value; sandboxes and execs still running at the end are ended', async () => {
    let kept: IsolatedProcess[] = [];
    const value = await withSandbox({ uts: true }, async (box) => {
      const sleeper = box.spawn('sleep', ['60']);
      await new Promise((r) => sleeper.once('spawn', r));
      sleeper.exec('sleep', ['60']);
      expect((await box.run('hostname', [], { hostname: 'box' })).stdout).toBe('box\n');
      kept = [...box.started];
      return 42;
    });
    expect(value).toBe(42);
    expect(kept).toHaveLength(3);
    for (const child of kept) expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
    expect(kept[0]?.signalCode).toBe('SIGKILL');
  });

  it('the defaults of withSandbox apply to the box; options given to spawn win', async () => {
    await withSandbox({ hostname: 'outer' }, async (box) => {
      expect((await box.run('hostname')).stdout).toBe('outer\n');
      expect((await box.run('hostname', [], { hostname: 'inner' })).stdout).toBe('inner\n');
    });
  });

  it('fails with ERR_NSBOX_LEFT_BEHIND for an fd or a child process the body left', async () => {
    let fd = -1;
    const fdFailure = await withSandbox({ settleMs: 100 }, () => {
      fd = fs.openSync(__filename, 'r');
    }).catch((e: unknown) => e);
    fs.closeSync(fd);
    expect(fdFailure).toMatchObject({ code: 'ERR_NSBOX_LEFT_BEHIND', message: expect.stringContaining(`fd ${fd} (${__filename})`) });

    let stray: ReturnType<typeof spawn> | undefined;
    const processFailure = await withSandbox({ settleMs: 100 }, () => {
      stray = spawn('sleep', ['60'], { stdio: 'ignore' });
    }).catch((e: unknown) => e);
    stray?.kill('SIGKILL');
    await new Promise((r) => stray?.once('exit', r));
    expect(processFailure).toMatchObject({ code: 'ERR_NSBOX_LEFT_BEHIND', message: expect.stringMatching(/process \d+ \(sleep 60\)/) });
  });

  it('the body’s own error wins, and its sandboxes are still ended', async () => {
    let child: IsolatedProcess | undefined;
    await expect(
      withSandbox({}, async (box) => {
        child = box.spawn('sleep', ['60']);
        throw new Error('the body failed');
      }),
    ).rejects.toThrow('the body failed');
    expect(child?.signalCode).toBe('SIGKILL');
  });
});

describe('supports and skipUnless', () => {
  const ci = process.env.CI;
  afterEach(() => {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  });

  it('answer from probe(); an unknown feature is a TypeError', () => {
    expect(supports('nsbox')).toEqual({ supported: true });
    expect(supports('root').supported).toBe(process.getuid?.() === 0);
    expect(() => supports('bogus' as 'root')).toThrow(/Unknown feature "bogus"/);
  });

  it('never skip under CI=true', () => {
    process.env.CI = 'true';
    for (const feature of ['root', 'user-namespaces', 'time-namespaces', 'overlay-in-user-namespace', 'cgroup2'] as const) {
      expect(skipUnless(feature)).toBe(false);
    }
  });
});

describeAsRoot('skipUnless without root', () => {
  let pkg: ReadablePackage;
  beforeAll(() => {
    pkg = readablePackage();
  });
  afterAll(() => pkg.remove());

  it("skips what needs root with the reason, outside CI; under CI=true it does not", async () => {
    const body = (ci: string) => `
      process.env.CI = ${JSON.stringify(ci)};
      const { skipUnless, supports } = require(${JSON.stringify(path.join('__PKG__', 'dist', 'testing.js'))});
      out({ skip: skipUnless('root'), nsbox: supports('nsbox').supported });`;
    const outside = await runAsNobody(pkg, body('').replace('__PKG__', pkg.dir));
    expect(outside.stderr).toMatch(/nsbox\/testing: skipping what needs root: needs root \(uid 0\)/);
    expect(JSON.parse(outside.stdout.trim())).toEqual({ skip: 'needs root: needs root (uid 0): run the tests as root, or with sudo', nsbox: true });
    const inCi = await runAsNobody(pkg, body('true').replace('__PKG__', pkg.dir));
    expect(JSON.parse(inCi.stdout.trim())).toEqual({ skip: false, nsbox: true });
  });
});

describe('runInSandbox arguments', () => {
  it('refuses what cannot travel as source or JSON, before anything runs', async () => {
    await expect(runInSandbox({ method() { return 1; } }.method)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/"fn" option must be a function or arrow expression/) });
    await expect(runInSandbox(Math.max)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(runInSandbox(42 as unknown as string)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(runInSandbox('/no/such/module.js')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(runInSandbox((n: bigint) => n, [1n])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/"args" option must be JSON/) });
  });
});

describeAsRoot('runInSandbox', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-run-in-sandbox-'));
    fs.chmodSync(dir, 0o755);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('calls the function inside with its arguments and resolves with its JSON result', async () => {
    expect(await runInSandbox((a: number, b: { c: string }) => ({ sum: a + 1, c: b.c, pid: process.pid }), [41, { c: 'x' }])).toEqual({ sum: 42, c: 'x', pid: 2 });
    expect(await runInSandbox(async () => require('os').hostname() as string, [], { hostname: 'box' })).toBe('box');
    expect(await runInSandbox(() => Object.keys(require('os').networkInterfaces()), [], { net: true })).toEqual(['lo']);
    expect(await runInSandbox(() => new Date(0))).toBe('1970-01-01T00:00:00.000Z'); // as JSON gives it back
    expect(await runInSandbox(() => undefined)).toBeUndefined();
    expect(await runInSandbox(() => { console.log('the code’s own stdout'); return 'x'.repeat(1 << 20); })).toHaveLength(1 << 20);
  });

  it('runs the source, not a closure: outer variables are not there', async () => {
    const outer = 'host';
    await expect(runInSandbox(() => outer)).rejects.toMatchObject({ name: 'ReferenceError', message: 'outer is not defined' });
  });

  it('what the code throws rejects with its name, message, code and the stack from inside', async () => {
    const err = (await runInSandbox(() => require('assert').strictEqual(1, 2)).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err).toMatchObject({ name: 'AssertionError', code: 'ERR_ASSERTION' });
    expect(err.message).toMatch(/^Expected values to be strictly equal/);
    expect(err.stack).toMatch(/\[eval\]/);
  });

  it('a code that ends without a result: a RunError for an exit or a signal, ERR_NSBOX_NO_RESULT for exit 0', async () => {
    const exit = (await runInSandbox(() => { console.error('going'); process.exit(3); }).catch((e: unknown) => e)) as RunError;
    expect(exit).toBeInstanceOf(RunError);
    expect(exit).toMatchObject({ code: 'ERR_NSBOX_EXIT', exitCode: 3, stderr: 'going\n', message: 'Command failed with exit code 3: runInSandbox(fn)\n\ngoing' });
    await expect(runInSandbox(() => process.kill(process.pid, 'SIGKILL'))).rejects.toMatchObject({ code: 'ERR_NSBOX_SIGNAL', signal: 'SIGKILL' });
    await expect(runInSandbox(() => new Promise(() => setInterval(() => undefined, 1000)), [], { timeout: 200 })).rejects.toMatchObject({ code: 'ERR_NSBOX_TIMEOUT' });
    await expect(runInSandbox(() => process.exit(0))).rejects.toMatchObject({ code: 'ERR_NSBOX_NO_RESULT' });
  });

  it('a module: its function (module.exports, or export default) is called the same way', async () => {
    const cjs = path.join(dir, 'probe.js');
    fs.writeFileSync(cjs, 'module.exports = (x) => ({ got: x, root: require("fs").readdirSync("/").includes("proc") });\n');
    const esm = path.join(dir, 'probe.mjs');
    fs.writeFileSync(esm, 'import os from "os";\nexport default async function (x) { return [x, os.hostname()]; }\n');
    expect(await runInSandbox(cjs, [7])).toEqual({ got: 7, root: true });
    expect(await runInSandbox(esm, ['y'], { hostname: 'esm' })).toEqual(['y', 'esm']);
    const none = path.join(dir, 'none.js');
    fs.writeFileSync(none, 'module.exports = { notAFunction: 1 };\n');
    await expect(runInSandbox(none)).rejects.toMatchObject({ name: 'TypeError', message: expect.stringMatching(/exports no function/) });
  });

  it('in a rootfs: this Node, its libraries and the module are bound read-only, nothing else of the host', async () => {
    const rootfs = buildRootfs(['sh']);
    try {
      const module = path.join(dir, 'inside.js');
      fs.writeFileSync(module, 'const fs = require("fs");\nmodule.exports = (file) => { let writable = true; try { fs.writeFileSync(file, "x"); } catch (e) { writable = e.code; } return { root: fs.readdirSync("/").sort(), writable }; };\n');
      const r = (await runInSandbox(module, [module], { rootfs: rootfs.dir })) as { root: string[]; writable: unknown };
      expect(r.writable).toBe('EROFS');
      // The rootfs's own entries (mount points made in it where missing included), not the host's.
      expect(r.root).toEqual(fs.readdirSync(rootfs.dir).sort());
      expect(r.root).not.toEqual(fs.readdirSync('/').sort());
    } finally {
      rootfs.remove();
    }
  });

  it('box.runInSandbox takes the box’s defaults, and the leftover check holds', async () => {
    await withSandbox({ hostname: 'boxed' }, async (box) => {
      expect(await box.runInSandbox(() => require('os').hostname() as string)).toBe('boxed');
      expect(box.started).toHaveLength(1);
    });
  });
});
