#!/usr/bin/env node
// Writes real encoded plans, one file each, into the directory given: the seed corpus of
// plan_fuzz. Made at run time from dist/ so the seeds follow lib/plan.ts as it changes.
// Usage: node test/fuzz/seed-corpus.js <dir>   (needs dist/: npm run build:ts)
'use strict';
const fs = require('fs');
const path = require('path');
const { resolveOptions } = require('../../dist/options');
const { encodePlan } = require('../../dist/plan');
const { buildRequest } = require('../../dist/request');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: seed-corpus.js <dir>');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });

const rootfs = '/srv/rootfs'; // only a path here: nothing is resolved on disk
const mounts = [
  { type: 'bind', source: '/etc', target: '/etc' },
  { type: 'bind', source: '/usr/share', target: '/usr/share', readonly: true },
  { type: 'tmpfs', target: '/tmp', size: 1 << 20, mode: 0o1777 },
  { type: 'tmpfs', target: '/run' },
];
const veth = { host: '10.200.0.1/30', inside: '10.200.0.2/30', insideName: 'eth1' };

// [command, args, options]: each option alone, then some together.
const cases = [
  ['/bin/true', [], {}],
  ['true', [], { init: false }],
  ['/bin/sh', ['-c', 'echo $$'], { env: { PATH: '/bin', HOME: '/root' } }],
  ['sh', ['-c', 'exit 3'], { env: {}, argv0: '-sh' }],
  ['/bin/ls', ['-la', '/'], { rootfs }],
  ['/bin/ls', [], { rootfs, dev: false, proc: false }],
  ['/bin/ls', [], { rootfs, readonlyRoot: true }],
  ['/bin/cat', ['/etc/hostname'], { rootfs, mounts }],
  ['/bin/cat', [], { rootfs, mounts: mounts.slice(2), env: { A: 'b' } }],
  ['/bin/hostname', [], { hostname: 'box' }],
  ['/bin/hostname', [], { hostname: 'x'.repeat(64), domainname: 'example.org' }],
  ['/bin/ip', ['addr'], { net: true }],
  ['/bin/ip', ['addr'], { net: { veth } }],
  ['/bin/ip', [], { namespaces: 'all' }],
  ['/bin/ps', ['aux'], { pid: true, mount: true, proc: true }],
  ['/bin/ps', [], { pid: false, mount: false }],
  ['/bin/pwd', [], { cwd: '/tmp' }],
  ['/bin/pwd', [], { rootfs, cwd: 'srv/data' }],
  ['/bin/date', [], { time: true }],
  ['/bin/date', [], { time: { monotonicOffset: 3600, boottimeOffset: -1.5 } }],
  ['/bin/date', [], { join: { time: '/proc/1/ns/time' } }],
  ['/bin/id', [], { user: true }],
  ['/bin/id', [], { user: true, uidMap: [{ inside: 0, outside: 1000, count: 1 }, { inside: 1, outside: 100000, count: 65536 }] }],
  ['/bin/id', [], { user: true, rootfs, net: true, hostname: 'rootless' }],
  ['/bin/nice', [], { nice: 10 }],
  ['/bin/nice', [], { nice: -20 }],
  ['/bin/sh', [], { newSession: false, foreground: true }],
  ['/bin/sh', [], { noNewPrivileges: true, dieWithParent: false, trace: true }],
  ['/bin/echo', Array.from({ length: 40 }, (_, i) => `arg${i}`), { env: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`V${i}`, 'x'.repeat(i)])) }],
  ['/bin/echo', ['', 'ü', 'a b'], { env: { EMPTY: '' } }],
  // What exec adds at the start (not an option): the helper's own joins.
  ['/usr/bin/env', [], { mount: false, proc: false }, { helperJoins: [{ kind: 'mount', file: '/proc/1/ns/mnt' }] }],
  ['/bin/sh', ['-c', 'ip a; hostname; ps'], { rootfs, mounts, net: { veth }, hostname: 'all', domainname: 'd', time: { boottimeOffset: 60 }, nice: 5, cwd: '/tmp', env: { PATH: '/usr/bin:/bin' }, readonlyRoot: true, noNewPrivileges: true, trace: true }],
];

cases.forEach(([command, args, options, internal], i) => {
  // The plan alone: the helper's part of the request (the spawn section is the addon's).
  const { plan } = buildRequest(command, args, { ...resolveOptions(command, args, options), ...internal });
  fs.writeFileSync(path.join(dir, `plan-${String(i).padStart(2, '0')}`), encodePlan(plan));
});
console.log(`seed-corpus: ${cases.length} plans in ${dir}`);
