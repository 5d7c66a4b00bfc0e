// Step 2, PID: a new PID namespace, but the host's /proc. The command is PID 1 (echo $$ says so),
// yet `ps` reads /proc, which is still the host's, so it lists every host process. The trap.
// Run: sudo node examples/02-pid-host-proc.js
'use strict';
const { spawnIsolated } = require('..');

async function run(command, args, options) {
  const child = spawnIsolated(command, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await child.exited;
  return out;
}

async function main() {
  const pid = await run('sh', ['-c', 'echo $$'], { init: false, proc: false });
  const ps = await run('ps', ['aux'], { proc: false });
  console.log(`inside, my PID is ${pid.trim()}`);
  console.log(`but ps aux lists ${ps.trim().split('\n').length - 1} processes: the host's /proc`);
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
