/**
 * nsbox/testing: withSandbox ends what the body started and fails on what it left behind;
 * supports() and skipUnless() answer from probe(), and never skip under CI=true.
 */
import { spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import type { IsolatedProcess } from '../lib';
import { skipUnless, supports, withSandbox } from '../lib/testing';
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
