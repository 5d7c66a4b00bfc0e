/** Every tutorial step in examples/ runs, and prints what the tutorial says it does. */
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { describeAsRoot } from './helpers/privilege';
import { readablePackage, NOBODY, type ReadablePackage } from './helpers/unprivileged';

const EXAMPLES = path.join(__dirname, '..', 'examples');

/** asNobody: run as uid 65534 from a copy of the package it can read; privateNet: in a private network namespace. */
function runExample(file: string, how: { asNobody?: ReadablePackage; privateNet?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let command = process.execPath;
  let args = [path.join(EXAMPLES, file)];
  if (how.privateNet) {
    // Examples that add interfaces run in a private network namespace of their node process.
    args = ['-e', `require(${JSON.stringify(path.join(__dirname, '..', 'dist'))}).unshare('net', { scope: 'thread' }); require(${JSON.stringify(args[0])});`];
  }
  let env = process.env;
  const runAs = how.asNobody && { pkg: how.asNobody };
  if (runAs) {
    // The example, copied next to a package copy 65534 can read, requiring it as '..'.
    const dir = path.join(runAs.pkg.dir, 'examples');
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.copyFileSync(path.join(EXAMPLES, file), path.join(dir, file));
    fs.chmodSync(path.join(dir, file), 0o644);
    const tmp = path.join(runAs.pkg.dir, 'tmp');
    fs.mkdirSync(tmp, { recursive: true });
    fs.chmodSync(tmp, 0o1777); // where 65534 builds its rootfs
    env = { ...process.env, TMPDIR: tmp };
    command = 'setpriv';
    args = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, path.join(dir, file)];
  }
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 20_000, cwd: os.tmpdir(), env }, (err, stdout, stderr) => {
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
  });
}

describeAsRoot('examples', () => {
  it('01: the hostname changes inside only', async () => {
    const r = await runExample('01-uts-hostname.js');
    expect(r.stdout).toBe(`tutorial-box\nhost hostname is still: ${os.hostname()}\n`);
  });

  it('02: PID 1, but ps shows the host through the host /proc', async () => {
    const r = await runExample('02-pid-host-proc.js');
    expect(r.stdout).toMatch(/^inside, my PID is 1\n/);
    const listed = Number(/lists (\d+) processes/.exec(r.stdout)?.[1]);
    expect(listed).toBeGreaterThan(5);
  });

  it('03: with a fresh /proc, ps lists only PID 1 and ps', async () => {
    const r = await runExample('03-pid-fresh-proc.js');
    expect(r.code).toBe(0);
    const pids = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]);
    expect(pids).toEqual(['1', '2']);
  });

  it('04: in a rootfs, / is the rootfs and ps lists only the sandbox', async () => {
    const r = await runExample('04-rootfs.js');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\/ holds: bin dev etc/);
    const ps = r.stdout.split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(/\s+/));
    expect(ps.map((cols) => [cols[1], cols[10]])).toEqual([['1', 'nsbox-init'], ['2', '/bin/sh'], [expect.stringMatching(/^\d+$/), 'ps']]);
  });

  it('05: rootless, as uid 65534', async () => {
    const pkg = readablePackage();
    try {
      const r = await runExample('05-rootless.js', { asNobody: pkg });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^inside: uid 0, map: +0 +65534 +1\n/);
      expect(r.stdout).toMatch(/\noutside: uid 65534\n$/);
    } finally {
      pkg.remove();
    }
  });

  it('07: each IPC namespace sees only its own queue', async () => {
    const r = await runExample('07-ipc.js');
    expect(r.stdout).toBe("first sandbox sees 1 queue(s)\nsecond sandbox sees 1 queue(s): not the first one's\n");
  });

  it('08: only lo inside, and it works', async () => {
    const r = await runExample('08-network.js');
    expect(r.stdout).toBe('interfaces inside: lo\nclient inside got: pong\n');
  });

  it('09: a veth pair carries a TCP connection into the sandbox', async () => {
    const r = await runExample('09-veth.js', { privateNet: true });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('the host side got: hello from inside\n');
  });

  it('10: exec into a sandbox, and a sandbox joining its namespaces', async () => {
    const r = await runExample('10-join-and-exec.js');
    expect(r.stdout).toMatch(/^exec into it: first-box, sees \d+ processes\na new sandbox joining its uts and net: first-box, its own PID namespace: my PID is 2\n$/);
  });

  it('11: cgroup namespace root, shifted boot clock', async () => {
    const r = await runExample('11-cgroup-and-time.js');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^cgroup outside: .*; inside: 0::\/\nits own cgroup namespace: yes\n/);
    const [inside, outside] = (/uptime inside: (\d+) days \(a year added\); outside: (\d+) days/.exec(r.stdout) ?? []).slice(1).map(Number);
    expect(inside - outside).toBeGreaterThanOrEqual(364);
    expect(inside - outside).toBeLessThanOrEqual(366);
  });

  it('14: nsbox/testing under node:test: a TCP server inside net: true, reachable from inside, refused from the host', async () => {
    const r = await runExample('14-testing.test.js');
    expect(r.stdout).toMatch(/^ {4}ok 1 - reachable from inside/m);
    expect(r.stdout).toMatch(/^ {4}ok 2 - refused from the host/m);
    expect(r.stdout).toMatch(/^# pass 4\n# fail 0\n(.*\n)*# skipped 0\n/m);
    expect(r.code).toBe(0);
  });

  it("12: bubblewrap's classic sandbox: the host read-only, a private /tmp, its own /proc", async () => {
    const r = await runExample('12-readonly-host.js');
    const [refused, note, processes] = r.stdout.trim().split('\n');
    expect([refused, note]).toEqual(['Read-only file system', 'private']);
    expect(Number(processes)).toBeLessThan(6);
  });

  it('13: an overlay whose changes vanish with the sandbox', async () => {
    const r = await runExample('13-overlay.js');
    expect(r.stdout).toBe('inside: changed new\non the host afterwards: greeting = hello\n');
  });

  it('06: real status of a crash, SIGTERM trapped, orphans gone', async () => {
    const r = await runExample('06-init-and-signals.js');
    expect(r.stdout).toBe(
      'a command that segfaults: {"code":null,"signal":"SIGSEGV"}\ngot SIGTERM\nafter SIGTERM: {"code":3,"signal":null} (the orphaned sleep died with the namespace)\n',
    );
  });
});
