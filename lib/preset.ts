/**
 * `preset: 'untrusted'`: the strictest sandbox this host allows, for code nobody reviewed. The
 * options it stands for are plain options; any given next to it wins, one by one.
 * @module
 */
import fs from 'fs';
import { invalidArgValue } from './errors';

/** The presets. */
export type Preset = 'untrusted';

/** The uid and gid a root caller's root inside maps to: root inside is nobody outside. */
const NOBODY = 65534;

/** Whether this process may create a user namespace (root always may, unless the kernel has none). */
function userNamespaces(): boolean {
  if (!fs.existsSync('/proc/self/ns/user')) return false;
  if (process.geteuid?.() === 0) return true;
  const read = (f: string): string | undefined => {
    try {
      return fs.readFileSync(f, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  return read('/proc/sys/kernel/unprivileged_userns_clone') !== '0' && read('/proc/sys/user/max_user_namespaces') !== '0';
}

/**
 * What a preset expands to, as options: every namespace kind (user wherever it works, and for a
 * root caller mapped to nobody, so that root inside is not root outside), a network with only
 * `lo`, no capabilities, the default seccomp profile, no_new_privs, a read-only root with a
 * private writable `/tmp`, and an environment of only `PATH`, `HOME` and `TERM`.
 */
export function presetOptions(preset: unknown): Record<string, unknown> {
  if (preset !== 'untrusted') throw invalidArgValue('preset', "must be 'untrusted'", preset);
  const user = userNamespaces();
  const root = process.geteuid?.() === 0;
  const map = [{ inside: 0, outside: NOBODY, count: 1 }];
  return {
    namespaces: user ? 'all' : ['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup', 'time'],
    ...(user && root ? { uidMap: map, gidMap: map } : {}),
    capabilities: 'none',
    seccomp: 'default',
    noNewPrivileges: true,
    readonlyRoot: true,
    mounts: [{ type: 'tmpfs', target: '/tmp', mode: 0o1777 }],
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', ...(process.env.TERM ? { TERM: process.env.TERM } : {}) },
  };
}
