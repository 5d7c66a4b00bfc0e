/**
 * Test root filesystems built from the host's own binaries and the shared libraries they load
 * (no system packages), in a temporary directory that `remove()` deletes. Every mount a test makes
 * lives in the sandbox's private mount namespace, so deleting the directory is all the cleanup.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

export interface Rootfs {
  dir: string;
  remove(): void;
}

const DEFAULT_BINARIES = ['sh', 'ps', 'sleep', 'cat', 'echo', 'true', 'ls', 'hostname', 'id', 'env', 'pwd'];

function which(name: string): string {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return fs.realpathSync(candidate);
  }
  throw new Error(`test rootfs: ${name} is not on this host`);
}

/** The shared libraries (and the dynamic loader) a binary loads, from ldd. */
function libraries(binary: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  } catch {
    return []; // static
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /(?:=>\s*)?(\/[^\s]+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

function copyInto(root: string, file: string, as = file): void {
  const dest = path.join(root, as);
  if (fs.existsSync(dest)) return;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(fs.realpathSync(file), dest);
  fs.chmodSync(dest, fs.statSync(file).mode & 0o7777);
}

/** Builds a rootfs with /bin/<name> for each binary, their libraries, and empty /proc, /dev, /tmp. */
export function buildRootfs(binaries: string[] = DEFAULT_BINARIES, options: { mode?: number } = {}): Rootfs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-rootfs-'));
  for (const sub of ['bin', 'proc', 'dev', 'tmp', 'etc', 'mnt', 'usr']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  for (const name of binaries) {
    const binary = which(name);
    copyInto(dir, binary, `/bin/${name}`);
    for (const lib of libraries(binary)) copyInto(dir, lib);
  }
  // /usr/bin too, for scripts that name full paths.
  fs.symlinkSync('../bin', path.join(dir, 'usr', 'bin'));
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  fs.writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  if (options.mode !== undefined) fs.chmodSync(dir, options.mode);
  return {
    dir,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
