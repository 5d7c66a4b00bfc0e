/**
 * Option parsing and plan building: pure code, no syscalls, so this is the one suite that needs
 * no privilege. Every bad option must throw before anything runs.
 */
import { resolveOptions } from '../lib/options';
import { encodePlan } from '../lib/plan';
import { buildRequest } from '../lib/request';
import { spawnIsolated } from '../lib';
import { CLONE_FLAGS, MOUNT_FLAGS, WIRE } from '../lib/constants';

function request(options: object, command = '/bin/true', args: string[] = []) {
  return buildRequest(command, args, resolveOptions(command, args, options));
}

function plan(options: object, command = '/bin/true', args: string[] = []) {
  return request(options, command, args).plan;
}

/** The steps of a plan but the hardening ones (masked /proc, keyring, capabilities), tested apart. */
const HARDENING = new Set(['mask', 'keyring', 'caps', 'seccomp', 'ensure']);
function setup(p: { steps: { op: string; describe: string }[] }): { op: string; describe: string }[] {
  return p.steps.filter((s) => !HARDENING.has(s.op));
}

/** Every namespace the request creates, at clone or by the clone child. */
function created(options: object): number {
  const r = request(options);
  return r.cloneFlags | r.unshareFlags;
}

describe('option validation', () => {
  it.each([
    ['unknown option', { pidd: true }, TypeError, 'ERR_NSBOX_UNKNOWN_OPTION'],
    ['non-boolean pid', { pid: 'yes' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['empty rootfs', { rootfs: '' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['rootfs without mount', { rootfs: '/tmp', mount: false }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['proc without mount', { proc: true, mount: false }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['dev without rootfs', { dev: true }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['hostname with uts off', { hostname: 'x', uts: false }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['hostname too long', { hostname: 'x'.repeat(65) }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['negative timeout', { timeout: -1 }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['nice above 19', { nice: 20 }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['fractional nice', { nice: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['nice as a string', { nice: '5' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['unknown killSignal', { killSignal: 'SIGNOPE' }, TypeError, 'ERR_UNKNOWN_SIGNAL'],
    ['bad stdio name', { stdio: ['pipe', 'file'] }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['too many stdio entries', { stdio: new Array(65).fill('ignore') }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['env with NUL', { env: { A: 'x\0y' } }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['bad signal', { signal: {} }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['unknown namespace kind', { namespaces: ['pid', 'nope'] }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['time offset not a number', { time: { boottimeOffset: 'x' } }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['domainname with uts off', { domainname: 'd', uts: false }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['veth without a prefix', { net: { veth: { host: '10.0.0.1', inside: '10.0.0.2/30' } } }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['veth name too long', { net: { veth: { host: '10.0.0.1/30', inside: '10.0.0.2/30', hostName: 'x'.repeat(16) } } }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['foreground in a new session', { foreground: true }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['maps with user off', { user: false, uidMap: [{ inside: 0, outside: 1, count: 1 }] }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['map with zero count', { uidMap: [{ inside: 0, outside: 1, count: 0 }] }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['mount without target', { rootfs: '/tmp', mounts: [{ type: 'tmpfs', target: 'rel' }] }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['mount of unknown type', { rootfs: '/tmp', mounts: [{ type: 'nfs', target: '/x' }] }, TypeError, 'ERR_INVALID_ARG_VALUE'],
  ])('%s throws', (_name, options, type, code) => {
    let thrown: unknown;
    try {
      resolveOptions('/bin/true', [], options);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(type);
    expect((thrown as { code: string }).code).toBe(code);
  });

  it('rejects a bad command and bad args', () => {
    expect(() => resolveOptions('', [], {})).toThrow(TypeError);
    expect(() => resolveOptions('/bin/true', ['ok', 3], {})).toThrow(/args\[1\]/);
    expect(() => resolveOptions('/bin/true', ['a\0b'], {})).toThrow(/null bytes/);
  });

  it('spawnIsolated throws synchronously for bad options, before running anything', () => {
    expect(() => spawnIsolated('/bin/true', [], { nope: 1 } as never)).toThrow(TypeError);
  });

  it('fills in the defaults', () => {
    const o = resolveOptions('ps', ['aux'], {});
    expect(o).toMatchObject({ pid: true, mount: true, uts: false, ipc: false, proc: true, dev: false, init: true, dieWithParent: true, newSession: true });
    expect(o.stdio).toEqual(['pipe', 'pipe', 'pipe']);
    expect(o.killSignal).toBe(15);
    expect(o.argv0).toBe('ps');
    expect(resolveOptions('ps', [], { rootfs: 'rel' }).rootfs).toBe(`${process.cwd()}/rel`);
    expect(resolveOptions('ps', [], { rootfs: '/r' }).dev).toBe(true);
    expect(resolveOptions('ps', [], { hostname: 'h' }).uts).toBe(true);
    expect(resolveOptions('ps', [], { stdio: 'inherit' }).stdio).toEqual([0, 1, 2]);
    expect(resolveOptions('ps', [], { stdio: ['ignore', null, 'inherit', undefined] }).stdio).toEqual(['ignore', 'pipe', 2, 'ignore']);
    expect(resolveOptions('ps', [], { env: { A: '1', B: undefined } }).env).toEqual(['A=1']);
    expect(resolveOptions('ps', [], { rootfs: '/r', cwd: 'sub' }).cwd).toBe('/sub');
  });
});

describe('plan building', () => {
  it('host root: private /, fresh /proc, then exec', () => {
    const p = plan({});
    expect(setup(p).map((s) => s.describe)).toEqual([
      'make / private (no propagation to the host)',
      'mount proc on /proc',
      'execute /bin/true',
    ]);
    expect(created({})).toBe(CLONE_FLAGS.pid | CLONE_FLAGS.mount);
    expect(p.options).toBe(WIRE.options.init | WIRE.options.setsid | WIRE.options.dieWithParent | WIRE.options.inheritEnv | WIRE.options.noNewPrivs);
    expect(plan({ env: { A: '1' } }).options & WIRE.options.inheritEnv).toBe(0);
    expect(p.steps[1].flags).toBe(MOUNT_FLAGS.nosuid | MOUNT_FLAGS.nodev | MOUNT_FLAGS.noexec);
  });

  it('rootfs: bind, proc and /dev under the new root, then pivot_root', () => {
    const p = plan({ rootfs: '/srv/root', hostname: 'box', cwd: '/tmp' });
    const words = setup(p).map((s) => s.describe);
    expect(words.slice(0, 4)).toEqual([
      'make / private (no propagation to the host)',
      'bind rootfs /srv/root onto itself',
      'open rootfs /srv/root',
      'mount proc on /proc',
    ]);
    expect(words).toContain('mount devpts on /dev/pts');
    expect(words.indexOf('pivot_root into /srv/root')).toBeLessThan(words.indexOf('set hostname to box'));
    expect(words.slice(-2)).toEqual(['chdir to /tmp', 'execute /bin/true']);
    // Everything under the rootfs is resolved beneath it, never through host paths.
    for (const s of p.steps.filter((s) => s.op === 'mount' && String(s.strings[1]).startsWith('/dev'))) expect(s.b).toBe(WIRE.inRoot);
    expect(created({ rootfs: '/srv/root', hostname: 'box' }) & CLONE_FLAGS.uts).toBeTruthy();
  });

  it('without a PID namespace there is no fresh /proc', () => {
    expect(setup(plan({ pid: false })).map((s) => s.op)).toEqual(['mount', 'exec']);
    expect(setup(plan({ mount: false })).map((s) => s.op)).toEqual(['exec']);
  });

  it("namespaces: 'all' and time offsets", () => {
    const all = plan({ namespaces: 'all' });
    for (const ns of ['pid', 'mount', 'uts', 'ipc', 'net', 'user', 'cgroup'] as const) expect(created({ namespaces: 'all' }) & CLONE_FLAGS[ns]).toBeTruthy();
    expect(all.steps.map((s) => s.describe)).toEqual(expect.arrayContaining(['bring up lo', 'create time namespace']));
    const offsets = plan({ time: { monotonicOffset: 1.5, boottimeOffset: -2.25 } }).steps.find((s) => s.op === 'timeNs');
    expect(offsets?.strings).toEqual(['monotonic 1 500000000\nboottime -3 750000000\n']);
    expect(created({ namespaces: ['net'], hostname: 'h' })).toBe(CLONE_FLAGS.net | CLONE_FLAGS.uts);
  });

  it('a veth is a net namespace, lo, and the inside end configured by the helper', () => {
    const o = resolveOptions('/bin/true', [], { net: { veth: { host: '10.9.0.1/30', inside: '10.9.0.2/30' } } });
    expect(o.net).toBe(true);
    expect(o.veth).toMatchObject({ insideName: 'eth0', hostAddress: '10.9.0.1', hostPrefix: 30, insideAddress: '10.9.0.2', insidePrefix: 30 });
    expect(o.veth?.hostName).toMatch(/^nsb\d+-\d+$/);
    const steps = buildRequest('/bin/true', [], o).plan.steps;
    expect(steps.find((s) => s.op === 'ifaceUp')?.strings).toEqual(['eth0', '10.9.0.2']);
  });

  it('read-only binds are a bind plus a recursive read-only step', () => {
    const p = plan({ rootfs: '/r', dev: false, mounts: [{ type: 'bind', source: '/etc', target: '/etc', readonly: true }] });
    const readonly = p.steps.find((s) => s.describe === 'mounts[0]: make /etc read-only');
    expect(readonly).toMatchObject({ op: 'readonly', strings: ['/etc'], b: WIRE.inRoot });
  });

  it('decides in the request which namespaces clone() makes and which the child unshares', () => {
    const r = request({ namespaces: 'all' });
    expect(r.cloneFlags).toBe(CLONE_FLAGS.user | CLONE_FLAGS.pid | CLONE_FLAGS.mount);
    expect(r.unshareFlags).toBe(CLONE_FLAGS.uts | CLONE_FLAGS.ipc | CLONE_FLAGS.net | CLONE_FLAGS.cgroup);
    const veth = request({ net: { veth: { host: '10.9.0.1/30', inside: '10.9.0.2/30' } } });
    expect(veth.cloneFlags & CLONE_FLAGS.net).toBeTruthy();
    expect(veth.plan.options & WIRE.options.waitParent).toBeTruthy();
  });

  it('hardening: /proc masked after it is mounted, a keyring, the capabilities kept, in that order before exec', () => {
    const p = plan({ rootfs: '/r' });
    const ops = p.steps.map((s) => s.op);
    const proc = p.steps.findIndex((s) => s.describe === 'mount proc on /proc');
    expect(ops.indexOf('mask')).toBe(proc + 1);
    expect(p.steps.filter((s) => s.op === 'mask').map((s) => [s.strings[0], s.a])).toEqual(expect.arrayContaining([['/proc/kcore', 0], ['/proc/sys', 1], ['/proc/sysrq-trigger', 1]]));
    expect(ops.slice(-3)).toEqual(['keyring', 'caps', 'exec']);
    const caps = p.steps.find((s) => s.op === 'caps');
    expect(caps).toMatchObject({ flags: 0x800405fb, a: 0 }); // Podman's set, not ambient
    // Asked by name: raised ambient too. CAP_SYS_ADMIN: /proc is left as it is.
    const admin = plan({ rootfs: '/r', capabilities: ['CAP_SYS_ADMIN', 'CAP_NET_RAW'] });
    expect(admin.steps.find((s) => s.op === 'caps')).toMatchObject({ flags: 2 ** 21 + 2 ** 13, a: 1 });
    expect(admin.steps.some((s) => s.op === 'mask')).toBe(false);
    expect(plan({ capabilities: 'none' }).steps.find((s) => s.op === 'caps')).toMatchObject({ flags: 0 });
    expect(plan({}).options & WIRE.options.noNewPrivs).toBeTruthy();
    expect(plan({ noNewPrivileges: false }).options & WIRE.options.noNewPrivs).toBe(0);
    expect(() => plan({ capabilities: ['CAP_NOPE'] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => plan({ capabilities: 'some' })).toThrow(TypeError);
  });

  it('encodes the wire layout of src/sys/wire.h', () => {
    const p = plan({ mount: false, env: { A: 'b' }, capabilities: 'all' }, '/bin/echo', ['hi']);
    p.steps = p.steps.filter((s) => !HARDENING.has(s.op));
    const bytes = Buffer.from(encodePlan(p));
    expect(bytes.readUInt32LE(0)).toBe(WIRE.magic);
    expect(bytes.readUInt32LE(12)).toBe(1); // one step: exec
    expect(bytes.readUInt32LE(16)).toBe(WIRE.op.exec);
    expect(bytes.readUInt32LE(24)).toBe(2); // argc: argv0 + 'hi'
    const strings = bytes.subarray(40).toString('latin1');
    expect(strings).toContain('/bin/echo\0');
    expect(strings).toContain('hi\0');
    expect(strings).toContain('A=b\0');
  });
});

describe('dryRun', () => {
  it('shows the whole plan as data: namespaces at clone and in the child, maps and their writer, steps, capabilities, seccomp', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { dryRun } = require('../lib') as typeof import('../lib');
    const p = dryRun('sh', ['-c', 'id'], { preset: 'untrusted' });
    expect(p.clone).toEqual(expect.arrayContaining(['pid', 'mount']));
    expect(p.unshare).toEqual(expect.arrayContaining(['net', 'uts', 'ipc', 'cgroup']));
    expect(p.capabilities).toEqual([]);
    expect(p.noNewPrivileges).toBe(true);
    expect(p.env).toEqual(expect.arrayContaining([expect.stringMatching(/^PATH=/), 'HOME=/tmp']));
    const steps = p.steps.map((s) => s.step);
    expect(steps).toEqual(expect.arrayContaining(['make / private (no propagation to the host)', 'mounts[0]: tmpfs on /tmp', 'bring up lo', 'install the seccomp filter', 'execute sh']));
    expect(steps.indexOf('install the seccomp filter')).toBe(steps.length - 2);
    expect(p.seccomp?.rules.length).toBeGreaterThan(5);
    if (process.geteuid?.() === 0) expect(p.userns).toEqual({ writer: 'parent', uidMap: '0 65534 1\n', gidMap: '0 65534 1\n' });
    expect(() => dryRun('sh', [], { capabilities: ['CAP_NOPE'] } as never)).toThrow(TypeError);
  });
});
