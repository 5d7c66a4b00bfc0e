/**
 * Namespace inspection through `/proc/PID/ns`: which namespaces a process is in.
 * @module
 */
import fs from 'fs';
import { NAMESPACES, NS_FILES, type Namespace } from './constants';
import { invalidArgType, systemError } from './errors';
import os from 'os';

/** One namespace of a process. */
export interface NamespaceInfo {
  /** The namespace's inode number: equal inodes mean the same namespace. */
  inode: number;
  /** The file that names it, usable with `setns` while the process lives. */
  path: string;
  /** The kernel's spelling, e.g. `pid:[4026531836]`. */
  id: string;
}

/**
 * The namespaces of a process (default: this one), keyed by kind. Kinds the kernel does not
 * support (such as `time` before 5.6) are left out.
 * @example namespaces(child.pid).pid.inode !== namespaces().pid.inode
 */
export function namespaces(pid: number | 'self' = 'self'): Partial<Record<Namespace, NamespaceInfo>> {
  if (pid !== 'self' && !(Number.isInteger(pid) && pid > 0)) throw invalidArgType('pid', "a positive integer or 'self'", pid);
  const out: Partial<Record<Namespace, NamespaceInfo>> = {};
  for (const ns of NAMESPACES) {
    const path = `/proc/${pid}/ns/${NS_FILES[ns]}`;
    let id: string;
    try {
      id = fs.readlinkSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && fs.existsSync(`/proc/${pid}/ns`)) continue; // kind not supported here
      const number = code === 'ENOENT' ? os.constants.errno.ESRCH : ((os.constants.errno as Record<string, number>)[code ?? ''] ?? os.constants.errno.EIO);
      throw systemError({ errno: number, syscall: 'readlink' }, { path });
    }
    const inode = Number(/\[(\d+)\]/.exec(id)?.[1]);
    out[ns] = { inode, path, id };
  }
  return out;
}
