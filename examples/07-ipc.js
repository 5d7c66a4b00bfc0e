// Step 6, IPC: System V IPC objects and POSIX message queues belong to an IPC namespace. Two
// sandboxes each make a message queue with ipcmk and list the queues: each sees only its own.
// Run: sudo node examples/07-ipc.js
'use strict';
const { spawnIsolated } = require('..');
const { outputOf } = require('./output');

async function queuesSeenAfterMakingOne() {
  const out = await outputOf(spawnIsolated('sh', ['-c', 'ipcmk -Q >/dev/null && ipcs -q'], { ipc: true, stdio: ['ignore', 'pipe', 'inherit'] }));
  return out.split('\n').filter((line) => line.startsWith('0x')).length;
}

async function main() {
  console.log(`first sandbox sees ${await queuesSeenAfterMakingOne()} queue(s)`);
  console.log(`second sandbox sees ${await queuesSeenAfterMakingOne()} queue(s): not the first one's`);
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
