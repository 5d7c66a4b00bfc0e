/**
 * The README's examples are true: every `spawnIsolated(...)` line of its "One example per
 * option" list is valid options (dryRun: nothing runs), and each that says what it prints is run
 * and prints that.
 */
import fs from 'fs';
import path from 'path';
import { dryRun, hostRootfs, spawnIsolated, type IsolatedOptions } from '../lib';
import { describeAsRoot } from './helpers/privilege';
import { collect } from './helpers/run';

const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const block = /One example per option:\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const snippets = block.split('\n').filter((l) => l.startsWith('spawnIsolated('));

/** Evaluates a snippet line with `spawnIsolated` standing for `call`, and the names the lines use. */
function evaluate(line: string, call: (c: string, a?: readonly string[], o?: IsolatedOptions) => unknown, rootfs: string): unknown {
  const code = line.replace(/\s+\/\/ .*$/, '').replace(/^spawnIsolated\(/, 'call(');
  const names = { call, rootfs, emptyDir: rootfs, box: { pid: 1, pidfd: 0 }, snippet: 'true', fs, AbortSignal };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function(...Object.keys(names), `return ${code.trim().replace(/;$/, '')}`)(...Object.values(names));
}

describe('README examples', () => {
  it('the list has them all', () => {
    expect(snippets.length).toBeGreaterThan(40);
  });

  it.each(snippets.map((s) => [s]))('valid options: %s', (line) => {
    const dry = (c: string, a?: readonly string[], o?: IsolatedOptions) => {
      dryRun(c, a ?? [], o ?? {});
      return { on: () => undefined };
    };
    // A Podman profile file need not exist here: the snippet's options are what is checked.
    const withFile = line.includes('/etc/containers/seccomp.json') ? line.replace(/JSON\.parse\(fs\.readFileSync\([^)]*\)[^)]*\)/, "{ defaultAction: 'SCMP_ACT_ALLOW' }") : line;
    expect(() => evaluate(withFile, dry, '/srv/rootfs')).not.toThrow();
  });
});

describeAsRoot('README examples that say what they print', () => {
  const printing = snippets.filter((l) => /\/\/ prints \S+/.test(l));
  let rootfs: ReturnType<typeof hostRootfs>;
  beforeAll(() => {
    rootfs = hostRootfs(['sh', 'hostname', 'domainname', 'id', 'pwd']);
  });
  afterAll(() => rootfs.remove());

  it.each(printing.map((s) => [s]))('%s', async (line) => {
    const expected = /\/\/ prints ([^\s;,]+)/.exec(line)?.[1];
    const child = evaluate(line, (c, a, o) => spawnIsolated(c, a ?? [], { ...o, stdio: ['ignore', 'pipe', 'inherit'] }), rootfs.dir) as ReturnType<typeof spawnIsolated>;
    const [out] = await Promise.all([collect(child.stdout), child.exited]);
    expect(out.trim()).toBe(expected);
  });
});
