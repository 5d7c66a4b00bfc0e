/**
 * The escape suite: a static attacker (helpers/escape.c) tries each known way out from inside a
 * sandbox, as root and as uid 65534, with the defaults and with `preset: 'untrusted'`. Each attempt
 * must fail with its specific refusal. The same attempts with `capabilities: 'all', seccomp: false`
 * succeed where the kernel allows them: the suite proves it can fail. Nothing is written to the
 * host: sysctl and cgroup files are only opened for writing, and what the attacker creates lives in
 * the sandbox's temporary rootfs.
 */
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import fs from 'fs';
import path from 'path';
import { describeAsRoot } from './helpers/privilege';
import { buildRootfs, type Rootfs } from './helpers/rootfs';
import { readablePackage, runAsNobody, type ReadablePackage } from './helpers/unprivileged';

/** What the attacker printed for each attempt ("EPERM", "ok ...", or how it ended). */
type Outcomes = Record<string, string>;

/** The attempts, each with the options that set it up (host-root mode where a rootfs would hide it). */
const ATTEMPTS: Record<string, { args?: string[]; hostRoot?: boolean; options?: object }> = {
  shocker: {},
  core_pattern: {},
  sysfs: {},
  cgroup: {},
  mknod: { args: ['/tmp/escape-sda'] },
  remount: { options: { readonlyRoot: true } },
  tiocsti: {},
  'tiocsti-high': {},
  'umount-proc': { hostRoot: true },
  keyring: {},
  'ptrace-init': {},
  'init-environ': {},
  'init-exe': {},
  unshare: {},
  x32: {},
  chroot: {},
  abstract: { options: { net: true } },
};

/** Runs every attempt with `mode` (as whoever runs this); `escape` is the attacker on the host, `rootfs` holds a copy. */
const RUN_ALL = `
async function runAll(nsbox, rootfs, escape, socket, mode) {
  const out = {};
  for (const [name, a] of Object.entries(ATTEMPTS)) {
    const where = a.hostRoot ? { } : { rootfs };
    const file = a.hostRoot ? escape : '/bin/escape';
    // Paths made unique per run: an earlier control run may have created them in the rootfs.
    const args = [name, ...(a.args ?? (name === 'abstract' ? [socket] : [])).map((x) => (x.startsWith('/') ? x + '-' + process.pid + '-' + Math.random().toString(36).slice(2) : x))];
    const child = nsbox.spawnIsolated(file, args, { ...where, ...a.options, ...mode, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.resume();
    const end = await child.exited.then((r) => r, (e) => ({ error: e.code }));
    out[name] = text.trim().replace(name + ' ', '') || (end.signal ? 'killed by ' + end.signal : JSON.stringify(end));
  }
  return out;
}`;

// eslint-disable-next-line @typescript-eslint/no-implied-eval
const runAll = new Function('ATTEMPTS', `${RUN_ALL}; return runAll;`)(ATTEMPTS) as (
  nsbox: unknown,
  rootfs: string,
  escape: string,
  socket: string,
  mode: object,
) => Promise<Outcomes>;

/** The refusals every hardened sandbox must give, root or not, defaults or preset. */
function expectRefused(o: Outcomes, hostEntries: string[], nobodyOutside = false): void {
  expect(o).toMatchObject({
    shocker: 'EPERM', // open_by_handle_at: seccomp, and no CAP_DAC_READ_SEARCH
    // /proc/sys is read-only; where root inside is nobody outside, not even its owner.
    core_pattern: nobodyOutside ? 'EACCES' : 'EROFS',
    sysfs: 'EPERM',
    cgroup: 'EPERM', // no fresh cgroup v1 hierarchy, so no release_agent (CVE-2022-0492)
    mknod: 'EPERM',
    remount: 'EPERM', // readonlyRoot cannot be undone
    tiocsti: 'EPERM', // CVE-2017-5226
    'tiocsti-high': 'EPERM', // the request compared on 32 bits (CVE-2019-10063)
    'umount-proc': 'EPERM', // the host's processes stay hidden
    keyring: 'EPERM', // keyctl is filtered; the keyring is the sandbox's own anyway
    'ptrace-init': 'EPERM',
    'init-environ': 'EACCES', // PID 1 is not dumpable
    'init-exe': 'EACCES', // nor its sealed executable
    unshare: 'EPERM',
    x32: 'killed by SIGSYS', // another ABI: the filter kills the process
    abstract: 'ECONNREFUSED', // net: true hides the host's abstract sockets
  });
  // chroot is allowed with the default capabilities (CAP_SYS_CHROOT), but the classic escape from
  // it ends at the sandbox's root; without the capability (the preset), it is refused.
  expect(o.chroot).toMatch(/^(ok |EPERM$|EACCES$)/);
  for (const entry of hostEntries) expect(o.chroot.replace(/^ok /, '').split(',')).not.toContain(entry);
}

