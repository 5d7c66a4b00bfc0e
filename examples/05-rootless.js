// Step 5, user namespaces: with `user: true` an unprivileged user can create the other
// namespaces too. Inside, it is root (uid 0, mapped to its own uid outside) and PID 1's parent.
// Run as any user: node examples/05-rootless.js
'use strict';
const { spawnIsolated, hostRootfs } = require('..');

async function main() {
  const rootfs = hostRootfs(['sh', 'ps', 'id', 'cat']);
  try {
    const child = spawnIsolated('/bin/sh', ['-c', 'echo "inside: uid $(id -u), map: $(cat /proc/self/uid_map)"; ps aux'], {
      user: true,
      rootfs: rootfs.dir,
      stdio: 'inherit',
    });
    await child.exited;
    console.log(`outside: uid ${process.getuid()}`);
  } finally {
    rootfs.remove();
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
