/** Runs a sandbox to the end and collects what it printed. */
import type { Readable } from 'stream';
import { spawnIsolated, type IsolatedOptions, type IsolatedProcess } from '../../lib';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function collect(stream: Readable | null): Promise<string> {
  if (!stream) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

export async function finish(child: IsolatedProcess): Promise<RunResult> {
  const [stdout, stderr, result] = await Promise.all([collect(child.stdout), collect(child.stderr), child.exited]);
  return { stdout, stderr, ...result };
}

export function run(command: string, args: string[] = [], options: IsolatedOptions = {}): Promise<RunResult> {
  const child = spawnIsolated(command, args, options);
  child.stdin?.end();
  return finish(child);
}
