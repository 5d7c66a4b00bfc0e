/**
 * Under a seccomp profile that answers clone3 with ENOSYS (older Docker defaults), spawning still
 * works: nsbox uses clone() with CLONE_PIDFD, never clone3. Checked against the real filter.
 */
import { execFileSync } from 'child_process';
import os from 'os';
import path from 'path';
import { describeAsRoot } from './helpers/privilege';
import { DIST } from './helpers/node';

describeAsRoot('under a seccomp filter that refuses clone3', () => {
  let launcher: string;
  beforeAll(() => {
    launcher = path.join(os.tmpdir(), 'enosys');
    execFileSync('gcc', ['-O2', '-Wall', '-o', launcher, path.join(__dirname, 'helpers', 'enosys.c')]);
  });

  it('the filter is real: clone3 is ENOSYS under it and not without it', () => {
    expect(execFileSync(launcher, ['--probe'], { encoding: 'utf8' }).trim()).not.toBe('ENOSYS');
    expect(execFileSync(launcher, ['clone3', launcher, '--probe'], { encoding: 'utf8' }).trim()).toBe('ENOSYS');
  });

  it('probe() sees clone3 refused under the filter, and available without it', () => {
    const script = `console.log(JSON.stringify(require(${JSON.stringify(DIST)}).probe().clone3))`;
    expect(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))).toEqual({ supported: true });
    const refused = JSON.parse(execFileSync(launcher, ['clone3', process.execPath, '-e', script], { encoding: 'utf8' })) as { supported: boolean; reason: string };
    expect(refused.supported).toBe(false);
    expect(refused.reason).toMatch(/seccomp/);
  });

  it('spawns, as PID 1 of a new PID namespace, and reports the status', () => {
    const script = `
      const { spawnIsolated } = require(${JSON.stringify(DIST)});
      const child = spawnIsolated('sh', ['-c', 'echo $$; exit 3'], { init: false, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = ''; child.stdout.on('data', (d) => (out += d));
      child.exited.then((r) => console.log(JSON.stringify({ out, ...r })), (e) => console.log(JSON.stringify({ error: e.message })));
    `;
    const out = execFileSync(launcher, ['clone3', process.execPath, '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ out: '1\n', code: 3, signal: null });
  });
});
