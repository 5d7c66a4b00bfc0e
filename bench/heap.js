// Child of bench/run.js: the latency of a spawn while this process holds a large, touched heap.
// Usage: node bench/heap.js MEGABYTES ROOTFS N  -> prints JSON { nsbox, childProcess, rssMB }
'use strict';
const { latency, nodeSpawn, nsbox } = require('./lib');

async function main() {
  const [mb, rootfs, n] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
  // Off-heap but resident: what fork() has to copy page tables for.
  const ballast = [];
  for (let i = 0; i < mb / 64; i++) ballast.push(Buffer.alloc(64 << 20, i + 1));
  const rssMB = Math.round(process.memoryUsage().rss / (1 << 20));
  const result = {
    rssMB,
    nsbox: await latency(nsbox('/bin/true', [], { rootfs }), n),
    childProcess: await latency(nodeSpawn('/bin/true', []), n),
  };
  if (ballast.length < 0) console.log(ballast); // keep it alive
  process.stdout.write(JSON.stringify(result));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
