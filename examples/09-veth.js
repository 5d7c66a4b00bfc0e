// Step 7b, a veth pair: a cable between the sandbox's network namespace and this one. nsbox
// makes it through netlink and addresses both ends; a client here reaches a server inside.
// It adds an interface to this process's network namespace while the sandbox runs.
// Run: sudo node examples/09-veth.js
'use strict';
const net = require('net');
const { spawnIsolated } = require('..');

const server = "require('net').createServer((c) => c.end('hello from inside')).listen(8080, '10.200.0.2', () => console.log('listening on 10.200.0.2:8080'))";

async function main() {
  const child = spawnIsolated(process.execPath, ['-e', server], {
    net: { veth: { host: '10.200.0.1/30', inside: '10.200.0.2/30' } },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const reply = await new Promise((resolve, reject) => {
    net.connect(8080, '10.200.0.2').on('data', (d) => resolve(String(d))).on('error', reject);
  });
  console.log(`the host side got: ${reply}`);
  await child.stop(1000);
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
