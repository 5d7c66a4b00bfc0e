#!/usr/bin/env node
/**
 * The `nsbox` command: `nsbox run [options] -- CMD [ARGS...]`, a scripted `unshare --fork --pid
 * --mount-proc [--root]` built on spawnIsolated. Its exit code is the command's, or 128 + n when
 * the command died of signal n; bad usage exits 2, its own failures 125 (126/127 when the command
 * cannot be executed / is not found, as in shells). The table is in EXIT_STATUS and the README.
 * @module
 */
import os from 'os';
import tty from 'tty';
import { NsboxError } from './errors';
import type { IsolatedProcess } from './child';
import { spawnIsolated } from './spawn';
import { dryRun } from './dry-run';
import { RUN_USAGE, USAGE, fail } from './cli-usage';
import { inFlagTerms, parseRun, version, type ParsedRun } from './cli-parse';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * The forwarded signals that ask the sandbox to end. A PID 1 ignores each one it has no handler
 * for (the command with --no-init, or one that traps it), so a SIGKILL follows --kill-after
 * seconds later: nsbox never outlives the wish to end it.
 */
const ENDING: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']);

/**
 * How often a terminal on fd 0-2 is checked for a hang-up. nsbox is told of one by SIGHUP only
 * when it leads the session or is in the foreground group, and an interactive sandbox takes the
 * foreground; a hung-up terminal answers every ioctl with EIO, so isatty() turns false.
 */
const HANGUP_POLL_MS = 250;

async function run(argv: string[]): Promise<number> {
  let parsed: ParsedRun;
  try {
    parsed = parseRun(argv);
  } catch (e) {
    return fail(`${(e as Error).message} (nsbox run --help)`, 2);
  }
  if (parsed.dryRun) {
    let plan: ReturnType<typeof dryRun>;
    try {
      plan = dryRun(parsed.command, parsed.args, parsed.options);
    } catch (e) {
      const err = e as NsboxError;
      const words = inFlagTerms(err.message, parsed.flags);
      return words === undefined ? fail(err.message, 125) : fail(words, 2);
    }
    // 64-bit syscall argument values are bigints: numbers where exact, else decimal strings.
    const json = JSON.stringify(plan, (_key, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v), 2);
    process.stdout.write(`${json}\n`);
    return 0;
  }
  // Handlers first: the sandbox runs as soon as it is cloned, and a signal meant for it may come
  // before spawnIsolated has returned (it did, under load); such a signal is passed on right after.
  let child: IsolatedProcess | undefined;
  const early: NodeJS.Signals[] = [];
  let killTimer: NodeJS.Timeout | undefined;
  const forward = (signal: NodeJS.Signals): void => {
    if (child) child.kill(signal);
    else early.push(signal);
    // Counted from the first such signal; later ones are forwarded too, and change nothing.
    if (ENDING.has(signal)) killTimer ??= setTimeout(() => child?.kill('SIGKILL'), parsed.killAfterMs);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  // A terminal that went away (a closed window, a lost ssh connection) is a hang-up.
  const terminals = [0, 1, 2].filter((fd) => tty.isatty(fd));
  const hangupWatch =
    terminals.length === 0
      ? undefined
      : setInterval(() => {
          if (terminals.every((fd) => tty.isatty(fd))) return;
          clearInterval(hangupWatch);
          forward('SIGHUP');
        }, HANGUP_POLL_MS).unref();
  try {
    child = spawnIsolated(parsed.command, parsed.args, parsed.options);
  } catch (e) {
    const err = e as NsboxError;
    // The addon would not load: nsbox failed, not the usage.
    if (err.code === 'ERR_NSBOX_ADDON') return fail(err.message, 125);
    // Options that parse but spawnIsolated refuses (--nice 99): bad usage, like the others,
    // in the flags' words. One no flag set is nsbox's own fault.
    const words = inFlagTerms(err.message, parsed.flags);
    return words === undefined ? fail(err.message, 125) : fail(words, 2);
  }
  for (const signal of early) child.kill(signal);
  try {
    const { code, signal } = await child.exited;
    return code ?? 128 + (signal ? os.constants.signals[signal] : 0);
  } catch (e) {
    const err = e as NsboxError;
    return fail(inFlagTerms(err.message, parsed.flags) ?? err.message, exitStatusFor(err));
  } finally {
    for (const signal of FORWARDED) process.off(signal, forward);
    clearInterval(hangupWatch);
    clearTimeout(killTimer);
  }
}

function exitStatusFor(err: NsboxError): number {
  if (err.syscall === 'execve') return err.code === 'ENOENT' ? 127 : 126;
  return 125;
}

const COMMANDS: Record<string, string> = { run: RUN_USAGE };

function main(argv: string[]): void {
  const [sub, ...rest] = argv;
  if (sub === undefined) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  if (sub === '-h' || sub === '--help' || sub === 'help') {
    const topic = sub === 'help' ? rest[0] : undefined;
    if (topic !== undefined && COMMANDS[topic] === undefined) fail(`no help for '${topic}': the commands are ${Object.keys(COMMANDS).join(', ')}`, 2);
    process.stdout.write(`${topic === undefined ? USAGE : COMMANDS[topic]}\n`);
    process.exit(0);
  }
  if (sub === '--version' || sub === '-V') {
    process.stdout.write(`${version()}\n`);
    process.exit(0);
  }
  if (sub !== 'run') fail(`unknown command '${sub}' (nsbox --help lists them)`, 2);
  run(rest).then(
    (code) => process.exit(code),
    (e: unknown) => fail(String(e)),
  );
}

main(process.argv.slice(2));
