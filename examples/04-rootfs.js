// Step 4, a root filesystem: pivot_root into a directory built from this host's own sh and ps
// (and their libraries). Inside, / is that directory, /proc is fresh, /dev is minimal.
// Run: sudo node examples/04-rootfs.js
'use strict';
const { spawnIsolated, hostRootfs } = require('..');

async function main() {
  const rootfs = hostRootfs(['sh', 'ps', 'ls']);
  try {
    const child = spawnIsolated('/bin/sh', ['-c', 'echo "/ holds:" $(ls /); ps aux'], { rootfs: rootfs.dir, stdio: 'inherit' });
    const { code } = await child.exited;
    process.exitCode = code ?? 1;
  } finally {
    rootfs.remove();
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
