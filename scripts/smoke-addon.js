#!/usr/bin/env node
// Checks an addon built some other way (cmake-js, prebuildify) end to end: loads the .node file
// given, spawns `sh -c 'echo $$'` as PID 1 through it, and expects "1".
// Usage: node scripts/smoke-addon.js build-cmake/Release/nsbox.node   (needs dist/ and root)
'use strict';
const path = require('path');
const { resolveOptions } = require('../dist/options');
const { buildRequest, encodeRequest } = require('../dist/request');

const addon = require(path.resolve(process.argv[2] || 'build/Release/nsbox.node'));
const args = ['-c', 'echo $$'];
// No seccomp program here: compiling one is the addon's too, tested by the suite.
const options = resolveOptions('sh', args, { init: false, stdio: ['ignore', 'pipe', 'inherit'], seccomp: false });
const spawned = addon.spawn(encodeRequest(buildRequest('sh', args, options)));
if (spawned.errno) throw new Error(`spawn failed: ${spawned.syscall} errno ${spawned.errno}`);
const net = require('net');
let out = '';
new net.Socket({ fd: spawned.stdio[1], readable: true, writable: false }).on('data', (d) => (out += d));
new addon.Watch(spawned.pidfd, spawned.reportFd, (kind, code, status) => {
  if (kind !== 'exit') return;
  setTimeout(() => {
    const ok = out === '1\n' && code === 1 && status === 0;
    console.log(ok ? `ok: ${path.basename(process.argv[2] || '')} runs a PID 1` : `FAILED: output ${JSON.stringify(out)}, si_code ${code}, status ${status}`);
    process.exit(ok ? 0 : 1);
  }, 50);
});
