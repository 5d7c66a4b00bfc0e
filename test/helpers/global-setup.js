// One temporary directory per test run, as TMPDIR for every worker: whatever a test that dies
// halfway leaves behind is removed by the teardown, or by the next run (its owner is gone).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const PREFIX = 'nsbox-test-';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

module.exports = async function globalSetup() {
  const base = os.tmpdir();
  for (const entry of fs.readdirSync(base)) {
    const pid = Number(entry.slice(PREFIX.length));
    if (entry.startsWith(PREFIX) && pid > 0 && !alive(pid)) fs.rmSync(path.join(base, entry), { recursive: true, force: true });
  }
  const dir = path.join(base, `${PREFIX}${process.pid}`);
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chmodSync(dir, 0o755); // the rootless tests enter it as uid 65534
  process.env.TMPDIR = dir;
};
