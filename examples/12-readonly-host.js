// Step 12, bubblewrap's classic sandbox (bwrap --ro-bind / / --tmpfs /tmp --proc /proc --dev /dev
// --unshare-pid): the host's whole tree, read-only down to its last submount, a private /tmp.
// Run: sudo node examples/12-readonly-host.js
'use strict';
const { spawnIsolated } = require('..');
const { outputOf } = require('./output');

async function main() {
  const script = 'touch /etc/x 2>&1 | grep -o "Read-only file system"; echo private > /tmp/note && cat /tmp/note; ls /proc | grep -c "^[0-9]"';
  const child = spawnIsolated('/bin/sh', ['-c', script], { rootfs: '/', readonlyRoot: true, mounts: [{ type: 'tmpfs', target: '/tmp' }] });
  console.log(await outputOf(child));
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
