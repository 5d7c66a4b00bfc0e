/**
 * The CLI speaks bubblewrap: a bwrap command line runs under nsbox by changing the program's
 * name. Its flags are applied in the order given (mounts, --perms/--size/--overlay-src modifiers,
 * the environment), a mount on '/' gives the root, --dry-run prints the plan, and bwrap's flags
 * nsbox does not offer are refused by name.
 */
import { execFile, execFileSync, spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { bwrapInstalled, describeAsRoot, inCI } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { dryRun } from '../lib/dry-run';
import type { DryRunPlan } from '../lib';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `fd3`, when given, is a file opened as the CLI's fd 3 (for --file 3 DEST). */
function cli(args: string[], fd3?: string): Promise<Result> {
  if (fd3 === undefined) {
    return new Promise((resolve) => {
      const child = execFile(process.execPath, [CLI, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
        const code: unknown = err ? (err as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
      });
      child.stdin?.end();
    });
  }
  const fd = fs.openSync(fd3, 'r');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe', fd], timeout: 20_000 });
    fs.closeSync(fd);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function plan(args: string[]): Promise<DryRunPlan> {
  const r = await cli(['run', '--dry-run', ...args]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as DryRunPlan;
}

const mountSteps = (p: DryRunPlan): string[] => [...new Set(p.steps.map((s) => s.step).filter((s) => s.startsWith('mounts[')))];

const CLASSIC = ['--ro-bind', '/', '/', '--tmpfs', '/tmp', '--proc', '/proc', '--dev', '/dev', '--unshare-pid'];

describe('nsbox run with bubblewrap flags: the plan (--dry-run)', () => {
  it("--dry-run prints dryRun's plan as JSON and runs nothing", async () => {
    const marker = path.join('/var/tmp', `nsbox-dry-run-${process.pid}`);
    const p = await plan([...CLASSIC, '--', 'sh', '-c', `touch ${marker}`]);
    expect(p.command).toBe('sh');
    expect(p.args).toEqual(['-c', `touch ${marker}`]);
    expect(p.clone).toEqual(expect.arrayContaining(['pid', 'mount']));
    const steps = p.steps.map((s) => s.step);
    expect(steps).toEqual(expect.arrayContaining(["copy the host's mount tree as the new root", 'make rootfs / read-only', 'mount proc on /proc', 'mount tmpfs on /dev', 'mounts[0]: tmpfs on /tmp', 'pivot_root into /']));
    expect(steps.indexOf('make rootfs / read-only')).toBeLessThan(steps.indexOf('mounts[0]: tmpfs on /tmp'));
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("the classic sandbox is { rootfs: '/', readonlyRoot: true, mounts: [tmpfs /tmp] }; without --proc/--dev the host's stay", async () => {
    const user = process.geteuid?.() !== 0 ? { user: true } : {};
    const ours = await plan([...CLASSIC, '--', 'sh']);
    const api = dryRun('sh', [], { rootfs: '/', readonlyRoot: true, mounts: [{ type: 'tmpfs', target: '/tmp' }], pid: true, stdio: 'inherit', newSession: true, ...user });
    expect(ours.steps.map((s) => s.step)).toEqual(api.steps.map((s) => s.step));
    const bare = (await plan(['--ro-bind', '/', '/', '--', 'sh'])).steps.map((s) => s.step);
    expect(bare).not.toContain('mount proc on /proc');
    expect(bare).not.toContain('mount tmpfs on /dev');
    // --bind DIR / is that rootfs; --bind / / the host's tree, writable.
    const dir = fs.mkdtempSync('/var/tmp/nsbox-97-');
    try {
      expect((await plan(['--bind', dir, '/', '--', 'sh'])).steps.map((s) => s.step)).toContain(`bind rootfs ${dir} onto itself`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect((await plan(['--bind', '/', '/', '--', 'sh'])).steps.map((s) => s.step)).not.toContain('make rootfs / read-only');
    expect((await plan(['--bind', '/', '/', '--remount-ro', '/', '--', 'sh'])).steps.map((s) => s.step)).toContain('make rootfs / read-only');
  });

  it('mounts in the order given, with --perms, --size and --overlay-src applied to the next operation', async () => {
    const p = await plan([
      '--ro-bind', '/', '/', '--bind', '/var', '/mnt/var', '--ro-bind-try', '/no/such', '/mnt/none', '--perms', '0700', '--size', '4096', '--tmpfs', '/mnt/t', '--dir', '/mnt/t/d',
      '--perms', '750', '--dir', '/mnt/t/e', '--symlink', '/usr/bin', '/mnt/t/bin', '--mqueue', '/mnt/mq', '--chmod', '0711', '/mnt/t/d',
      '--overlay-src', '/usr', '--overlay-src', '/etc', '--tmp-overlay', '/mnt/o', '--remount-ro', '/mnt/var', '--', 'true',
    ]);
    expect(mountSteps(p)).toEqual([
      'mounts[0]: bind /var on /mnt/var',
      'mounts[1]: ro-bind /no/such on /mnt/none',
      'mounts[1]: make /mnt/none read-only',
      'mounts[2]: tmpfs on /mnt/t',
      'mounts[3]: dir /mnt/t/d',
      'mounts[4]: dir /mnt/t/e',
      'mounts[5]: symlink /mnt/t/bin -> /usr/bin',
      'mounts[6]: mqueue on /mnt/mq',
      'mounts[7]: chmod 711 /mnt/t/d',
      // bwrap's layers are bottom to top: the last --overlay-src is the topmost.
      'mounts[8]: overlay /etc:/usr on /mnt/o',
      'mounts[9]: remount /mnt/var read-only',
    ]);
    const tmpfs = p.steps.find((s) => s.step === 'mounts[2]: tmpfs on /mnt/t' && s.op === 'mount')!;
    expect(tmpfs.args).toContain('size=4096,mode=700');
    const modes = p.steps.filter((s) => s.op === 'chmod').map((s) => s.step);
    expect(modes).toEqual(['mounts[3]: dir /mnt/t/d', 'mounts[4]: dir /mnt/t/e', 'mounts[7]: chmod 711 /mnt/t/d']);
  });

  it('environment flags apply in order, from this environment', async () => {
    expect((await plan(['--setenv', 'A', '1', '--clearenv', '--setenv', 'B', '2', '--setenv', 'C', '3', '--unsetenv', 'B', '--', 'env'])).env).toEqual(['C=3']);
    const kept = (await plan(['--setenv', 'NSBOX_97', 'x y', '--unsetenv', 'HOME', '--', 'env'])).env!;
    expect(kept).toContain('NSBOX_97=x y');
    expect(kept.some((e) => e.startsWith('HOME='))).toBe(false);
    expect(kept).toContain(`PATH=${process.env.PATH}`);
    expect((await plan(['--', 'env'])).env).toBeUndefined();
  });

  it('--uid, --gid, --chdir, --hostname, --unshare-*, --as-pid-1, --die-with-parent', async () => {
    const p = await plan(['--unshare-user', '--uid', '1000', '--gid', '1001', '--chdir', '/tmp', '--unshare-uts', '--hostname', 'box', '--unshare-ipc', '--unshare-net', '--unshare-cgroup', '--as-pid-1', '--die-with-parent', '--', 'id']);
    const steps = p.steps.map((s) => s.step);
    expect(steps).toEqual(expect.arrayContaining(['become uid 1000 gid 1001', 'chdir to /tmp', 'set hostname to box', 'bring up lo']));
    expect([...p.clone, ...p.unshare].sort()).toEqual(['cgroup', 'ipc', 'mount', 'net', 'pid', 'user', 'uts']);
    expect(p.init).toBe(false);
    const all = await plan(['--unshare-all', '--share-net', '--', 'id']);
    expect([...all.clone, ...all.unshare].sort()).toEqual(['cgroup', 'ipc', 'mount', 'pid', 'user', 'uts']);
  });

  it("nsbox's SRC:DST form stays when the word holds ':' and a flag, -- or nothing follows; else SRC DEST", async () => {
    expect(mountSteps(await plan(['--ro-bind', '/var:/a', '--', 'true']))).toEqual(['mounts[0]: bind /var on /a', 'mounts[0]: make /a read-only']);
    expect(mountSteps(await plan(['--bind', '/var:/a', '--tmpfs', '/b', 'true']))).toEqual(['mounts[0]: bind /var on /a', 'mounts[1]: tmpfs on /b']);
    expect(mountSteps(await plan(['--ro-bind', '/var', '/a', 'true']))).toEqual(['mounts[0]: ro-bind /var on /a', 'mounts[0]: make /a read-only']);
  });

  it("--file, --bind-data and --ro-bind-data read the fd's content", async () => {
    const dir = fs.mkdtempSync('/var/tmp/nsbox-97-');
    try {
      const file = path.join(dir, 'content');
      fs.writeFileSync(file, 'hello from fd 3\n');
      const r = await cli(['run', '--dry-run', '--ro-bind', '/', '/', '--tmpfs', '/srv', '--perms', '0640', '--file', '3', '/srv/greeting', '--', 'true'], file);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      const write = (JSON.parse(r.stdout) as DryRunPlan).steps.find((s) => s.op === 'writeFile')!;
      expect(write.step).toBe('mounts[1]: file /srv/greeting');
      const bad = await cli(['run', '--file', '200', '/etc/x', '--', 'true']);
      expect(bad).toMatchObject({ code: 2, stdout: '' });
      expect(bad.stderr).toBe('nsbox: --file 200 /etc/x: cannot read fd 200: EBADF\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("bubblewrap's flags nsbox does not offer are refused by name (exit 2); misplaced modifiers too", async () => {
    for (const args of [['--lock-file', '/x'], ['--userns', '3'], ['--seccomp', '3'], ['--info-fd', '3'], ['--unshare-user-try'], ['--overlay-src', '/usr', '--ro-overlay', '/x'], ['--args', '3']]) {
      const r = await cli(['run', ...args, '--', 'true']);
      expect(r).toMatchObject({ code: 2, stdout: '' });
      const name = args.find((a) => a !== '--overlay-src' && a.startsWith('--'))!;
      expect(r.stderr).toContain(`bubblewrap's ${name} `);
      expect(r.stderr).toMatch(/not supported by nsbox run/);
    }
    const bad = async (args: string[], stderr: RegExp) => {
      const r = await cli(['run', ...args, '--', 'true']);
      expect(r).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr).toMatch(stderr);
    };
    await bad(['--perms', '0700', '--proc', '/proc'], /^nsbox: --perms must be followed by an operation that creates a file .*, not --proc\n$/);
    await bad(['--size', '100', '--dir', '/x'], /^nsbox: --size must be followed by --tmpfs, not --dir\n$/);
    await bad(['--overlay-src', '/usr', '--tmpfs', '/x'], /^nsbox: --overlay-src must be followed by/);
    await bad(['--tmp-overlay', '/x'], /needs at least one --overlay-src/);
    await bad(['--perms', '999', '--dir', '/x'], /--perms takes an octal mode/);
    await bad(['--uid', 'bob'], /--uid takes a number/);
    // Without a root given, the root is the host's own tree: nothing may be written into it.
    for (const args of [['--file', '0', '/etc/nsbox-97'], ['--dir', '/var/nsbox-97'], ['--symlink', 'x', '/var/nsbox-97'], ['--chmod', '0777', '/etc']]) {
      await bad(args, new RegExp(`^nsbox: ${args.join(' ')}: would change the host's own files, as no root is given`));
    }
    expect(fs.existsSync('/etc/nsbox-97') || fs.existsSync('/var/nsbox-97')).toBe(false);
    await bad(['--tmpfs', '/'], /--tmpfs \/: nsbox cannot make '\/' this way/);
    await bad(['--ro-bind', '/', '/', '--bind', '/var', '/'], /--bind \/var \/: the root is already given by --ro-bind \/ \//);
    expect(await cli(['run', '--bind', '/var'])).toEqual({ code: 2, stdout: '', stderr: 'nsbox: --bind takes 2 values (nsbox run --help)\n' });
    await bad(['--tmpfs', 'rel'], /^nsbox: --tmpfs rel: DST must be an absolute path, got 'rel'\n$/);
  });

  it('--help lists the bubblewrap flags, --dry-run and the differences', async () => {
    const help = (await cli(['run', '--help'])).stdout;
    for (const flag of ['--dry-run', '--bind SRC DEST', '--overlay-src SRC', '--tmp-overlay DEST', '--setenv VAR VALUE', '--unshare-all', '--as-pid-1', '--perms OCTAL', '--file FD DEST', '--ro-bind / /']) expect(help).toContain(flag);
  });
});

const haveBwrap = bwrapInstalled();

describeAsRoot('nsbox run with bubblewrap flags: what the command sees', () => {
  let work: string;
  let script: string;
  let rootfs: Rootfs;
  beforeAll(() => {
    // Readable where both sandboxes look: not under /tmp, which they replace.
    work = fs.mkdtempSync('/var/tmp/nsbox-97-');
    fs.chmodSync(work, 0o755);
    script = path.join(work, 'what-it-sees.sh');
    fs.copyFileSync(path.join(__dirname, 'helpers', 'what-it-sees.sh'), script);
    rootfs = buildRootfs(['sh', 'awk', 'sed', 'grep', 'tr', 'tail', 'touch', 'id', 'cat', 'stat']);
  });
  afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
    rootfs.remove();
  });

  it("bwrap's classic sandbox: the root read-only, /tmp writable, a PID namespace", async () => {
    const r = await cli(['run', ...CLASSIC, '--', 'sh', '-c', 'touch /etc/x; touch /tmp/y && echo ok; echo $$']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ok\n2\n');
    expect(r.stderr).toMatch(/\/etc\/x.*Read-only file system/);
    expect(fs.existsSync('/etc/x')).toBe(false);
    expect((await cli(['run', ...CLASSIC, '--as-pid-1', '--', 'sh', '-c', 'echo $$'])).stdout).toBe('1\n');
  });

  it('the environment flags, in order, are what the command gets', async () => {
    const r = await cli(['run', '--setenv', 'A', '1', '--clearenv', '--setenv', 'B', '2', '--setenv', 'C', '3', '--unsetenv', 'B', '--', '/usr/bin/env']);
    expect(r).toEqual({ code: 0, stdout: 'C=3\n', stderr: '' });
  });

  it('--file with --perms, --ro-bind-data, --uid/--gid, --chdir and --hostname inside', async () => {
    const content = path.join(work, 'content');
    fs.writeFileSync(content, 'hello from fd 3\n');
    const r = await cli(['run', ...CLASSIC, '--perms', '0640', '--file', '3', '/tmp/f', '--unshare-uts', '--hostname', 'bwrapbox', '--chdir', '/tmp', '--', 'sh', '-c', 'cat f; stat -c %a f; hostname; pwd'], content);
    expect(r).toEqual({ code: 0, stdout: 'hello from fd 3\n640\nbwrapbox\n/tmp\n', stderr: '' });
    const ro = await cli(['run', ...CLASSIC, '--ro-bind-data', '3', '/tmp/g', '--', 'sh', '-c', 'cat /tmp/g; stat -c %a /tmp/g; echo x >> /tmp/g || echo refused'], content);
    expect(ro.stdout).toBe('hello from fd 3\n600\nrefused\n');
    const who = await cli(['run', ...CLASSIC, '--unshare-user', '--uid', '1000', '--gid', '1000', '--', 'sh', '-c', 'id -u; id -g']);
    expect(who).toEqual({ code: 0, stdout: '1000\n1000\n', stderr: '' });
  });

  it('--bind ROOTFS / with --ro-bind, --dir, --symlink and --tmp-overlay', async () => {
    const lower = path.join(work, 'lower');
    fs.mkdirSync(lower, { recursive: true });
    fs.writeFileSync(path.join(lower, 'a'), 'layer\n');
    const r = await cli([
      'run', '--bind', rootfs.dir, '/', '--ro-bind', work, work, '--proc', '/proc', '--dev', '/dev', '--dir', '/made/here', '--symlink', 'made', '/link',
      '--overlay-src', lower, '--tmp-overlay', '/ov', '--', '/bin/sh', '-c', `cat /ov/a; echo new > /ov/b && cat /ov/b; [ -d /link/here ] && echo /link/here; touch ${work}/x 2>/dev/null || echo ro`,
    ]);
    expect(r).toEqual({ code: 0, stdout: `layer\nnew\n/link/here\nro\n`, stderr: '' });
    expect(fs.existsSync(path.join(lower, 'b'))).toBe(false);
  });

  // The same command line, run by bwrap and by nsbox: the same mounts, types, read-only flags,
  // writes and uid.
  (haveBwrap || inCI ? it : it.skip)('a bwrap command line runs under nsbox by changing the name', async () => {
    const lines = [
      [...CLASSIC],
      ['--bind', rootfs.dir, '/', '--ro-bind', work, work, '--proc', '/proc', '--dev', '/dev', '--unshare-pid'],
      [...CLASSIC, '--unshare-user', '--uid', '1000', '--gid', '1000'],
    ];
    for (const line of lines) {
      const theirs = execFileSync('bwrap', [...line, 'sh', script], { encoding: 'utf8' });
      const ours = await cli(['run', ...line, 'sh', script]);
      expect(ours.stderr).toBe('');
      expect(ours.stdout).toBe(theirs);
    }
  });
});
