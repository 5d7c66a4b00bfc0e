#!/usr/bin/env node
// npm's install step for nsbox. The prebuilt addon (prebuilds/, made by prebuildify) is used when
// it loads here; otherwise the addon is built from source with node-gyp. When that cannot work,
// because the tools are not there, this says so in one paragraph instead of node-gyp's own
// failure (36 lines of "gyp ERR! find Python" for a machine without python3).
// `npm install --build-from-source` (or npm_config_build_from_source=true) skips the prebuild.
'use strict';
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');

function fromSource() {
  return process.env.npm_config_build_from_source === 'true' || process.argv.includes('--build-from-source');
}

/** The first of `names` found on PATH, as a full path. */
function onPath(...names) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    for (const name of names) {
      const file = path.join(dir || '.', name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        if (fs.statSync(file).isFile()) return file;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function libc() {
  const glibc = process.report && process.report.getReport().header.glibcVersionRuntime;
  if (glibc) return `glibc ${glibc}`;
  return fs.existsSync('/etc/alpine-release') ? 'musl' : 'an unknown libc';
}

/** What a source build needs that this machine lacks (node-gyp itself comes with npm). */
function missingTools() {
  const missing = [];
  if (!onPath('python3', 'python')) missing.push('python3');
  if (!onPath('make')) missing.push('make');
  const cc = onPath('cc', 'gcc', 'clang');
  if (!cc) missing.push('a C compiler (gcc or clang)');
  if (!onPath('c++', 'g++', 'clang++')) missing.push('a C++ compiler (g++ or clang++)');
  // The addon links libseccomp statically (binding.gyp: -l:libseccomp.a).
  const header = ['/usr/include', '/usr/local/include'].some((dir) => fs.existsSync(path.join(dir, 'seccomp.h')));
  let archive = false;
  if (cc) {
    try {
      archive = path.isAbsolute(execFileSync(cc, ['-print-file-name=libseccomp.a'], { encoding: 'utf8' }).trim());
    } catch {
      archive = false;
    }
  }
  if (!header || (cc && !archive)) missing.push("libseccomp's headers and static library (seccomp.h, libseccomp.a)");
  return missing;
}

function paragraph(text) {
  // One paragraph, wrapped for a terminal.
  const words = text.split(/\s+/);
  const lines = [];
  let line = '';
  for (const word of words) {
    if (line && line.length + word.length + 1 > 100) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return `${lines.join('\n')}\n`;
}

const INSTALL_HINT =
  'Debian and Ubuntu: sudo apt-get install -y python3 make g++ libseccomp-dev; Fedora: sudo dnf install python3 make gcc-c++ ' +
  'libseccomp-devel libseccomp-static';

function main() {
  const here = `${process.platform}-${process.arch} with ${libc()}, Node.js ${process.version}`;
  let why = 'a build from source was asked for (--build-from-source)';
  if (!fromSource()) {
    try {
      require('node-gyp-build')(root);
      return 0;
    } catch (e) {
      const first = String((e && e.message) || e).split('\n')[0];
      why = /No native build was found/.test(first) ? `no prebuilt addon fits ${here}` : `the prebuilt addon does not load on ${here} (${first})`;
    }
  }
  const missing = missingTools();
  if (missing.length > 0) {
    process.stderr.write(
      paragraph(
        `nsbox: cannot install its native addon: ${why}, and it cannot be built from source here, for want of ` +
          `${missing.join(', ')}. Install ${missing.length > 1 ? 'them' : 'it'} (${INSTALL_HINT}) and run ` +
          `npm rebuild nsbox, or install on a machine nsbox ships a prebuild for (linux-x64 with glibc, Node.js 20 or newer).`,
      ),
    );
    return 1;
  }
  process.stderr.write(`nsbox: ${why}; building the addon from source (node-gyp)\n`);
  let gyp = [onPath('node-gyp'), []];
  try {
    const pkg = require.resolve('node-gyp/package.json');
    const bin = require(pkg).bin;
    gyp = [process.execPath, [path.join(path.dirname(pkg), typeof bin === 'string' ? bin : bin['node-gyp'])]];
  } catch {
    // npm puts its own node-gyp on the PATH of install scripts
  }
  if (!gyp[0]) {
    process.stderr.write(paragraph(`nsbox: cannot build the addon: ${why}, and node-gyp is not on PATH (npm provides it to install scripts: run npm rebuild nsbox).`));
    return 1;
  }
  const result = spawnSync(gyp[0], [...gyp[1], 'rebuild'], { cwd: root, stdio: 'inherit' });
  if (result.status === 0) return 0;
  process.stderr.write(
    paragraph(
      `nsbox: the build from source failed (node-gyp's output is above) after ${why}. It needs python3, make, gcc and g++, ` +
        `libseccomp's headers and static library, and Node's headers (${INSTALL_HINT}). See docs/troubleshooting.md.`,
    ),
  );
  return result.status || 1;
}

process.exitCode = main();
