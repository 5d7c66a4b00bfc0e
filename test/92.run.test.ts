/**
 * runIsolated: the result API (execa's shape) over spawnIsolated's handle: input, encodings,
 * interleaved output, maxBuffer, timeout, and rejections that carry the whole result.
 */
import { NsboxError, RunError, runIsolated } from '../lib';
import { describeAsRoot } from './helpers/privilege';

describe('runIsolated options', () => {
  it('rejects bad options of its own before anything runs, and unknown ones as spawnIsolated does', async () => {
    await expect(runIsolated('true', [], { input: 5 as unknown as string })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(runIsolated('true', [], { encoding: 'latin1' as 'utf8' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(runIsolated('true', [], { maxBuffer: -1 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(runIsolated('true', [], { reject: 'no' as unknown as boolean })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(runIsolated('true', [], { input: 'x', stdio: 'ignore' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(runIsolated('true', [], { bogus: 1 } as object)).rejects.toMatchObject({ code: 'ERR_NSBOX_UNKNOWN_OPTION' });
  });
});

describeAsRoot('runIsolated', () => {
  it('collects stdout, stderr and, with all, both interleaved; input goes to stdin', async () => {
    const r = await runIsolated('sh', ['-c', 'echo out; sleep 0.05; echo err >&2; sleep 0.05; cat'], { input: 'in\n', all: true });
    expect(r).toEqual({ command: 'sh -c echo out; sleep 0.05; echo err >&2; sleep 0.05; cat', code: 0, signal: null, stdout: 'out\nin\n', stderr: 'err\n', all: 'out\nerr\nin\n', timedOut: false, isMaxBuffer: false, reason: 'exit', limitsHit: [], usage: expect.any(Object) });
  });

  it('input as bytes, output as Buffers; without input stdin is /dev/null', async () => {
    const r = await runIsolated('cat', { input: new Uint8Array([0, 255, 10]), encoding: 'buffer' });
    expect(Buffer.isBuffer(r.stdout)).toBe(true);
    expect([...r.stdout]).toEqual([0, 255, 10]);
    expect((await runIsolated('cat')).stdout).toBe('');
    expect((await runIsolated('sh', ['-c', 'echo $$'])).stdout).toBe('2\n'); // PID 2 under the init
  });

  it('a non-zero exit rejects with a RunError (an NsboxError) carrying the whole result; reject: false resolves', async () => {
    const err = (await runIsolated('sh', ['-c', 'echo partial; echo boom >&2; exit 3']).catch((e: unknown) => e)) as RunError;
    expect(err).toBeInstanceOf(RunError);
    expect(err).toBeInstanceOf(NsboxError);
    expect(err).toMatchObject({ code: 'ERR_NSBOX_EXIT', exitCode: 3, signal: null, stdout: 'partial\n', stderr: 'boom\n', timedOut: false, isMaxBuffer: false });
    expect(err.message).toBe('Command failed with exit code 3: sh -c echo partial; echo boom >&2; exit 3\n\nboom');
    expect(err.result).toMatchObject({ code: 3, stdout: 'partial\n' });
    expect(await runIsolated('sh', ['-c', 'exit 3'], { reject: false })).toMatchObject({ code: 3, signal: null });
  });

  it('a signal rejects with ERR_NSBOX_SIGNAL', async () => {
    await expect(runIsolated('sh', ['-c', 'kill -SEGV $$'])).rejects.toMatchObject({ code: 'ERR_NSBOX_SIGNAL', signal: 'SIGSEGV', exitCode: null });
  });

  it('maxBuffer: the sandbox is killed when a stream passes it, and the output is cut there', async () => {
    const started = Date.now();
    const err = (await runIsolated('sh', ['-c', 'trap "" TERM; yes'], { maxBuffer: 65536 }).catch((e: unknown) => e)) as RunError;
    expect(err).toMatchObject({ code: 'ERR_NSBOX_MAX_BUFFER', isMaxBuffer: true, signal: 'SIGKILL' });
    expect(err.stdout.length).toBe(65536);
    expect(Date.now() - started).toBeLessThan(3000);
    const ok = await runIsolated('sh', ['-c', 'printf 12345678'], { maxBuffer: 8 });
    expect(ok).toMatchObject({ stdout: '12345678', isMaxBuffer: false });
  });

  it('timeout: killSignal, then timedOut; SIGKILL follows for a command that ignores it', async () => {
    await expect(runIsolated('sleep', ['10'], { timeout: 100 })).rejects.toMatchObject({ code: 'ERR_NSBOX_TIMEOUT', timedOut: true, signal: 'SIGTERM' });
    const r = await runIsolated('sleep', ['10'], { timeout: 100, killSignal: 'SIGKILL', reject: false });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL', code: null });
    expect(await runIsolated('true', [], { timeout: 5000 })).toMatchObject({ timedOut: false, code: 0 });
  });

  it('a sandbox that cannot be set up rejects with its NsboxError, reject: false or not', async () => {
    await expect(runIsolated('/nonexistent/cmd', [], { reject: false })).rejects.toMatchObject({ name: 'NsboxError', code: 'ENOENT', syscall: 'execve' });
  });

  it("the issue's one-liner: untrusted code, a timeout, and a size limit", async () => {
    const snippet = 'echo "uid $(id -u)"; touch /x 2>/dev/null || echo read-only';
    const { stdout } = await runIsolated('sh', ['-c', snippet], { preset: 'untrusted', timeout: 2000, maxBuffer: 1 << 20 });
    expect(stdout).toBe('uid 0\nread-only\n');
  });
});
