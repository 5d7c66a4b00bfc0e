/**
 * The package as npm ships it: the exports map (internal modules not importable, one module for
 * CommonJS and ESM), the install step's one paragraph when it cannot build, and a failed load of
 * the addon as an ERR_NSBOX_ADDON error (the CLI exits 125). `scripts/pack-check.sh` does the
 * rest, on the packed tarball, in CI.
 */
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { addonError } from '../lib/native';
import { NsboxError } from '../lib/errors';

const ROOT = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;

function node(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 20_000, ...options }, (err, stdout, stderr) => {
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
  });
}

let app: string;
beforeAll(() => {
  // An application with nsbox in its node_modules (this checkout, linked).
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-app-'));
  fs.mkdirSync(path.join(app, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(app, 'node_modules', 'nsbox'));
});
afterAll(() => fs.rmSync(app, { recursive: true, force: true }));

describe('package.json', () => {
  it('has an exports map, repository, homepage, bugs, and ships docs/ and the sources its maps name', () => {
    expect(Object.keys(pkg.exports as object)).toEqual(['.', './testing', './package.json']);
    expect(pkg).toHaveProperty('repository.url');
    expect(pkg).toHaveProperty('homepage');
    expect(pkg).toHaveProperty('bugs.url');
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'lib', 'docs', 'prebuilds', 'scripts/install.js']));
    expect((pkg.scripts as Record<string, string>).prebuildify).toBe('prebuildify --napi --strip --tag-libc');
    expect((pkg.scripts as Record<string, string>).prepack).toMatch(/prebuildify/);
  });

  it('internal modules are not importable; CommonJS and ESM get the same exports; nsbox/testing resolves', async () => {
    const r = await node(
      [
        '--input-type=module',
        '-e',
        `
        import { createRequire } from 'module';
        const require = createRequire(process.cwd() + '/');
        const esm = await import('nsbox');
        const cjs = require('nsbox');
        const refused = [];
        for (const p of ['nsbox/dist/spawn.js', 'nsbox/dist/native', 'nsbox/lib/index.ts']) {
          try { require(p); } catch (e) { refused.push(e.code); }
        }
        const testing = await import('nsbox/testing');
        console.log(JSON.stringify({
          same: Object.keys(cjs).filter((k) => k !== 'default').every((k) => esm[k] === cjs[k]),
          names: Object.keys(esm).filter((k) => k !== 'default' && k !== '__esModule').length === Object.keys(cjs).length,
          refused,
          testing: Object.keys(testing).filter((k) => k !== '__esModule').sort(),
          version: require('nsbox/package.json').version,
        }));
        `,
      ],
      { cwd: app },
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      same: true,
      names: true,
      refused: ['ERR_PACKAGE_PATH_NOT_EXPORTED', 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'ERR_PACKAGE_PATH_NOT_EXPORTED'],
      testing: ['default', 'runInSandbox', 'skipUnless', 'supports', 'withSandbox'],
      version: pkg.version,
    });
  });
});

describe('install without a prebuild or a compiler', () => {
  it('says what is missing in one paragraph, and nothing of gyp', async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'nsbox-bin-'));
    try {
      fs.symlinkSync(process.execPath, path.join(bin, 'node'));
      const r = await node([path.join(ROOT, 'scripts', 'install.js')], { env: { PATH: bin, npm_config_build_from_source: 'true' } });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^nsbox: cannot install its native addon: a build from source was asked for/);
      expect(r.stderr.replace(/\s+/g, ' ')).toMatch(/python3, make, a C compiler \(gcc or clang\), a C\+\+ compiler \(g\+\+ or clang\+\+\)/);
      expect(r.stderr).toMatch(/npm rebuild nsbox/);
      expect(r.stderr.trimEnd()).not.toMatch(/\n\n/); // one paragraph
      expect(r.stderr).not.toMatch(/gyp/);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe('an addon that does not load', () => {
  it('is an NsboxError ERR_NSBOX_ADDON that names the platform and the remedy, with the cause', () => {
    const cause = new Error('No native build was found for platform=linux arch=x64');
    const err = addonError(cause);
    expect(err).toBeInstanceOf(NsboxError);
    expect(err.code).toBe('ERR_NSBOX_ADDON');
    expect(err.message).toMatch(/No native build was found/);
    expect(err.message).toMatch(/linux-x64/);
    expect(err.message).toMatch(/npm rebuild nsbox --build-from-source/);
    expect(err.message).toMatch(/libseccomp-dev/);
    expect(err.cause).toBe(cause);
  });

  it('makes spawnIsolated throw it and the CLI exit 125', async () => {
    // node-gyp-build replaced, before anything loads it, by one that finds nothing.
    const preload = path.join(app, 'no-addon.js');
    fs.writeFileSync(
      preload,
      `const Module = require('module'); const load = Module._load;
       Module._load = function (request, ...rest) {
         if (request === 'node-gyp-build') return () => { throw new Error('No native build was found (test)'); };
         return load.call(this, request, ...rest);
       };`,
    );
    const api = await node(['-r', preload, '-e', `try { require(${JSON.stringify(ROOT)}).spawnIsolated('true'); } catch (e) { console.log(e.code); }`]);
    expect(api.stdout).toBe('ERR_NSBOX_ADDON\n');
    const cli = await node(['-r', preload, path.join(ROOT, 'dist', 'cli.js'), 'run', '--', 'true']);
    expect(cli.code).toBe(125);
    expect(cli.stderr).toMatch(/^nsbox: nsbox's native addon could not be loaded \(No native build was found \(test\)\)/);
  });
});
