// Step 3, a fresh /proc: mounted inside the new mount namespace, it shows only this PID
// namespace. ps aux lists PID 1 (nsbox's init) and ps itself.
// Run: sudo node examples/03-pid-fresh-proc.js
'use strict';
const { spawnIsolated } = require('..');

async function main() {
  const child = spawnIsolated('ps', ['aux'], { pid: true, mount: true, proc: true, stdio: 'inherit' });
  const { code } = await child.exited;
  process.exitCode = code ?? 1;
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
