/**
 * Runs a script in a fresh `node` process against the built package (dist/), for everything that
 * changes the calling process: in-process primitives are never called in the test runner itself.
 */
import { execFile } from 'child_process';
import path from 'path';

export const DIST = path.join(__dirname, '..', '..', 'dist', 'index.js');

export interface NodeResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `body` runs with `nsbox` bound to the package and `out(value)` printing JSON. */
export function runNode(body: string, options: { uid?: number; timeout?: number } = {}): Promise<NodeResult> {
  const script = `const nsbox = require(${JSON.stringify(DIST)}); const out = (v) => console.log(JSON.stringify(v));\n(async () => {\n${body}\n})().catch((e) => { console.error(e && e.stack || e); process.exit(99); });`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { timeout: options.timeout ?? 20_000 }, (err, stdout, stderr) => {
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

/** The JSON values a script printed with out(), in order. */
export function outputs(result: NodeResult): unknown[] {
  return result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);
}
