// What the examples share: the output of a sandbox, once it has exited.
'use strict';

/** Resolves with what `child` wrote to stdout, trimmed, once it has exited. */
async function outputOf(child) {
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await child.exited;
  return out.trim();
}

module.exports = { outputOf };
