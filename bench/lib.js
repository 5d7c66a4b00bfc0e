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

/** Runs `once()` n times in sequence after a warm-up; returns the samples in ms. */
async function samplesOf(once, n, warmup = 20) {
  for (let i = 0; i < warmup; i++) await once();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const start = now();
    await once();
    samples.push(now() - start);
  }
  return samples;
}

/** Latency stats in ms of `once()` run n times in sequence. */
async function latency(once, n, warmup = 20) {
  return stats(await samplesOf(once, n, warmup));
}

/**
 * Latency stats of several spawners compared with each other: `rounds` rounds, each running
 * every spawner n/rounds times in turn, so that drift (frequency, caches, other load) is spread
 * over all of them instead of landing on whichever ran first.
 */
async function interleaved(rows, n, rounds = 3) {
  const samples = rows.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, [, once]] of rows.entries()) samples[i].push(...(await samplesOf(once, Math.ceil(n / rounds), round === 0 ? 20 : 5)));
  }
  return Object.fromEntries(rows.map(([name], i) => [name, stats(samples[i])]));
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

module.exports = { now, stats, latency, interleaved, nodeSpawn, nsbox };
