#!/usr/bin/env node
/**
 * The `nsbox` command: `nsbox run [options] -- CMD [ARGS...]`, a scripted `unshare --fork --pid
 * --mount-proc [--root]` built on spawnIsolated. Its exit code is the command's, or 128 + n when
 * the command died of signal n; bad usage exits 2, its own failures 125 (126/127 when the command
 * cannot be executed / is not found, as in shells). The table is in EXIT_STATUS and the README.
 * @module
 */
import fs from 'fs';
import os from 'os';
import tty from 'tty';
import path from 'path';
import { parseArgs, type ParseArgsConfig } from 'util';
import { CAPABILITIES, DEFAULT_CAPABILITIES, capabilityName, type Capability } from './capabilities';
import { NsboxError } from './errors';
import type { OciSeccomp } from './seccomp';
import type { IsolatedOptions, MountSpec } from './options';
import type { IsolatedProcess } from './child';
import { spawnIsolated } from './spawn';

const EXIT_STATUS = `Exit status:
  N        the command's own exit status
  128+N    the command died of signal N
  2        bad usage: an unknown flag, a value nsbox refuses, no command
  125      nsbox itself failed (the sandbox could not be set up, the addon did not load)
  126      the command could not be executed
  127      the command was not found`;

const USAGE = `Usage: nsbox COMMAND [options]

Linux namespaces from the command line.

Commands:
  run [options] [--] COMMAND [ARGS...]   run COMMAND as PID 1 of new namespaces
  help [COMMAND]                         show this help, or COMMAND's (nsbox run --help)

Options:
  -h, --help          show this help
  -V, --version       print nsbox's version

${EXIT_STATUS}`;

const RUN_USAGE = `Usage: nsbox run [options] [--] COMMAND [ARGS...]

Runs COMMAND as PID 1 of new PID and mount namespaces, with a fresh /proc. Run by a user other
than root, it adds a user namespace (as bwrap does), in which that user is root.

Options:
  --rootfs DIR        use DIR as the root filesystem (pivot_root), with a minimal /dev
  --readonly-root     the rootfs read-only inside
  --no-new-privs      setuid binaries and file capabilities no longer raise privileges (the default)
  --allow-new-privs   let them (no_new_privs off)
  --cap-add CAP       keep capability CAP (CAP_NET_RAW or NET_RAW; ALL for every one) (repeatable)
  --cap-drop CAP      drop capability CAP from the default set (ALL for every one) (repeatable)
  --seccomp FILE      the seccomp profile in FILE: JSON of an OCI linux.seccomp object (Docker's format)
  --no-seccomp        no seccomp filter
  --untrusted         the strictest sandbox this host allows (preset: 'untrusted'); flags given
                      with it win
  --nice N            run the whole sandbox at niceness N (-20..19), as nice(1)
  --hostname NAME     new UTS namespace with this hostname
  --ipc               new IPC namespace
  --net               new network namespace (only lo, up)
  --cgroup            new cgroup namespace
  --user              new user namespace (root inside, you outside: works without root)
  --all               a new namespace of every kind
  --cwd DIR           working directory inside
  --bind SRC:DST      bind-mount host SRC on DST inside the rootfs (repeatable)
  --ro-bind SRC:DST   the same, read-only (repeatable)
  --tmpfs DST         mount a tmpfs on DST inside the rootfs (repeatable)
  --no-init           the command itself is PID 1 (no reaping, default signal handling off)
  --kill-after SECS   after a signal that asks the sandbox to end (INT, TERM, HUP, QUIT) or a
                      hang-up of the terminal, SIGKILL it SECS later if it still runs (default 2)
  --no-proc           keep the host's /proc (ps then shows the host's processes)
  --no-dev            no minimal /dev in the rootfs
  --new-session       detach the command from the terminal even when it is interactive
  -h, --help          show this help
  -V, --version       print nsbox's version

The options end at -- or at the first word that is not one: nsbox run ls -la / works.

${EXIT_STATUS}`;

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * The forwarded signals that ask the sandbox to end. A PID 1 ignores each one it has no handler
 * for (the command with --no-init, or one that traps it), so a SIGKILL follows --kill-after
 * seconds later: nsbox never outlives the wish to end it.
 */
const ENDING: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']);

const DEFAULT_KILL_AFTER_S = 2;

