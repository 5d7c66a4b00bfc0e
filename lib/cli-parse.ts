/**
 * `nsbox run`'s words into a run: the flags split from the command, applied in order through
 * cli-flags.ts's table, checked as a whole, and spawnIsolated's errors put back in the flags' words.
 * @module
 */
import fs from 'fs';
import path from 'path';
import tty from 'tty';
import { CAPABILITIES, DEFAULT_CAPABILITIES, capabilityName, type Capability } from './capabilities';
import type { IsolatedOptions } from './options';
import { BWRAP_UNSUPPORTED, FLAGS, SHORT, type RunState } from './cli-flags';
import { RUN_USAGE, fail, usage } from './cli-usage';

const DEFAULT_KILL_AFTER_S = 2;

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

/** This package's version, from its package.json. */
export function version(): string {
  return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** The flag closest to a misspelt one (edit distance at most 2, or a unique prefix), for "did you mean". */
function closestFlag(word: string): string | undefined {
  const names = Object.keys(FLAGS);
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

interface Token {
  name: string;
  values: string[];
  /** The flag as typed, with its values: `--ro-bind /a /b`. */
  typed: string;
}

/**
 * Splits `nsbox run` arguments into its flags and the command: the flags end at `--` or at the
 * first word that is not a flag (`nsbox run ls -la /`), as in env(1), sudo and bwrap. A flag takes
 * its values from the next words whatever they are (`--nice -5`); one value may be inline
 * (`--nice=3`). `--bind` and `--ro-bind` take SRC DEST, or the older single SRC:DST when that word
 * holds a ':' and the word after it is a flag, `--` or absent. An unknown flag is a usage error
 * with "did you mean"; one of bubblewrap's that nsbox does not offer is refused by name.
 */
function splitRun(argv: readonly string[]): { tokens: Token[]; command: string[] } {
  const tokens: Token[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return { tokens, command: argv.slice(i + 1) };
    if (!word.startsWith('-') || word === '-') return { tokens, command: argv.slice(i) };
    const [name = '', inline] = SHORT[word] ? [SHORT[word]] : word.startsWith('--') ? splitInline(word.slice(2)) : [''];
    const spec = FLAGS[name];
    if (!spec) {
      if (BWRAP_UNSUPPORTED.has(name)) usage(`bubblewrap's --${name} is not supported by nsbox run (nsbox run --help lists what is)`);
      const guess = word.startsWith('--') ? closestFlag(name) : undefined;
      usage(`unknown option '${word}'${guess ? `: did you mean --${guess}?` : ''} (nsbox run --help lists them)`);
    }
    const flag = word.startsWith('--') ? `--${name}` : word;
    let n = spec.n;
    if (inline !== undefined) {
      if (spec.n === 0) usage(`${flag} takes no value`);
      // --bind=SRC:DST is the single-word form.
      if (spec.n > 1 && !((name === 'bind' || name === 'ro-bind') && inline.includes(':'))) usage(`${flag} takes ${spec.n} values, not ${flag}=VALUE`);
      tokens.push({ name, values: [inline], typed: `${flag} ${inline}` });
      continue;
    }
    if ((name === 'bind' || name === 'ro-bind') && argv[i + 1]?.includes(':') && (i + 2 >= argv.length || argv[i + 2]!.startsWith('-'))) n = 1;
    if (i + n >= argv.length) usage(n === 1 ? `${flag} needs a value (nsbox run --help)` : `${flag} takes ${n} values (nsbox run --help)`);
    const values = argv.slice(i + 1, i + 1 + n);
    tokens.push({ name, values, typed: [flag, ...values].join(' ') });
    i += n;
  }
  return { tokens, command: [] };
}

function splitInline(flag: string): [string, string | undefined] {
  const at = flag.indexOf('=');
  return at < 0 ? [flag, undefined] : [flag.slice(0, at), flag.slice(at + 1)];
}

/** A parsed `nsbox run`: the command, its options, and which flag set which option. */
export interface ParsedRun {
  command: string;
  args: string[];
  options: IsolatedOptions;
  /** Option path (`nice`, `mounts[1]`, `seccomp`) -> the flag that set it, as typed (`--ro-bind a:/b`). */
  flags: Map<string, string>;
  /** After a signal that asks the sandbox to end, SIGKILL this many ms later (--kill-after). */
  killAfterMs: number;
  /** --dry-run: print the plan, run nothing. */
  dryRun: boolean;
}

export function parseRun(argv: string[]): ParsedRun {
  const { tokens, command: words } = splitRun(argv);
  const given = new Set(tokens.map((t) => t.name));
  if (given.has('version')) {
    process.stdout.write(`${version()}\n`);
    process.exit(0);
  }
  if (given.has('help')) {
    process.stdout.write(`${RUN_USAGE}\n`);
    process.exit(0);
  }
  const [command, ...args] = words;
  if (!command) fail('no command given (nsbox run --help)', 2);
  const s: RunState = {
    options: {},
    flags: new Map(),
    mounts: [],
    capAdd: [],
    capDrop: [],
    untrusted: false,
    user: false,
    noInit: false,
    newSession: false,
    killAfter: undefined,
    env: undefined,
    perms: undefined,
    size: undefined,
    overlaySrc: [],
    root: undefined,
    proc: undefined,
    dev: undefined,
  };
  for (const token of tokens) {
    const spec = FLAGS[token.name]!;
    spec.apply(s, token.values, token.typed);
    // bwrap's modifiers apply to the very next operation, which must be one they fit.
    if (token.name === 'perms' || token.name === 'size') continue;
    const takes = spec.takes ?? [];
    if (s.perms !== undefined && !takes.includes('perms')) usage(`--perms must be followed by an operation that creates a file (--tmpfs, --dir, --file, --bind-data, --ro-bind-data), not ${token.typed.split(' ')[0]}`);
    if (s.size !== undefined && !takes.includes('size')) usage(`--size must be followed by --tmpfs, not ${token.typed.split(' ')[0]}`);
    s.perms = undefined;
    s.size = undefined;
    if (token.name === 'overlay-src') continue;
    if (s.overlaySrc.length > 0 && !spec.overlay) usage(`--overlay-src must be followed by another --overlay-src, --tmp-overlay or --overlay, not ${token.typed.split(' ')[0]}`);
    s.overlaySrc = [];
  }
  if (s.perms !== undefined || s.size !== undefined) usage(`${s.perms !== undefined ? '--perms' : '--size'} must be followed by the operation it applies to`);
  if (s.overlaySrc.length > 0) usage('--overlay-src must be followed by --tmp-overlay or --overlay');
  const { options, flags } = s;
  // An interactive shell needs the terminal, as its foreground group; otherwise detach from it
  // (CVE-2017-5226).
  // tty.isatty, not process.stdin.isTTY: touching process.stdin would make the shared terminal
  // non-blocking under the shell's feet.
  const interactive = tty.isatty(0) && !s.newSession;
  Object.assign(options, { stdio: 'inherit', init: !s.noInit, newSession: !interactive, foreground: interactive });
  if (s.noInit) flags.set('init', given.has('as-pid-1') ? '--as-pid-1' : '--no-init');
  if (s.newSession) flags.set('newSession', '--new-session');
  if (s.capAdd.length > 0 || s.capDrop.length > 0) {
    const flag = s.capAdd.length > 0 && s.capDrop.length > 0 ? '--cap-add/--cap-drop' : s.capAdd.length > 0 ? '--cap-add' : '--cap-drop';
    options.capabilities = capabilitiesFrom(s.capAdd, s.capDrop, s.untrusted);
    flags.set('capabilities', flag);
  }
  // Without root, namespaces need a user namespace: take one rather than fail with EPERM.
  if (!s.user && process.geteuid?.() !== 0) options.user = true;
  if (s.root) {
    // bwrap's root: nothing but what its flags mount, so the host's /proc and /dev stay as they
    // are in the copy of the host's tree unless --proc /proc or --dev /dev asks for new ones.
    options.rootfs = s.root.source;
    flags.set('rootfs', s.root.typed);
    if (s.root.readonly) {
      options.readonlyRoot = true;
      flags.set('readonlyRoot', s.root.typed);
    }
    s.proc ??= false;
    s.dev ??= false;
  }
  if (s.proc !== undefined) {
    options.proc = s.proc;
    flags.set('proc', s.proc ? '--proc /proc' : '--no-proc');
  }
  if (s.dev !== undefined) {
    options.dev = s.dev;
    flags.set('dev', s.dev ? '--dev /dev' : '--no-dev');
  }
  // bwrap makes files on its own empty root; without a root given, nsbox's root is the host's
  // tree, and a file, directory, link or mode made there would change the host itself.
  if (options.rootfs === undefined) {
    const at = s.mounts.findIndex((m) => m.type === 'file' || m.type === 'dir' || m.type === 'symlink' || m.type === 'chmod');
    if (at >= 0) usage(`${flags.get(`mounts[${at}]`)}: would change the host's own files, as no root is given (bwrap starts from an empty one): give it with --ro-bind / /, --bind DIR / or --rootfs DIR`);
  }
  if (s.mounts.length > 0) options.mounts = s.mounts;
  if (s.env !== undefined) {
    options.env = s.env;
    flags.set('env', '--setenv/--unsetenv/--clearenv');
  }
  const killAfter = s.killAfter ?? String(DEFAULT_KILL_AFTER_S);
  if (!/^\d+(\.\d+)?$/.test(killAfter)) fail(`--kill-after takes a number of seconds, got '${killAfter}'`, 2);
  return { command, args, options, flags, killAfterMs: Math.round(Number(killAfter) * 1000), dryRun: given.has('dry-run') };
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
export function inFlagTerms(message: string, flags: ReadonlyMap<string, string>): string | undefined {
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
