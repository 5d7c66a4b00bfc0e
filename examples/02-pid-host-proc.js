// Step 2, PID: a new PID namespace, but the host's /proc. The command is PID 1 (echo $$ says so),
// yet `ps` reads /proc, which is still the host's, so it lists every host process. The trap.
// Run: sudo node examples/02-pid-host-proc.js
'use strict';
const { spawnIsolated } = require('..');
const { outputOf } = require('./output');

function run(command, args, options) {
  return outputOf(spawnIsolated(command, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options }));
}

async function main() {
  const pid = await run('sh', ['-c', 'echo $$'], { init: false, proc: false });
  const ps = await run('ps', ['aux'], { proc: false });
  console.log(`inside, my PID is ${pid}`);
  console.log(`but ps aux lists ${ps.split('\n').length - 1} processes: the host's /proc`);
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
