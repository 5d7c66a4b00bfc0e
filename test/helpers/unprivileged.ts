/**
 * Runs a Node script as an unprivileged user (uid/gid 65534, no groups) through setpriv, against
 * a copy of the built package that this user can read wherever the checkout lives.
 */
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { NodeResult } from './node';

export const NOBODY = 65534;
const ROOT = path.join(__dirname, '..', '..');

export interface ReadablePackage {
  dir: string;
  remove(): void;
}

/** A world-readable copy of dist/, the addon and node-gyp-build, in a temporary directory. */
export function readablePackage(): ReadablePackage {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-pkg-'));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  // The addon this checkout loads, wherever node-gyp-build finds it: build/Release, or prebuilds/
  // once `npm pack` (prebuildify) has moved the build there.
  const addon = path.relative(ROOT, (require('node-gyp-build') as { path(dir: string): string }).path(ROOT));
  fs.mkdirSync(path.join(dir, path.dirname(addon)), { recursive: true });
  fs.copyFileSync(path.join(ROOT, addon), path.join(dir, addon));
  fs.cpSync(path.join(ROOT, 'node_modules', 'node-gyp-build'), path.join(dir, 'node_modules', 'node-gyp-build'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  chmodReadable(dir);
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function chmodReadable(p: string): void {
  const st = fs.statSync(p);
  fs.chmodSync(p, st.isDirectory() ? 0o755 : st.mode & 0o111 ? 0o755 : 0o644);
  if (st.isDirectory()) for (const e of fs.readdirSync(p)) chmodReadable(path.join(p, e));
}

/** Writes `body` into the package as a script (with `nsbox` and `out`) and runs it as 65534. */
export function runAsNobody(pkg: ReadablePackage, body: string, timeout = 20_000): Promise<NodeResult> {
  const file = path.join(pkg.dir, `script-${process.pid}-${Date.now()}.js`);
  fs.writeFileSync(
    file,
    `const nsbox = require('./dist'); const out = (v) => console.log(JSON.stringify(v));\n(async () => {\n${body}\n})().catch((e) => { console.error(e && e.stack || e); process.exit(99); });\n`,
    { mode: 0o644 },
  );
  const args = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, file];
  return new Promise((resolve) => {
    execFile('setpriv', args, { timeout, cwd: pkg.dir }, (err, stdout, stderr) => {
      fs.rmSync(file, { force: true });
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}