/**
 * How often a terminal on fd 0-2 is checked for a hang-up. nsbox is told of one by SIGHUP only
 * when it leads the session or is in the foreground group, and an interactive sandbox takes the
 * foreground; a hung-up terminal answers every ioctl with EIO, so isatty() turns false.
 */
const HANGUP_POLL_MS = 250;

function fail(message: string, code = 125): never {
  process.stderr.write(`nsbox: ${message}\n`);
  process.exit(code);
}

function splitMount(value: string, flag: string): [string, string] {
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1) fail(`${flag} takes SRC:DST, got '${value}'`);
  return [value.slice(0, at), value.slice(at + 1)];
}

/** --cap-add and --cap-drop, as Docker reads them: drops from the default set, then adds. */
function capabilitiesFrom(add: string[], drop: string[], untrusted: boolean): Capability[] {
  const named = (flag: string, value: string): Capability[] | 'ALL' => {
    if (value.toUpperCase() === 'ALL') return 'ALL';
    const cap = capabilityName(value);
    if (!cap) fail(`${flag} takes a capability such as CAP_NET_RAW or NET_RAW (or ALL), got '${value}'`, 2);
    return [cap];
  };
  let set = new Set<Capability>(untrusted ? [] : DEFAULT_CAPABILITIES);
  for (const value of drop) {
    const caps = named('--cap-drop', value);
    if (caps === 'ALL') set = new Set();
    else for (const cap of caps) set.delete(cap);
  }
  for (const value of add) {
    const caps = named('--cap-add', value);
    for (const cap of caps === 'ALL' ? CAPABILITIES : caps) set.add(cap);
  }
  return CAPABILITIES.filter((c) => set.has(c));
}

/** The profile in a --seccomp file: JSON of an OCI linux.seccomp object. */
function seccompFile(file: string): OciSeccomp {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return fail(`--seccomp: cannot read ${file}: ${(e as Error).message}`, 2);
  }
  try {
    return JSON.parse(text) as OciSeccomp;
  } catch (e) {
    return fail(`--seccomp: ${file} is not JSON: ${(e as Error).message}`, 2);
  }
}

