/**
 * Small root filesystems made from this host's own binaries and the shared libraries they load:
 * enough for tests and demos, with no image, no download and no package manager.
 * @module
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { invalidArgType } from './errors';

/** A root filesystem directory and the means to delete it. */
export interface HostRootfs {
  /** The directory to pass as `rootfs`. */
  readonly dir: string;
  /** Deletes the directory (mounts made by sandboxes live in their own namespaces, never here). */
  remove(): void;
}

/** Options of {@link hostRootfs}. */
export interface HostRootfsOptions {
  /** Where to build it; default a new directory under `os.tmpdir()`. */
  dir?: string;
  /** Permission bits of the top directory (default 0o755, so unprivileged users can enter it). */
  mode?: number;
}

/** The binaries a shell session needs for the tutorial: sh, ps and a few coreutils. */
export const DEFAULT_BINARIES: readonly string[] = ['sh', 'ps', 'sleep', 'cat', 'echo', 'true', 'ls', 'hostname', 'id', 'env', 'pwd'];

function which(name: string): string {
  if (name.includes('/')) return fs.realpathSync(name);
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/bin', '/bin', '/usr/sbin', '/sbin'])) {
    const candidate = path.join(dir || '.', name);
    if (fs.existsSync(candidate)) return fs.realpathSync(candidate);
  }
  throw Object.assign(new Error(`hostRootfs: ${name} is not installed on this host`), { code: 'ENOENT', path: name });
}

/** The shared libraries (and the dynamic loader) a binary loads, as ldd(1) lists them. */
function libraries(binary: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return []; // static, or not a dynamic ELF
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

function copyInto(root: string, file: string, as = file): void {
  const dest = path.join(root, as);
  if (fs.existsSync(dest)) return;
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
  fs.copyFileSync(fs.realpathSync(file), dest);
  fs.chmodSync(dest, fs.statSync(file).mode & 0o777);
}

/**
 * Builds a root filesystem with `/bin/<name>` for each binary (found on this host's PATH), the
 * libraries they need at their usual paths, `/usr/bin` linking to `/bin`, a minimal `/etc/passwd`
 * and `/etc/group`, and empty `/proc`, `/dev`, `/tmp` and `/mnt` for mounts.
 * @example
 * const rootfs = hostRootfs(['sh', 'ps']);
 * try { await spawnIsolated('/bin/ps', ['aux'], { rootfs: rootfs.dir, stdio: 'inherit' }).exited; }
 * finally { rootfs.remove(); }
 */
export function hostRootfs(binaries: readonly string[] = DEFAULT_BINARIES, options: HostRootfsOptions = {}): HostRootfs {
  if (!Array.isArray(binaries)) throw invalidArgType('binaries', 'an array of program names', binaries);
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-rootfs-'));
  try {
    fs.mkdirSync(dir, { recursive: true });
    for (const sub of ['bin', 'proc', 'dev', 'tmp', 'etc', 'mnt', 'usr']) fs.mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
    for (const name of binaries) {
      const binary = which(name);
      copyInto(dir, binary, `/bin/${path.basename(name)}`);
      for (const lib of libraries(binary)) copyInto(dir, lib);
    }
    if (!fs.existsSync(path.join(dir, 'usr', 'bin'))) fs.symlinkSync('../bin', path.join(dir, 'usr', 'bin'));
    fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
    fs.writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    fs.chmodSync(dir, options.mode ?? 0o755);
  } catch (e) {
    if (options.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
