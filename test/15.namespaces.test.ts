/**
 * Each namespace kind, asserted from both sides: the sandbox sees its own, and the host (or, where
 * a test would otherwise change the host, a namespace standing in for it) does not see the
 * sandbox's.
 */
import fs from 'fs';
import net from 'net';
import os from 'os';
import { namespaces, spawnIsolated } from '../lib';
import { NS_FILES, NAMESPACES } from '../lib/constants';
import { describeAsRoot } from './helpers/privilege';
import { outputs, runNode } from './helpers/node';
import { collect, run } from './helpers/run';

const NODE = process.execPath;

describeAsRoot('namespaces, from both sides', () => {
  it('uts: hostname and domain name inside; the host keeps its own', async () => {
    const hostDomain = fs.readFileSync('/proc/sys/kernel/domainname', 'utf8');
    const r = await run('sh', ['-c', 'hostname; cat /proc/sys/kernel/domainname'], { hostname: 'inside-host', domainname: 'inside.domain' });
    expect(r.stdout).toBe('inside-host\ninside.domain\n');
    expect(os.hostname()).not.toBe('inside-host');
    expect(fs.readFileSync('/proc/sys/kernel/domainname', 'utf8')).toBe(hostDomain);
  });

  it('ipc: a queue made inside is not seen outside, and the reverse', async () => {
    // "Outside" is a private IPC namespace of a fresh node process, so the host's stays untouched.
    const r = await runNode(`
      nsbox.unshare('ipc', { scope: 'thread' });
      const sh = async (script, ipc) => {
        const child = nsbox.spawnIsolated('sh', ['-c', script], { ipc, stdio: ['ignore', 'pipe', 'inherit'] });
        let text = ''; child.stdout.on('data', (d) => (text += d));
        await child.exited;
        return text.trim();
      };
      const queues = (text) => text.split('\\n').filter((l) => /^0x/.test(l)).length;
      await sh('ipcmk -Q >/dev/null', false);                         // a queue outside
      out({ outsideSeesOwn: queues(await sh('ipcs -q', false)), insideSeesOutside: queues(await sh('ipcs -q', true)) });
      out({ insideSeesOwn: queues(await sh('ipcmk -Q >/dev/null; ipcs -q', true)), outsideAfter: queues(await sh('ipcs -q', false)) });
    `);
    expect(r.stderr).toBe('');
    expect(outputs(r)).toEqual([
      { outsideSeesOwn: 1, insideSeesOutside: 0 },
      { insideSeesOwn: 1, outsideAfter: 1 },
    ]);
  });

  it('net: only lo, and it is up; a server inside is reachable inside and not from outside', async () => {
    const script = `
      const fs = require('fs'), net = require('net');
      const ifaces = fs.readFileSync('/proc/net/dev', 'utf8').split('\\n').slice(2).filter(Boolean).map((l) => l.split(':')[0].trim());
      const server = net.createServer((c) => c.end('hello')).listen(0, '127.0.0.1', () => {
        net.connect(server.address().port, '127.0.0.1').on('data', (d) => {
          console.log(JSON.stringify({ ifaces, port: server.address().port, reply: String(d) }));
          process.stdin.once('data', () => process.exit(0)); // stay up while the host tries
        });
      });
    `;
    const child = spawnIsolated(NODE, ['-e', script], { net: true, stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => child.stdout?.once('data', (d: Buffer) => resolve(d.toString())));
    const inside = JSON.parse(line) as { ifaces: string[]; port: number; reply: string };
    expect(inside.ifaces).toEqual(['lo']);
    expect(inside.reply).toBe('hello');
    const fromHost = await new Promise<string>((resolve) => {
      const socket = net.connect(inside.port, '127.0.0.1');
      socket.on('connect', () => (socket.destroy(), resolve('connected')));
      socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(fromHost).toBe('ECONNREFUSED');
    child.stdin?.end('done\n');
    expect(await child.exited).toMatchObject({ code: 0, signal: null });
  });

  it('net with a veth pair: a TCP client on the host side reaches a server inside; the pair goes with the sandbox', async () => {
    // The "host" end goes into a private network namespace of a fresh node process, not the host's.
    const r = await runNode(`
      const fs = require('fs'), net = require('net');
      nsbox.unshare('net', { scope: 'thread' });
      const ifaces = () => fs.readFileSync('/proc/net/dev', 'utf8').split('\\n').slice(2).filter(Boolean).map((l) => l.split(':')[0].trim());
      const server = "require('net').createServer((c) => c.end('over veth')).listen(8080, '10.200.0.2', () => console.log('up'))";
      const box = nsbox.spawnIsolated(process.execPath, ['-e', server], {
        net: { veth: { host: '10.200.0.1/30', inside: '10.200.0.2/30', hostName: 'nsbtest0' } },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise((resolve) => box.stdout.once('data', resolve));
      out(ifaces());
      const reply = await new Promise((resolve) => {
        const socket = net.connect(8080, '10.200.0.2');
        socket.on('data', (d) => resolve(String(d)));
        socket.on('error', (e) => resolve(e.code));
      });
      out(reply);
      box.kill('SIGKILL');
      await box.exited;
      // The kernel dismantles a dead network namespace in the background.
      const end = Date.now() + 5000;
      while (ifaces().includes('nsbtest0') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      out(ifaces());
    `);
    expect(r.stderr).toBe('');
    expect(outputs(r)).toEqual([['lo', 'nsbtest0'], 'over veth', ['lo']]);
  });

  it('cgroup: its own cgroup namespace, in which its cgroup is the root', async () => {
    const r = await run('sh', ['-c', 'readlink /proc/self/ns/cgroup; cat /proc/self/cgroup'], { cgroup: true });
    const [link, ...lines] = r.stdout.trim().split('\n');
    expect(link).not.toBe(fs.readlinkSync('/proc/self/ns/cgroup'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/:\/$/);
  });

  it('time: the offsets apply inside (boottime in /proc/uptime, monotonic in the clock), not outside', async () => {
    const day = 86_400;
    const r = await run('sh', ['-c', `cut -d' ' -f1 /proc/uptime; ${NODE} -e 'console.log(String(process.hrtime.bigint()))'`], {
      time: { boottimeOffset: 1000 * day, monotonicOffset: 500 * day },
    });
    const [uptime, monotonicNs] = r.stdout.trim().split('\n');
    const hostUptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expect(Number(uptime) - hostUptime).toBeGreaterThan(1000 * day - 60);
    expect(Number(uptime) - hostUptime).toBeLessThan(1000 * day + 60);
    const shift = (Number(BigInt(monotonicNs)) - Number(process.hrtime.bigint())) / 1e9;
    expect(shift).toBeGreaterThan(500 * day - 60);
    expect(shift).toBeLessThan(500 * day + 60);
    expect(hostUptime).toBeLessThan(1000 * day);
  });

  it("namespaces: 'all' gives a new namespace of every kind", async () => {
    const kinds = NAMESPACES.filter((ns) => fs.existsSync(`/proc/self/ns/${NS_FILES[ns]}`));
    const script = kinds.map((ns) => `readlink /proc/self/ns/${NS_FILES[ns]}`).join('; ');
    const r = await run('sh', ['-c', script], { namespaces: 'all' });
    const inside = r.stdout.trim().split('\n');
    const host = namespaces();
    expect(inside).toHaveLength(kinds.length);
    kinds.forEach((ns, i) => expect(inside[i]).not.toBe(host[ns]?.id));
  });

  it('a list of namespaces means exactly those (per-kind options still win)', async () => {
    const child = spawnIsolated('sh', ['-c', 'readlink /proc/self/ns/pid /proc/self/ns/net /proc/self/ns/uts'], { namespaces: ['net', 'uts'], pid: true, mount: true });
    const [pid, netns, uts] = (await collect(child.stdout)).trim().split('\n');
    await child.exited;
    const host = namespaces();
    expect(pid).not.toBe(host.pid?.id);
    expect(netns).not.toBe(host.net?.id);
    expect(uts).not.toBe(host.uts?.id);
    const ipcOnly = await run('readlink', ['/proc/self/ns/ipc', '/proc/self/ns/pid'], { namespaces: ['ipc'] });
    expect(ipcOnly.stdout.trim().split('\n')).toEqual([expect.not.stringMatching(host.ipc?.id ?? '-'), host.pid?.id]);
  });
});
