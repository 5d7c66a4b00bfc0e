/**
 * The CLI's argument parsing: --version, options ending at the first word that is not one,
 * values that begin with a dash, and "did you mean" for a misspelt flag.
 */
import { execFile } from 'child_process';
import fs from 'fs';
import path from 'path';
import { describeAsRoot } from './helpers/privilege';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
const VERSION = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
    child.stdin?.end();
  });
}

describe('nsbox argument parsing', () => {
  it('--version and -V print the version, at the top and after run', async () => {
    for (const args of [['--version'], ['-V'], ['run', '--version']]) expect(await cli(args)).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('a misspelt flag exits 2 with "did you mean"; an unknown one without a guess; a value where none is taken', async () => {
    expect(await cli(['run', '--hostnme', 'box', 'true'])).toEqual({ code: 2, stdout: '', stderr: "nsbox: unknown option '--hostnme': did you mean --hostname? (nsbox run --help lists them)\n" });
    expect((await cli(['run', '--rootf', '/x', 'true'])).stderr).toMatch(/did you mean --rootfs\?/);
    expect((await cli(['run', '--no-seccom', 'true'])).stderr).toMatch(/did you mean --no-seccomp\?/);
    expect((await cli(['run', '--zzzzzz', 'true'])).stderr).toBe("nsbox: unknown option '--zzzzzz' (nsbox run --help lists them)\n");
    expect((await cli(['run', '-x', 'true'])).code).toBe(2);
    expect(await cli(['run', '--ipc=yes', 'true'])).toMatchObject({ code: 2, stderr: 'nsbox: --ipc takes no value\n' });
    expect(await cli(['run', '--nice'])).toMatchObject({ code: 2, stderr: 'nsbox: --nice needs a value (nsbox run --help)\n' });
  });
});

describeAsRoot('nsbox run arguments', () => {
  it('options end at the first word that is not one: nsbox run ls -la / works, and so does --', async () => {
    const r = await cli(['run', 'ls', '-la', '/']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^total \d+\n/);
    expect(r.stdout).toMatch(/ proc\n/);
    // After the command, flags belong to the command, even nsbox's own.
    expect(await cli(['run', '--hostname', 'box', 'sh', '-c', 'hostname; echo "$@"', 'sh', '--net', '--'])).toEqual({ code: 0, stdout: 'box\n--net --\n', stderr: '' });
    expect((await cli(['run', '--', 'sh', '-c', 'echo $$'])).stdout).toBe('2\n');
  });

  it('a value that begins with a dash: --nice -5, and --nice=3', async () => {
    expect((await cli(['run', '--nice', '-5', 'nice'])).stdout).toBe('-5\n');
    expect((await cli(['run', '--nice=3', '--', 'nice'])).stdout).toBe('3\n');
    expect((await cli(['run', '--hostname=-odd-', 'hostname'])).stdout).toBe('-odd-\n');
  });
});
