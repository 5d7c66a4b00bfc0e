/**
 * The CLI: `nsbox run [options] -- CMD [ARGS...]`. Its exit code is the command's (128 + n for a
 * signal), signals sent to it reach the command, and an interactive shell works on a terminal.
 */
import { execFile, spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { describeAsRoot } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { NOBODY, readablePackage } from './helpers/unprivileged';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');

function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

describe('nsbox CLI usage', () => {
  it('--help prints the usage; bad usage exits 2', async () => {
    expect((await cli(['run', '--help'])).stdout).toMatch(/^Usage: nsbox run/);
    expect((await cli(['run', '--bogus', '--', 'true'])).code).toBe(2);
    expect((await cli(['run'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
  });

  it('--help for nsbox and for each command, on stdout with exit 0; nsbox alone is usage on stderr, exit 2', async () => {
    const top = await cli(['--help']);
    expect(top).toMatchObject({ code: 0, stderr: '' });
    expect(top.stdout).toMatch(/^Usage: nsbox COMMAND/);
    expect(top.stdout).toMatch(/\n  run \[options\] \[--\] COMMAND/);
    expect(await cli(['-h'])).toEqual(top);
    expect(await cli(['help'])).toEqual(top);
    const run = await cli(['run', '--help']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    for (const flag of ['--rootfs DIR', '--no-init', '--nice N', '--cap-add CAP', '-V, --version']) expect(run.stdout).toContain(flag);
    expect(await cli(['run', '-h'])).toEqual(run);
    expect(await cli(['help', 'run'])).toEqual(run);
    expect(await cli(['run', '--hostname', 'x', '--help'])).toEqual(run);
    expect(await cli(['help', 'frobnicate'])).toMatchObject({ code: 2, stdout: '' });
    const alone = await cli([]);
    expect(alone).toMatchObject({ code: 2, stdout: '' });
    expect(alone.stderr).toBe(top.stdout);
  });

  it('both helps give the exit statuses, usage errors (2) included, as the README table has them', async () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const table = [...readme.matchAll(/^\| `(\d+(?:\+N)?|N)` \| /gm)].map((m) => m[1]);
    expect(table).toEqual(['N', '128+N', '2', '125', '126', '127']);
    for (const args of [['--help'], ['run', '--help']]) {
      const listed = [...(await cli(args)).stdout.split('Exit status:\n')[1]!.matchAll(/^  (\S+) /gm)].map((m) => m[1]);
      expect(listed).toEqual(table);
    }
  });

  it('usage errors name the flags, never the options of the API, each in one line', async () => {
    const bad = async (args: string[], stderr: string) => expect(await cli(['run', ...args, '--', 'true'])).toEqual({ code: 2, stdout: '', stderr: `nsbox: ${stderr}\n` });
    // outOfRange's shape
    await bad(['--nice', '99'], '--nice must be an integer from -20 to 19, got 99');
    await bad(['--hostname', 'x'.repeat(65)], `--hostname must be 1 to 64 bytes long, got '${'x'.repeat(40)}...'`);
    // invalidArgType's shape
    await bad(['--hostname', ''], "--hostname must be a non-empty string, got ''");
    await bad(['--ro-bind', '/tmp:/a', '--tmpfs', 'rel'], "--tmpfs rel: DST must be an absolute path, got 'rel'");
    await bad(['--bind', '/tmp:rel'], "--bind /tmp:rel: DST must be an absolute path, got 'rel'");
    // invalidArgValue's shape, and a path inside a --seccomp file
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-cli-'));
    try {
      const file = path.join(dir, 'bad.json');
      fs.writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_BOGUS' }));
      await bad(['--seccomp', file], `--seccomp ${file}: defaultAction must be an OCI seccomp action such as SCMP_ACT_ERRNO (SCMP_ACT_NOTIFY needs a listener nsbox does not offer), got 'SCMP_ACT_BOGUS'`);
      fs.writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 9, op: 'SCMP_CMP_EQ', value: 1 }] }] }));
      await bad(['--seccomp', file], `--seccomp ${file}: syscalls[0].args[0].index must be an integer from 0 to 5, got 9`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeAsRoot('nsbox run', () => {
  let rootfs: Rootfs;
  beforeAll(() => {
    rootfs = buildRootfs(['sh', 'ps', 'hostname', 'grep']);
  });
  afterAll(() => rootfs.remove());

  it('hardening flags: --cap-drop/--cap-add (Docker spellings), --no-seccomp, --seccomp FILE, --untrusted', async () => {
    const status = (args: string[]) => cli(['run', ...args, '--', '/bin/sh', '-c', 'grep -E "^(CapEff|Seccomp):" /proc/self/status']);
    expect((await status([])).stdout).toBe('CapEff:\t00000000800405fb\nSeccomp:\t2\n');
    expect((await status(['--cap-drop', 'ALL', '--cap-add', 'net_raw'])).stdout).toMatch(/^CapEff:\t0000000000002000\n/);
    expect((await status(['--cap-drop', 'CAP_CHOWN'])).stdout).toMatch(/^CapEff:\t00000000800405fa\n/);
    expect((await status(['--no-seccomp'])).stdout).toMatch(/Seccomp:\t0\n$/);
    const file = path.join(rootfs.dir, 'profile.json');
    fs.writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat', 'mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }] }));
    const mkdir = await cli(['run', '--seccomp', file, '--', '/bin/sh', '-c', 'mkdir /tmp/nsbox-cli-$$']);
    expect(mkdir.stderr).toMatch(/Function not implemented/);
    const untrusted = await cli(['run', '--untrusted', '--', '/bin/sh', '-c', 'grep CapEff /proc/self/status; touch /x']);
    expect(untrusted.stdout).toBe('CapEff:\t0000000000000000\n');
    expect(untrusted.stderr).toMatch(/Read-only file system/);
    expect((await cli(['run', '--cap-add', 'BOGUS', '--', 'true'])).code).toBe(2);
    expect((await cli(['run', '--seccomp', '/nonexistent.json', '--', 'true'])).code).toBe(2);
  });

  it('the demo: ps aux lists only PID 1 and ps', async () => {
    const r = await cli(['run', '--', 'ps', 'aux']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1])).toEqual(['1', '2']);
  });

  it('exit codes: the command own, 128+n for a signal, 127 not found, 125 setup failure', async () => {
    expect((await cli(['run', '--', 'sh', '-c', 'exit 7'])).code).toBe(7);
    expect((await cli(['run', '--', 'sh', '-c', 'kill -TERM $$'])).code).toBe(128 + 15);
    const missing = await cli(['run', '--', '/no/such/command']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toBe('nsbox: execute /no/such/command: ENOENT (no such file or directory)\n');
    const badRoot = await cli(['run', '--rootfs', '/no/such/rootfs', '--', '/bin/sh']);
    expect(badRoot.code).toBe(125);
    expect(badRoot.stderr).toMatch(/bind rootfs \/no\/such\/rootfs onto itself: ENOENT/);
    // A failed step of a mount is named by its flag, not by mounts[i].
    const badBind = await cli(['run', '--ro-bind', '/no/such/source:/tmp', '--', 'true']);
    expect(badBind).toMatchObject({ code: 125, stderr: 'nsbox: --ro-bind /no/such/source:/tmp: bind /no/such/source on /tmp: ENOENT (no such file or directory)\n' });
  });

  it('--rootfs, --hostname and --no-init', async () => {
    const r = await cli(['run', '--rootfs', rootfs.dir, '--hostname', 'clibox', '--no-init', '--', '/bin/sh', '-c', 'hostname; echo $$']);
    expect(r).toMatchObject({ code: 0, stdout: 'clibox\n1\n' });
  });

  it('--all and --user: every namespace, root inside', async () => {
    const r = await cli(['run', '--all', '--', 'sh', '-c', 'id -u; readlink /proc/self/ns/net /proc/self/ns/user']);
    const [uid, netns, userns] = r.stdout.trim().split('\n');
    expect(r.code).toBe(0);
    expect(uid).toBe('0');
    expect(netns).not.toBe(fs.readlinkSync('/proc/self/ns/net'));
    expect(userns).not.toBe(fs.readlinkSync('/proc/self/ns/user'));
  });

  it('--readonly-root and --no-new-privs', async () => {
    const r = await cli(['run', '--rootfs', rootfs.dir, '--readonly-root', '--no-new-privs', '--', '/bin/sh', '-c', 'echo x > /new 2>/dev/null || echo ro; grep NoNewPrivs /proc/self/status']);
    expect(r.stdout).toMatch(/^ro\nNoNewPrivs:\s+1\n$/);
  });

  it('--nice: the sandbox runs at that niceness; out of range is bad usage', async () => {
    expect(await cli(['run', '--rootfs', rootfs.dir, '--nice', '9', '--', '/bin/ps', '-e', '-o', 'ni='])).toMatchObject({ code: 0, stdout: '  9\n  9\n' });
    const bad = await cli(['run', '--nice', '99', '--', 'true']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('nsbox: --nice must be an integer from -20 to 19, got 99\n');
  });

  it('stdin reaches the command', async () => {
    expect((await cli(['run', '--', 'sh', '-c', 'read line; echo "got $line"'], 'hello\n')).stdout).toBe('got hello\n');
  });

  it('SIGTERM sent to nsbox reaches the command', async () => {
    const child = spawn(process.execPath, [CLI, 'run', '--', 'sh', '-c', 'trap "echo trapped; exit 4" TERM; echo ready; while :; do sleep 0.05; done']);
    let out = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += d.toString()), out.includes('ready') && resolve())));
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(4);
    expect(out).toContain('trapped');
  });

  it('run by another user than root, the demo works through a user namespace it adds itself', async () => {
    const pkg = readablePackage();
    try {
      const r = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
        execFile('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, path.join(pkg.dir, 'dist', 'cli.js'), 'run', '--', 'ps', 'aux'], (err, stdout, stderr) => {
          const code: unknown = err ? (err as { code?: unknown }).code : 0;
          resolve({ stdout, stderr, code: typeof code === 'number' ? code : -1 });
        });
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1])).toEqual(['1', '2']);
    } finally {
      pkg.remove();
    }
  });

  it('an interactive /bin/sh works on a terminal', async () => {
    // script(1) gives the CLI a pseudo-terminal, as a user's shell would.
    const command = `${process.execPath} ${CLI} run --rootfs ${rootfs.dir} -- /bin/sh -i`;
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('script', ['-qec', command, '/dev/null']);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => resolve({ code, out }));
      child.stdin.write('echo "pid=$$ sum=$((20+22))"\n');
      setTimeout(() => child.stdin.end('exit 5\n'), 300);
    });
    expect(r.out).toContain('pid=2 sum=42');
    expect(r.code).toBe(5);
  });
});
