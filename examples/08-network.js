// Step 7, network: a new network namespace has only a loopback interface (nsbox brings it up),
// so a server and a client inside talk over 127.0.0.1 while nothing outside can reach them.
// Run: sudo node examples/08-network.js
'use strict';
const { spawnIsolated } = require('..');

const inside = `
  const fs = require('fs'), net = require('net');
  const ifaces = fs.readFileSync('/proc/net/dev', 'utf8').split('\\n').slice(2).filter(Boolean).map((l) => l.split(':')[0].trim());
  console.log('interfaces inside: ' + ifaces.join(', '));
  const server = net.createServer((c) => c.end('pong')).listen(7000, '127.0.0.1', () => {
    net.connect(7000, '127.0.0.1').on('data', (d) => { console.log('client inside got: ' + d); server.close(); });
  });
`;

async function main() {
  const child = spawnIsolated(process.execPath, ['-e', inside], { net: true, stdio: ['ignore', 'inherit', 'inherit'] });
  await child.exited;
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
