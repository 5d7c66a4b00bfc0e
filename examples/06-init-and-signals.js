// PID 1 semantics: nsbox's init reaps orphans, forwards signals and reports how the command
// really ended, even by a signal that PID 1 itself could never die of.
// Run: sudo node examples/06-init-and-signals.js
'use strict';
const { spawnIsolated } = require('..');

async function main() {
  const crashed = await spawnIsolated('sh', ['-c', 'kill -SEGV $$'], { stdio: 'ignore' }).exited;
  console.log(`a command that segfaults: ${JSON.stringify({ code: crashed.code, signal: crashed.signal })}`);

  const child = spawnIsolated('sh', ['-c', 'trap "echo got SIGTERM; exit 3" TERM; (sleep 100 &); while :; do sleep 0.05; done'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  const { code, signal } = await child.exited;
  console.log(`after SIGTERM: ${JSON.stringify({ code, signal })} (the orphaned sleep died with the namespace)`);
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