/** The flags of `nsbox run`, as parseArgs reads them. */
const RUN_OPTIONS = {
  rootfs: { type: 'string' },
  'readonly-root': { type: 'boolean' },
  'no-new-privs': { type: 'boolean' },
  'allow-new-privs': { type: 'boolean' },
  'cap-add': { type: 'string', multiple: true },
  'cap-drop': { type: 'string', multiple: true },
  seccomp: { type: 'string' },
  'no-seccomp': { type: 'boolean' },
  untrusted: { type: 'boolean' },
  nice: { type: 'string' },
  hostname: { type: 'string' },
  ipc: { type: 'boolean' },
  net: { type: 'boolean' },
  cgroup: { type: 'boolean' },
  user: { type: 'boolean' },
  all: { type: 'boolean' },
  cwd: { type: 'string' },
  bind: { type: 'string', multiple: true },
  'ro-bind': { type: 'string', multiple: true },
  tmpfs: { type: 'string', multiple: true },
  'no-init': { type: 'boolean' },
  'kill-after': { type: 'string' },
  'no-proc': { type: 'boolean' },
  'no-dev': { type: 'boolean' },
  'new-session': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

type RunFlag = keyof typeof RUN_OPTIONS;

/** This package's version, from its package.json. */
function version(): string {
  return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** The flag closest to a misspelt one (edit distance at most 2, or a unique prefix), for "did you mean". */
function closestFlag(word: string): string | undefined {
  const names = Object.keys(RUN_OPTIONS);
  const prefixed = names.filter((n) => n.startsWith(word) && word.length >= 2);
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const d = distance(word, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/**
 * Splits `nsbox run` arguments into its flags and the command: the flags end at `--` or at the
 * first word that is not a flag (`nsbox run ls -la /`), as in env(1) and sudo. A flag that takes
 * a value takes the next word whatever it is (`--nice -5`); it is handed on as `--flag=value`,
 * which parseArgs reads without doubt. An unknown flag is a usage error with "did you mean".
 */
function splitRun(argv: readonly string[]): { options: string[]; command: string[] } {
  const options: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return { options, command: argv.slice(i + 1) };
    if (!word.startsWith('-') || word === '-') return { options, command: argv.slice(i) };
    const short = Object.entries(RUN_OPTIONS as Record<string, { short?: string }>).find(([, o]) => o.short !== undefined && `-${o.short}` === word);
    const [name = '', inline] = short ? [short[0]] : word.startsWith('--') ? splitInline(word.slice(2)) : [''];
    const spec = RUN_OPTIONS[name as RunFlag] as { type: 'string' | 'boolean' } | undefined;
    if (!spec) {
      const guess = word.startsWith('--') ? closestFlag(name) : undefined;
      fail(`unknown option '${word}'${guess ? `: did you mean --${guess}?` : ''} (nsbox run --help lists them)`, 2);
    }
    if (spec.type === 'boolean') {
      if (inline !== undefined) fail(`${word.split('=')[0]} takes no value`, 2);
      options.push(`--${name}`);
      continue;
    }
    if (inline !== undefined) {
      options.push(`--${name}=${inline}`);
      continue;
    }
    if (i + 1 >= argv.length) fail(`--${name} needs a value (nsbox run --help)`, 2);
    options.push(`--${name}=${argv[++i]!}`);
  }
  return { options, command: [] };
}

function splitInline(flag: string): [string, string | undefined] {
  const at = flag.indexOf('=');
  return at < 0 ? [flag, undefined] : [flag.slice(0, at), flag.slice(at + 1)];
}

/** A parsed `nsbox run`: the command, its options, and which flag set which option. */
interface ParsedRun {
  command: string;
  args: string[];
  options: IsolatedOptions;
  /** Option path (`nice`, `mounts[1]`, `seccomp`) -> the flag that set it, as typed (`--ro-bind a:/b`). */
  flags: Map<string, string>;
  /** After a signal that asks the sandbox to end, SIGKILL this many ms later (--kill-after). */
  killAfterMs: number;
}

function parseRun(argv: string[]): ParsedRun {
  const { options: tokens, command: words } = splitRun(argv);
  const { values } = parseArgs({ args: tokens, allowPositionals: false, strict: true, options: RUN_OPTIONS });
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    process.exit(0);
  }
  if (values.help) {
    process.stdout.write(`${RUN_USAGE}\n`);
    process.exit(0);
  }
  const [command, ...args] = words;
  if (!command) fail('no command given (nsbox run --help)', 2);
  const flags = new Map<string, string>();
  const mounts: MountSpec[] = [];
  const mount = (flag: string, spec: MountSpec, value: string): void => {
    flags.set(`mounts[${mounts.length}]`, `${flag} ${value}`);
    mounts.push(spec);
  };
  for (const v of values.bind ?? []) {
    const [source, target] = splitMount(v, '--bind');
    mount('--bind', { type: 'bind', source, target }, v);
  }
  for (const v of values['ro-bind'] ?? []) {
    const [source, target] = splitMount(v, '--ro-bind');
    mount('--ro-bind', { type: 'bind', source, target, readonly: true }, v);
  }
  for (const target of values.tmpfs ?? []) mount('--tmpfs', { type: 'tmpfs', target }, target);
  // An interactive shell needs the terminal, as its foreground group; otherwise detach from it
  // (CVE-2017-5226).
  // tty.isatty, not process.stdin.isTTY: touching process.stdin would make the shared terminal
  // non-blocking under the shell's feet.
  const interactive = tty.isatty(0) && values['new-session'] !== true;
  const options: IsolatedOptions = {
    stdio: 'inherit',
    init: !values['no-init'],
    newSession: !interactive,
    foreground: interactive,
  };
  const set = <K extends keyof IsolatedOptions>(key: K, value: IsolatedOptions[K], flag: string): void => {
    options[key] = value;
    flags.set(key, flag);
  };
  if (values['no-init']) flags.set('init', '--no-init');
  if (values['new-session']) flags.set('newSession', '--new-session');
  if (values.rootfs !== undefined) set('rootfs', values.rootfs, '--rootfs');
  if (values['readonly-root']) set('readonlyRoot', true, '--readonly-root');
  if (values['no-new-privs']) set('noNewPrivileges', true, '--no-new-privs');
  if (values['allow-new-privs']) set('noNewPrivileges', false, '--allow-new-privs');
  if (values.untrusted) set('preset', 'untrusted', '--untrusted');
  if (values['cap-add'] || values['cap-drop']) {
    const flag = values['cap-add'] && values['cap-drop'] ? '--cap-add/--cap-drop' : values['cap-add'] ? '--cap-add' : '--cap-drop';
    set('capabilities', capabilitiesFrom(values['cap-add'] ?? [], values['cap-drop'] ?? [], values.untrusted === true), flag);
  }
  if (values['no-seccomp']) set('seccomp', false, '--no-seccomp');
  if (values.seccomp !== undefined) set('seccomp', seccompFile(values.seccomp), `--seccomp ${values.seccomp}`);
  if (values.nice !== undefined) {
    if (!/^-?\d+$/.test(values.nice)) fail(`--nice takes an integer, got '${values.nice}'`, 2);
    set('nice', Number(values.nice), '--nice');
  }
  if (values.hostname !== undefined) set('hostname', values.hostname, '--hostname');
  if (values.ipc) set('ipc', true, '--ipc');
  if (values.net) set('net', true, '--net');
  if (values.cgroup) set('cgroup', true, '--cgroup');
  // Without root, namespaces need a user namespace: take one rather than fail with EPERM.
  if (values.user) set('user', true, '--user');
  else if (process.geteuid?.() !== 0) options.user = true;
  if (values.all) set('namespaces', 'all', '--all');
  if (values.cwd !== undefined) set('cwd', values.cwd, '--cwd');
  if (values['no-proc']) set('proc', false, '--no-proc');
  if (values['no-dev']) set('dev', false, '--no-dev');
  if (mounts.length > 0) options.mounts = mounts;
  const killAfter = values['kill-after'] ?? String(DEFAULT_KILL_AFTER_S);
  if (!/^\d+(\.\d+)?$/.test(killAfter)) fail(`--kill-after takes a number of seconds, got '${killAfter}'`, 2);
  return { command, args, options, flags, killAfterMs: Math.round(Number(killAfter) * 1000) };
}

/**
 * An error of spawnIsolated in the words of the command line: the option it names becomes the
 * flag that set it (`The value of "nice" is out of range...` -> `--nice must be an integer from
 * -20 to 19, got 99`; `mounts[0]: bind ...` -> `--ro-bind a:/b: bind ...`). It reads the shapes
 * lib/errors.ts words (invalidArgType, invalidArgValue: `The "NAME" option ...`; outOfRange: `The
 * value of "NAME" is out of range. It must be ...`) and plan.ts's `mounts[i]:` steps; test 90
 * holds each shape. `undefined` for an option no flag set (the CLI's own, such as stdio): then
 * nsbox is at fault, not the usage.
 */
function inFlagTerms(message: string, flags: ReadonlyMap<string, string>): string | undefined {
  const step = /^mounts\[(\d+)\]/.exec(message);
  if (step) {
    const flag = flags.get(step[0]);
    return flag === undefined ? undefined : flag + message.slice(step[0].length);
  }
  const shape = /^The value of "([^"]+)" is out of range\. It must be (.*?)\. Received (.*)$/s.exec(message) ?? /^The "([^"]+)" option (.*?)\.?(?: Received (.*))?$/s.exec(message);
  if (!shape) return message;
  const [, name = '', rest = '', received] = shape;
  const words = shape[0].startsWith('The value') ? `must be ${rest}` : rest;
  const got = received === undefined ? '' : `, got ${/^type \w+ \((.*)\)$/s.exec(received)?.[1] ?? received}`;
  // The longest option path that set NAME or a part of it: `mounts[0]` for `mounts[0].target`.
  const key = [...flags.keys()].filter((k) => name === k || name.startsWith(`${k}.`) || name.startsWith(`${k}[`)).sort((a, b) => b.length - a.length)[0];
  if (key === undefined) return undefined;
  const flag = flags.get(key)!;
  if (key === name) return `${flag} ${words}${got}`;
  const part = name.slice(key.length).replace(/^\./, '');
  const field = key.startsWith('mounts[') ? ({ source: 'SRC', target: 'DST' } as Record<string, string>)[part] ?? part : part;
  return `${flag}: ${field} ${words}${got}`;
}

async function run(argv: string[]): Promise<number> {
  let parsed: ParsedRun;
  try {
    parsed = parseRun(argv);
  } catch (e) {
    return fail(`${(e as Error).message} (nsbox run --help)`, 2);
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
