// Testing with nsbox/testing: a tiny TCP server, tested inside a network namespace of its own
// (net: true, only lo). It answers from inside the namespace and the host's connection is
// refused: the same port on the host's loopback is another network stack.
// Run: sudo node examples/14-testing.test.js (node:test; jest runs the same calls)
'use strict';
const assert = require('node:assert');
const net = require('node:net');
const { test } = require('node:test');
const { runInSandbox, skipUnless, withSandbox } = require('nsbox/testing');

/** The code under test: answers each message in capitals. */
function startServer(port) {
  const server = require('net').createServer((c) => c.once('data', (d) => c.end(String(d).toUpperCase())));
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

/** A client: sends `message` to 127.0.0.1:port, resolves with the answer. */
function ask(port, message) {
  return new Promise((resolve, reject) => {
    const c = require('net').connect(port, '127.0.0.1', () => c.write(message));
    let answer = '';
    c.on('data', (d) => (answer += d)).on('end', () => resolve(answer)).on('error', reject);
  });
}

/** A port nothing listens on in the host's network namespace, for the host's attempt. */
function freeHostPort() {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

test('the server inside net: true is reachable from inside and refused from the host', { skip: skipUnless('root') }, async (t) => {
  const port = await freeHostPort();
  await withSandbox({ net: true }, async (box) => {
    // Functions travel as source: the server's own source, started in the sandbox's node.
    const server = box.spawn(process.execPath, ['-e', `(${startServer})(${port}).then(() => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => server.stdout.once('data', resolve));

    await t.test('reachable from inside (a sandbox that joins its network)', async () => {
      assert.strictEqual(await runInSandbox(ask, [port, 'ping'], { join: { net: server } }), 'PING');
    });
    await t.test('refused from the host', async () => {
      await assert.rejects(ask(port, 'ping'), { code: 'ECONNREFUSED' });
    });
  }); // the server is ended here, and withSandbox fails if anything was left behind
});

test('a whole exchange inside one sandbox, as one function', { skip: skipUnless('root') }, async () => {
  const answer = await runInSandbox(
    async (port) => {
      const net = require('net');
      const server = net.createServer((c) => c.once('data', (d) => c.end(String(d).toUpperCase())));
      await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
      const c = net.connect(port, '127.0.0.1', () => c.write('hello'));
      let answer = '';
      for await (const d of c) answer += d;
      return { answer, interfaces: Object.keys(require('os').networkInterfaces()) };
    },
    [7000],
    { net: true },
  );
  assert.deepStrictEqual(answer, { answer: 'HELLO', interfaces: ['lo'] });
});
