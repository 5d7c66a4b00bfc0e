/**
 * The constants lib/ and the native side share (wire formats, flags, stages) are one set: every
 * value in lib/constants.ts WIRE is checked against src/sys/wire.h, and every #define and enum
 * member of wire.h has its counterpart here. Pure: reads files only.
 */
import fs from 'fs';
import path from 'path';
import { WIRE } from '../lib/constants';

const header = fs.readFileSync(path.join(__dirname, '..', 'src', 'sys', 'wire.h'), 'utf8');

/** Every `#define NSBOX_X value` and `NSBOX_X = value,` of wire.h. */
function nativeConstants(): Map<string, number> {
  const found = new Map<string, number>();
  for (const m of header.matchAll(/^#define (NSBOX_\w+) (0x[0-9a-f]+|\d+)u?\b/gim)) found.set(m[1], Number(m[2]));
  for (const m of header.matchAll(/^\s+(NSBOX_\w+) = (\d+),/gm)) found.set(m[1], Number(m[2]));
  return found;
}

/** The name each WIRE entry has in wire.h. */
function expectedPairs(): [string, number][] {
  const pairs: [string, number][] = [
    ['NSBOX_PLAN_MAGIC', WIRE.magic],
    ['NSBOX_PLAN_VERSION', WIRE.version],
    ['NSBOX_IN_ROOT', WIRE.inRoot],
    ['NSBOX_OPTIONAL', WIRE.optional],
    ['NSBOX_CREATE', WIRE.create],
    ['NSBOX_SPAWN_MAGIC', WIRE.spawn.magic],
    ['NSBOX_SPAWN_VERSION', WIRE.spawn.version],
    ['NSBOX_SPAWN_STRINGS', WIRE.spawn.strings],
  ];
  const planOption: Record<string, string> = { setsid: 'SETSID', noNewPrivs: 'NO_NEW_PRIVS', inheritEnv: 'INHERIT_ENV' };
  for (const [k, v] of Object.entries(WIRE.options)) pairs.push([`NSBOX_PLAN_${planOption[k] ?? k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, v]);
  for (const [k, v] of Object.entries(WIRE.op)) pairs.push([`NSBOX_OP_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, v]);
  for (const [k, v] of Object.entries(WIRE.report)) pairs.push([`NSBOX_REPORT_${k.toUpperCase()}`, v]);
  for (const [k, v] of Object.entries(WIRE.spawn.options)) pairs.push([`NSBOX_SPAWN_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, v]);
  for (const [k, v] of Object.entries(WIRE.start)) pairs.push([`NSBOX_START_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, v]);
  return pairs;
}

describe('wire constants', () => {
  const native = nativeConstants();

  it('every WIRE value equals its wire.h constant', () => {
    for (const [name, value] of expectedPairs()) expect([name, native.get(name)]).toEqual([name, value]);
  });

  it('every wire.h constant is known to lib/ (none added on one side only)', () => {
    const known = new Set(expectedPairs().map(([name]) => name));
    const fdLayout = ['NSBOX_FD_PLAN', 'NSBOX_FD_REPORT', 'NSBOX_FD_PARENT', 'NSBOX_FD_SYNC', 'NSBOX_CONTROL_FDS'];
    const nativeOnly = [...native.keys()].filter((name) => !known.has(name) && !fdLayout.includes(name));
    expect(nativeOnly).toEqual([]);
  });

  it('the spawn header has the size lib/request.ts writes', () => {
    const struct = /struct nsbox_spawn_header \{([^}]*)\}/.exec(header)?.[1] ?? '';
    expect((struct.match(/uint32_t \w+;/g) ?? []).length * 4).toBe(WIRE.spawn.headerSize);
  });
});
