// Step 8, entering and joining: exec runs another command inside a running sandbox (like
// nsenter --target or docker exec); join starts a new sandbox sharing chosen namespaces of it.
// Run: sudo node examples/10-join-and-exec.js
'use strict';
const { spawnIsolated } = require('..');
const { outputOf } = require('./output');

async function main() {
  const box = spawnIsolated('sh', ['-c', 'echo ready; read line'], { hostname: 'first-box', net: true });
  await new Promise((resolve) => box.stdout.once('data', resolve));

  console.log(`exec into it: ${await outputOf(box.exec('sh', ['-c', 'echo "$(hostname), sees $(ps -e -o pid= | wc -l) processes"']))}`);
  const joined = spawnIsolated('sh', ['-c', 'echo "$(hostname), its own PID namespace: my PID is $$"'], { join: { uts: box, net: box } });
  console.log(`a new sandbox joining its uts and net: ${await outputOf(joined)}`);

  box.stdin.end('\n');
  await box.exited;
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
