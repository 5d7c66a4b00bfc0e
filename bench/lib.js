// Shared by the benchmark scripts: timing, statistics and the spawners being compared.
'use strict';
const { spawn } = require('child_process');
const { spawnIsolated } = require('../dist');

const now = () => Number(process.hrtime.bigint()) / 1e6;

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p99: at(0.99), n: s.length };
}

/** Runs `once()` n times in sequence after a warm-up; returns latency stats in ms. */
async function latency(once, n, warmup = 20) {
  for (let i = 0; i < warmup; i++) await once();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const start = now();
    await once();
    samples.push(now() - start);
  }
  return stats(samples);
}

/** child_process.spawn until 'exit', as a user of Node would do it. */
function nodeSpawn(command, args) {
  return () =>
    new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
    });
}

/** spawnIsolated until `exited`. */
function nsbox(command, args, options) {
  return async () => {
    const { code } = await spawnIsolated(command, args, { stdio: 'ignore', ...options }).exited;
    if (code !== 0) throw new Error(`${command} exited ${code}`);
  };
}

module.exports = { now, stats, latency, nodeSpawn, nsbox };
