/**
 * The CLI never outlives its purpose: a signal that asks the sandbox to end and does not end it
 * (with --no-init the command is PID 1, which ignores every signal it has no handler for) is
 * followed by SIGKILL after --kill-after seconds, and a terminal that goes away ends the sandbox.
 */
import { spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { describeAsRoot } from './helpers/privilege';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');

const tags: string[] = [];
/** An argument of sleep(1) no other process has: 100 seconds and a tag, to find it in /proc. */
function uniqueSleep(): string {
  const tag = `100.${process.pid}${String(tags.length).padStart(3, '0')}`;
  tags.push(tag);
  return tag;
}

/** Pids of the processes whose command line contains `word` as one argument. */
function processesWith(word: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(word)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function until(what: string, done: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The sleep of `tag`, started by `nsbox run`, is running (as the command, not as nsbox's argument). */
function sleepRuns(tag: string): boolean {
  return processesWith(tag).some((pid) => fs.readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n');
}

/** Starts `nsbox run ARGS -- sleep TAG`, waits until the sleep runs, signals nsbox, and times its end. */
async function signalled(signal: NodeJS.Signals, args: string[], command: (tag: string) => string[] = (tag) => ['sleep', tag]): Promise<{ code: number | null; ms: number; tag: string }> {
  const tag = uniqueSleep();
  const child = spawn(process.execPath, [CLI, 'run', ...args, '--', ...command(tag)], { stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await until('the sandbox runs its sleep', () => sleepRuns(tag), 10_000);
  const started = Date.now();
  child.kill(signal);
  const code = await exited;
  return { code, ms: Date.now() - started, tag };
}

describeAsRoot('nsbox run ends when it is asked to', () => {
  afterAll(() => {
    // What a failed test left running (nsbox orphaned by script, or a sandbox that did not end).
    for (const tag of tags) for (const pid of processesWith(tag)) process.kill(pid, 'SIGKILL');
  });

  it('--no-init -- sleep 100 ended by SIGTERM to nsbox: SIGKILL after the default 2 s', async () => {
    const r = await signalled('SIGTERM', ['--no-init']);
    expect(r.code).toBe(128 + 9);
    expect(r.ms).toBeGreaterThanOrEqual(1900);
    expect(r.ms).toBeLessThan(5000);
    expect(processesWith(r.tag)).toEqual([]);
  });

  it.each(['SIGINT', 'SIGHUP', 'SIGQUIT'] as const)('--no-init: %s too, after --kill-after', async (signal) => {
    const r = await signalled(signal, ['--no-init', '--kill-after', '0.3']);
    expect(r.code).toBe(128 + 9);
    expect(r.ms).toBeGreaterThanOrEqual(280);
    expect(r.ms).toBeLessThan(3000);
    expect(processesWith(r.tag)).toEqual([]);
  });

  it('with the init, a command that ignores SIGTERM is killed after --kill-after', async () => {
    const r = await signalled('SIGTERM', ['--kill-after', '0.3'], (tag) => ['sh', '-c', `trap "" TERM; sleep ${tag}`]);
    expect(r.code).toBe(128 + 9);
    expect(r.ms).toBeLessThan(3000);
    expect(processesWith(r.tag)).toEqual([]);
  });

  it('a command that ends on the signal ends with it: no SIGKILL, no wait', async () => {
    const r = await signalled('SIGTERM', ['--kill-after', '30']);
    expect(r.code).toBe(128 + 15);
    expect(r.ms).toBeLessThan(3000);
  });

  it('signals that do not ask it to end (SIGUSR1, SIGWINCH) are only forwarded', async () => {
    const tag = uniqueSleep();
    const child = spawn(process.execPath, [CLI, 'run', '--no-init', '--kill-after', '0.1', '--', 'sleep', tag], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until('the sandbox runs its sleep', () => sleepRuns(tag), 10_000);
    child.kill('SIGWINCH');
    child.kill('SIGUSR1'); // PID 1 has no handler: nothing happens
    await new Promise((r) => setTimeout(r, 600));
    expect(sleepRuns(tag)).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(128 + 9);
  });

  it('--kill-after takes seconds; anything else is bad usage', async () => {
    const child = spawn(process.execPath, [CLI, 'run', '--kill-after', 'soon', '--', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise((r) => child.on('close', r))).toBe(2);
    expect(stderr).toBe("nsbox: --kill-after takes a number of seconds, got 'soon'\n");
  });

  it('a terminal that goes away ends the sandbox, though nsbox gets no SIGHUP from it', async () => {
    // script(1) gives nsbox a terminal; its shell runs nsbox as a child (not as the session
    // leader), and the sandbox takes the foreground: when the terminal goes, the kernel's SIGHUP
    // goes to the shell and to the sandbox's PID 1, which ignores it. SIGKILL of script closes
    // the terminal's master side, which hangs the terminal up.
    const tag = uniqueSleep();
    const script = spawn('script', ['-qec', `${process.execPath} ${CLI} run --no-init -- sleep ${tag}; true`, '/dev/null'], { stdio: 'ignore' });
    const scriptExited = new Promise((r) => script.on('exit', r));
    await until('the sandbox runs its sleep', () => sleepRuns(tag), 10_000);
    const started = Date.now();
    script.kill('SIGKILL');
    await scriptExited;
    // nsbox and its sandbox: every process with the tag in its command line.
    await until('nsbox and its sandbox end', () => processesWith(tag).length === 0, 6000);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
