/**
 * probe(): each field checked against this host by another route (statfs instead of mountinfo,
 * os.release() instead of /proc, a real unshare instead of the sysctls), and the decisions, as
 * pure functions of file contents, against the layouts of other hosts.
 */
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { NAMESPACES } from '../lib/constants';
import { cgroupVersion, kernelVerdict, overlayVerdict, parseKernelRelease, probe, userNamespaceVerdict, type KernelVersion } from '../lib/probe';
import { snapshot } from './helpers/host';
import { describeAsRoot } from './helpers/privilege';

const kernel = (major: number, minor: number): KernelVersion => ({ release: `${major}.${minor}.0`, major, minor });

describe('probe() on this host', () => {
  const result = probe();
  const [major, minor] = os.release().split(/[.-]/).map(Number);
  const version = major * 1000 + minor;

  it('reads the kernel version uname(2) reports', () => {
    expect(result.kernel).toEqual({ release: os.release(), major, minor });
  });

  it('derives pidfd, time namespaces and overall support from that version', () => {
    expect(result.pidfd).toBe(version >= 5003);
    expect(result.supported).toBe(version >= 5009);
    expect(result.reason).toEqual(result.supported ? undefined : expect.stringContaining('5.9'));
    expect(result.timeNamespaces).toBe(version >= 5006 && fs.readdirSync('/proc/self/ns').includes('time'));
  });

  it('lists a namespace kind exactly when /proc/self/ns has its file', () => {
    const files = fs.readdirSync('/proc/self/ns');
    const expected = Object.fromEntries(NAMESPACES.map((ns) => [ns, files.includes(ns === 'mount' ? 'mnt' : ns)]));
    expect(result.namespaces).toEqual(expected);
    expect(result.namespaces).toMatchObject({ pid: true, mount: true, uts: true }); // nsbox's own tests need these
  });

  it('finds the cgroup layout that statfs(2) of /sys/fs/cgroup shows', () => {
    expect(result.cgroup).toEqual(cgroupByStatfs());
  });
});

describeAsRoot('probe() agrees with the kernel', () => {
  it('userNamespaces.unprivileged: uid 65534 can create a user namespace and use it (unshare -Urm)', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'unshare', '-Urm', 'true'], { encoding: 'utf8', timeout: 10_000 });
    expect(r.error).toBeUndefined();
    const verdict = probe().userNamespaces;
    // unshare's stderr rides along so that a disagreement shows why the kernel said no.
    expect({ unprivileged: verdict.unprivileged, stderr: r.stderr }).toEqual({ unprivileged: r.status === 0, stderr: r.stderr });
    expect(verdict.reason).toEqual(verdict.unprivileged ? undefined : expect.stringMatching(/sysctl|CONFIG_USER_NS/));
  });

  it('overlayInUserNamespace: an overlay mount in a new user and mount namespace succeeds exactly when reported', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-probe-'));
    const mountsBefore = snapshot().mountinfo;
    try {
      for (const d of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d));
      const data = `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`;
      // unshare makes the new mount namespace private: the overlay never reaches this one.
      const r = spawnSync('unshare', ['-Urm', 'mount', '-t', 'overlay', 'overlay', '-o', data, `${dir}/merged`], { encoding: 'utf8', timeout: 10_000 });
      expect(r.error).toBeUndefined();
      const verdict = probe().overlayInUserNamespace;
      expect({ supported: verdict.supported, stderr: r.stderr }).toEqual({ supported: r.status === 0, stderr: r.stderr });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(snapshot().mountinfo).toBe(mountsBefore);
  });
});

describe('parseKernelRelease and kernelVerdict', () => {
  it('parses major and minor, whatever follows', () => {
    expect(parseKernelRelease('6.8.0-45-generic\n')).toEqual({ release: '6.8.0-45-generic', major: 6, minor: 8 });
    expect(parseKernelRelease('5.10')).toEqual({ release: '5.10', major: 5, minor: 10 });
    expect(parseKernelRelease(undefined)).toEqual({ release: '', major: 0, minor: 0 });
    expect(parseKernelRelease('garbage')).toEqual({ release: 'garbage', major: 0, minor: 0 });
  });

  it('needs 5.11 (CLOSE_RANGE_CLOEXEC): minor versions compare as numbers, not strings', () => {
    expect(kernelVerdict(kernel(5, 11))).toEqual({ supported: true });
    expect(kernelVerdict(kernel(5, 12))).toEqual({ supported: true });
    expect(kernelVerdict(kernel(5, 10))).toEqual({ supported: false, reason: expect.stringMatching(/5\.11 or newer.*CLOSE_RANGE_CLOEXEC.*Linux 5\.10\.0/) });
    expect(kernelVerdict(kernel(5, 9))).toMatchObject({ supported: false });
    expect(kernelVerdict(kernel(6, 0))).toEqual({ supported: true });
    expect(kernelVerdict(kernel(5, 8))).toEqual({ supported: false, reason: expect.stringMatching(/5\.11 or newer.*Linux 5\.8\.0/) });
    expect(kernelVerdict(kernel(4, 19))).toEqual({ supported: false, reason: expect.stringContaining('CLOSE_RANGE_CLOEXEC') });
    expect(kernelVerdict(parseKernelRelease(undefined))).toEqual({ supported: false, reason: expect.stringContaining('/proc') });
  });
});

