// Step 13, overlay: a writable layer over a read-only directory, in a tmpfs that vanishes with the
// sandbox (bwrap --overlay-src DIR --tmp-overlay /mnt). The directory itself never changes.
// Run: sudo node examples/13-overlay.js
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnIsolated } = require('..');
const { outputOf } = require('./output');

async function main() {
  const lower = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-lower-'));
  fs.writeFileSync(path.join(lower, 'greeting'), 'hello\n');
  try {
    const script = 'echo changed > /mnt/greeting; echo new > /mnt/added; cat /mnt/greeting /mnt/added';
    const child = spawnIsolated('/bin/sh', ['-c', script], { rootfs: '/', mounts: [{ type: 'overlay', target: '/mnt', lower: [lower] }] });
    console.log(`inside: ${(await outputOf(child)).split('\n').join(' ')}`);
    console.log(`on the host afterwards: ${fs.readdirSync(lower).join(' ')} = ${fs.readFileSync(path.join(lower, 'greeting'), 'utf8').trim()}`);
  } finally {
    fs.rmSync(lower, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
