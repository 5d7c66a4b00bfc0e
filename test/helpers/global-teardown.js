'use strict';
const fs = require('fs');

module.exports = async function globalTeardown() {
  const dir = process.env.TMPDIR;
  if (dir && dir.includes('nsbox-test-')) fs.rmSync(dir, { recursive: true, force: true });
};