describe('userNamespaceVerdict', () => {
  it('absent files and permissive values allow unprivileged user namespaces', () => {
    expect(userNamespaceVerdict({})).toEqual({ unprivileged: true });
    expect(userNamespaceVerdict({ unprivilegedUsernsClone: '1\n', maxUserNamespaces: '63405\n', apparmorRestrict: '0\n' })).toEqual({ unprivileged: true });
    expect(userNamespaceVerdict({ maxUserNamespaces: 'garbage' })).toEqual({ unprivileged: true }); // proves nothing either way
  });

  it('Debian: kernel.unprivileged_userns_clone = 0 blocks, and says how to allow it', () => {
    const v = userNamespaceVerdict({ unprivilegedUsernsClone: '0\n' });
    expect(v.unprivileged).toBe(false);
    expect(v.reason).toContain('sudo sysctl -w kernel.unprivileged_userns_clone=1');
  });

  it('user.max_user_namespaces = 0 blocks', () => {
    const v = userNamespaceVerdict({ maxUserNamespaces: '0\n' });
    expect(v.unprivileged).toBe(false);
    expect(v.reason).toMatch(/user\.max_user_namespaces is 0.*sudo sysctl -w user\.max_user_namespaces=\d+/);
  });

  it('Ubuntu 23.10+: kernel.apparmor_restrict_unprivileged_userns = 1 restricts', () => {
    const v = userNamespaceVerdict({ unprivilegedUsernsClone: '1', apparmorRestrict: '1\n' });
    expect(v.unprivileged).toBe(false);
    expect(v.reason).toContain('sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0');
    expect(v.reason).not.toContain('unprivileged_userns_clone');
  });

  it('names every blocker at once', () => {
    const v = userNamespaceVerdict({ unprivilegedUsernsClone: '0', maxUserNamespaces: '0', apparmorRestrict: '1' });
    expect(v.reason?.match(/sudo sysctl -w/g)).toHaveLength(3);
  });

  it('a kernel without user namespaces is not a sysctl matter', () => {
    expect(userNamespaceVerdict({}, false)).toEqual({ unprivileged: false, reason: expect.stringContaining('CONFIG_USER_NS') });
  });
});

describe('overlayVerdict', () => {
  const listed = 'nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\toverlay\n';
  it('needs overlay registered and Linux 5.11', () => {
    expect(overlayVerdict(listed, kernel(5, 11))).toEqual({ supported: true });
    expect(overlayVerdict(listed, kernel(5, 10))).toEqual({ supported: false, reason: expect.stringContaining('older than 5.11') });
    expect(overlayVerdict('nodev\tsysfs\n\text4\n', kernel(6, 1))).toEqual({ supported: false, reason: expect.stringContaining('modprobe overlay') });
    expect(overlayVerdict(undefined, kernel(6, 1)).supported).toBe(false);
  });
});

describe('cgroupVersion', () => {
  const root = '22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n25 22 0:22 / /proc rw,nosuid shared:12 - proc proc rw\n';
  const v1 = [
    '31 23 0:28 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:10 - cgroup cgroup rw,cpu,cpuacct',
    '33 31 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:11 - cgroup cgroup rw,memory',
  ].join('\n');

  it('v2: cgroup2 on /sys/fs/cgroup', () => {
    const mountinfo = `${root}30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n`;
    expect(cgroupVersion(mountinfo)).toEqual({ version: 'v2', unified: '/sys/fs/cgroup' });
  });

  it('hybrid: v1 hierarchies and cgroup2 elsewhere, with its path', () => {
    const mountinfo = `${root}${v1}\n41 31 0:38 / /sys/fs/cgroup/unified rw,nosuid shared:12 - cgroup2 cgroup2 rw\n`;
    expect(cgroupVersion(mountinfo)).toEqual({ version: 'hybrid', unified: '/sys/fs/cgroup/unified' });
  });

  it('v1: v1 hierarchies only', () => {
    expect(cgroupVersion(`${root}${v1}\n`)).toEqual({ version: 'v1' });
  });

  it('none: no cgroup mount, or no mountinfo', () => {
    expect(cgroupVersion(root)).toEqual({ version: 'none' });
    expect(cgroupVersion(undefined)).toEqual({ version: 'none' });
  });

  it('goes by filesystem type, not by source name, and decodes escaped mount points', () => {
    const fake = '50 22 0:50 / /mnt/fake rw - tmpfs cgroup2 rw\n'; // a tmpfs whose source is called cgroup2
    expect(cgroupVersion(`${root}${fake}${v1}\n`)).toEqual({ version: 'v1' });
    const spaced = '51 22 0:51 / /mnt/my\\040cgroup rw shared:3 master:2 - cgroup2 none rw\n';
    expect(cgroupVersion(`${root}${v1}\n${spaced}`)).toEqual({ version: 'hybrid', unified: '/mnt/my cgroup' });
  });
});

/** statfs(2) f_type of cgroup2 and of a v1 hierarchy. */
const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP_SUPER_MAGIC = 0x27e0eb;

/** The cgroup layout as statfs(2) shows it under /sys/fs/cgroup (where every usual layout mounts it). */
function cgroupByStatfs(): { version: string; unified?: string } {
  const magic = (p: string): number | undefined => {
    try {
      return fs.statfsSync(p).type;
    } catch {
      return undefined;
    }
  };
  const base = '/sys/fs/cgroup';
  if (magic(base) === CGROUP2_SUPER_MAGIC) return { version: 'v2', unified: base };
  const children = fs.existsSync(base) ? fs.readdirSync(base).map((d) => path.join(base, d)) : [];
  const unified = children.find((d) => magic(d) === CGROUP2_SUPER_MAGIC);
  const v1 = children.some((d) => magic(d) === CGROUP_SUPER_MAGIC);
  if (unified) return { version: v1 ? 'hybrid' : 'v2', unified };
  return { version: v1 ? 'v1' : 'none' };
}