describeAsRoot('escapes', () => {
  let rootfs: Rootfs;
  let work: string;
  let escape: string;
  let pkg: ReadablePackage;
  let server: ChildProcess;
  const socket = `nsbox-escape-${process.pid}`;
  // Entries of the host's / that a rootfs built from host binaries does not have.
  const hostOnly = fs.readdirSync('/').filter((e) => ['home', 'root', 'sys', 'var', 'srv', 'opt', 'boot'].includes(e));

  beforeAll(async () => {
    rootfs = buildRootfs(['sh']);
    // Not under /tmp: the preset mounts a private /tmp over it, and host-root attempts run this.
    work = fs.mkdtempSync('/var/tmp/nsbox-escape-');
    fs.chmodSync(work, 0o755);
    escape = path.join(work, 'escape');
    execFileSync('gcc', ['-static', '-O2', '-Wall', '-o', escape, path.join(__dirname, 'helpers', 'escape.c')]);
    fs.copyFileSync(escape, path.join(rootfs.dir, 'bin', 'escape'));
    fs.chmodSync(path.join(rootfs.dir, 'bin', 'escape'), 0o755);
    fs.chmodSync(path.join(rootfs.dir, 'tmp'), 0o1777);
    pkg = readablePackage();
    // A host service on an abstract unix socket (Node cannot bind one): the attacker's target.
    server = spawn(escape, ['listen', socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => server.stdout?.once('data', resolve));
  });
  afterAll(async () => {
    server.kill('SIGKILL');
    await new Promise((resolve) => server.once('exit', resolve));
    rootfs.remove();
    pkg.remove();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const nsbox = (): unknown => require('../lib') as unknown;

  it('as root, with the defaults: every attempt refused, each with its own errno', async () => {
    expectRefused(await runAll(nsbox(), rootfs.dir, escape, socket, {}), hostOnly);
  });

  it("as root, with preset: 'untrusted': every attempt refused", async () => {
    const o = await runAll(nsbox(), rootfs.dir, escape, socket, { preset: 'untrusted' });
    expectRefused(o, hostOnly, true);
  });

  it('a setuid-root binary in the rootfs gives root back to nobody: no_new_privs (control: noNewPrivileges: false)', async () => {
    const suid = path.join(rootfs.dir, 'bin', 'escape-suid');
    fs.copyFileSync(escape, suid);
    fs.chmodSync(suid, 0o4755);
    const attempt = async (options: object): Promise<string> => {
      const r = (nsbox() as { spawnIsolated: (c: string, a: string[], o: object) => { stdout: NodeJS.ReadableStream; exited: Promise<unknown> } }).spawnIsolated('/bin/escape', ['setuid', '/bin/escape-suid'], { rootfs: rootfs.dir, ...options });
      let text = '';
      r.stdout.on('data', (d: Buffer) => (text += d));
      await r.exited;
      return text.trim();
    };
    expect(await attempt({})).toBe('setuid kept-out');
    expect(await attempt({ noNewPrivileges: false })).toBe('setuid ok euid 0');
  });

  it('nsbox run on a terminal shares it with the command: TIOCSTI into it is refused (control: --no-seccomp)', () => {
    const ptyRun = path.join(work, 'pty-run');
    execFileSync('gcc', ['-O2', '-Wall', '-o', ptyRun, path.join(__dirname, 'helpers', 'pty-run.c')]);
    const cli = path.join(__dirname, '..', 'dist', 'cli.js');
    const run = (flags: string[]): string => execFileSync(ptyRun, [process.execPath, cli, 'run', ...flags, '--', escape, 'tiocsti-tty'], { encoding: 'utf8' });
    expect(run([])).toMatch(/^tiocsti-tty EPERM\r?$/m);
    if (fs.readFileSync('/proc/sys/dev/tty/legacy_tiocsti', 'utf8').trim() === '1') expect(run(['--no-seccomp'])).toMatch(/tiocsti-tty ok\r?$/m); // the pushed byte echoes first
  });

  it('control: with capabilities: all and seccomp: false the same attacks work, as root', async () => {
    const o = await runAll(nsbox(), rootfs.dir, escape, socket, { capabilities: 'all', seccomp: false });
    expect(o.shocker).toMatch(/^ok /); // the host's root directory, read through a file handle
    for (const entry of hostOnly) expect(o.shocker).toContain(entry);
    expect(o).toMatchObject({ core_pattern: 'ok', sysfs: 'ok', cgroup: 'ok', mknod: 'ok', remount: 'ok', tiocsti: 'ok', 'tiocsti-high': 'ok' });
    expect(o['umount-proc']).toMatch(/^ok \d+ processes$/);
    expect(Number(/\d+/.exec(o['umount-proc'])?.[0])).toBeGreaterThan(5); // the host's processes again
    expect(o).toMatchObject({ 'ptrace-init': 'ok', 'init-environ': 'ok', unshare: 'ok', x32: 'ENOSYS' });
    expect(o.keyring).toMatch(/^ok \d+$/);
    // Its own session keyring: not the one this host's processes share.
    const host = execFileSync(escape, ['keyring'], { encoding: 'utf8' }).trim();
    expect(host).toMatch(/^keyring ok \d+$/);
    expect(o.keyring).not.toBe(host.replace('keyring ', ''));
    // The executable of PID 1 is a sealed memfd: even this cannot open it for writing.
    expect(o['init-exe']).toMatch(/^(ETXTBSY|EPERM|EACCES)$/);
    // The host's abstract sockets, without a network namespace of its own.
    const shared = await runAll(nsbox(), rootfs.dir, escape, socket, { capabilities: 'all', seccomp: false, net: false });
    expect(shared.abstract).toBe('ok');
  });

  it('as uid 65534 (rootless), with the defaults and with the preset: every attempt refused', async () => {
    for (const mode of [{ user: true }, { preset: 'untrusted' }]) {
      const r = await runAsNobody(
        pkg,
        `const ATTEMPTS = ${JSON.stringify(ATTEMPTS)};\n${RUN_ALL}\nout(await runAll(nsbox, ${JSON.stringify(rootfs.dir)}, ${JSON.stringify(escape)}, ${JSON.stringify(socket)}, ${JSON.stringify(mode)}));`,
        60_000,
      );
      expect(r.stderr).toBe('');
      const o = JSON.parse(r.stdout.trim()) as Outcomes;
      expectRefused(o, hostOnly, true);
    }
  });
});
