// Step 1, UTS: a new UTS namespace has its own hostname; the host keeps its own.
// Run: sudo node examples/01-uts-hostname.js
'use strict';
const os = require('os');
const { spawnIsolated } = require('..');

async function main() {
  const child = spawnIsolated('hostname', [], { hostname: 'tutorial-box', stdio: ['ignore', 'inherit', 'inherit'] });
  await child.exited;
  console.log(`host hostname is still: ${os.hostname()}`);
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
