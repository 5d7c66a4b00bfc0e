// Step 9, cgroup and time namespaces: inside a new cgroup namespace the process's cgroup is the
// root ("/"); inside a new time namespace the monotonic and boot clocks can be shifted.
// Run: sudo node examples/11-cgroup-and-time.js
'use strict';
const fs = require('fs');
const { spawnIsolated } = require('..');
const { outputOf } = require('./output');

async function main() {
  const cgroupOutside = fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').pop();
  const [cgroupInside, nsInside] = (
    await outputOf(spawnIsolated('sh', ['-c', 'tail -n 1 /proc/self/cgroup; readlink /proc/self/ns/cgroup'], { cgroup: true }))
  ).split('\n');
  console.log(`cgroup outside: ${cgroupOutside}; inside: ${cgroupInside}`);
  console.log(`its own cgroup namespace: ${nsInside !== fs.readlinkSync('/proc/self/ns/cgroup') ? 'yes' : 'no'}`);

  const uptime = await outputOf(spawnIsolated('cut', ['-d.', '-f1', '/proc/uptime'], { time: { boottimeOffset: 365 * 86400 } }));
  console.log(`uptime inside: ${Math.floor(Number(uptime) / 86400)} days (a year added); outside: ${Math.floor(Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) / 86400)} days`);
}

main().catch((e) => {
  console.error(e.message);
  process.exitCode = 1;
});
