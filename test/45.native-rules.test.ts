/**
 * The native code's own rules, checked on the objects: between clone() and the exec of the
 * helper only raw syscalls run, so the clone child's section (.text.nsbox_child) may refer to
 * nothing outside itself but read-only data: no PLT slot (whose first call runs the dynamic
 * linker in a process sharing Node's memory), no GOT, no other function. The control compiles a
 * child that calls strlen() and sees the check fail.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

const ROOT = path.join(__dirname, '..');
const SECTION = '.text.nsbox_child';

/** What the child's section refers to outside itself and read-only data, as "TYPE symbol". */
function outsideReferences(object: string): string[] {
  const symbols = execFileSync('objdump', ['-t', object], { encoding: 'utf8' });
  const inSection = new Set(symbols.split('\n').filter((l) => l.includes(` ${SECTION}\t`)).map((l) => l.trim().split(/\s+/).pop()));
  const relocations = execFileSync('objdump', ['-r', '-j', SECTION, object], { encoding: 'utf8' });
  const out: string[] = [];
  for (const line of relocations.split('\n')) {
    const m = /^[0-9a-f]+\s+(R_\S+)\s+([^\s+-]+)/.exec(line);
    if (!m) continue;
    const [, type, symbol] = m;
    if (inSection.has(symbol) || /^\.LC\d+$|^\.rodata/.test(symbol)) continue;
    out.push(`${type} ${symbol}`);
  }
  return out;
}

function compile(source: string, flags: string[]): string {
  const object = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-obj-')), 'child.o');
  execFileSync('g++', ['-std=c++17', '-fno-exceptions', '-Wall', '-Wextra', '-Werror', '-c', '-I', path.join(ROOT, 'src'), ...flags, '-o', object, source]);
  return object;
}

describe('the clone child calls nothing outside its section', () => {
  it.each(['-O0', '-O2', '-O3', '-O2 -fPIC -fstack-protector-all'])('src/clone_child.cc built with %s', (flags) => {
    const object = compile(path.join(ROOT, 'src', 'clone_child.cc'), flags.split(' '));
    const text = execFileSync('objdump', ['-h', object], { encoding: 'utf8' });
    expect(text).toContain(SECTION);
    expect(outsideReferences(object)).toEqual([]);
    fs.rmSync(path.dirname(object), { recursive: true, force: true });
  });

  it('the addon as built by node-gyp', () => {
    const object = path.join(ROOT, 'build', 'Release', 'obj.target', 'nsbox', 'src', 'clone_child.o');
    expect(fs.existsSync(object)).toBe(true);
    expect(outsideReferences(object)).toEqual([]);
  });

  it('control: a child that calls strlen() is caught', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-bad-'));
    const source = path.join(dir, 'bad.cc');
    fs.writeFileSync(source, `#include <string.h>\n__attribute__((section("${SECTION}"))) long ChildLength(const char* s) { return (long)strlen(s); }\n`);
    const object = compile(source, ['-O2', '-fPIC']);
    expect(outsideReferences(object)).toEqual([expect.stringMatching(/^R_X86_64_PLT32 strlen|^R_AARCH64_CALL26 strlen/)]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
