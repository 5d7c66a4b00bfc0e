#!/usr/bin/env bash
# The package as a user gets it: `npm pack` (prepack makes dist/ and the linux-x64 glibc
# prebuild), then the tarball installed into an empty directory with a PATH that holds node, npm,
# sh, coreutils and ps, and no compiler, python3 or make; through that install, the demo, one
# spawn from CommonJS and one from ESM, the exports map, and an install that cannot build. Prints
# the highest glibc (and libstdc++) symbol versions the prebuild needs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

work=$(mktemp -d "${TMPDIR:-/tmp}/nsbox-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "pack-check: $*" >&2; exit 1; }

echo "== npm pack (prepack: dist/ and the prebuild)"
start=$(date +%s)
npm pack --pack-destination "$work" --silent >"$work/pack.out"
tarball="$work/$(tail -n 1 "$work/pack.out")"
[ -f "$tarball" ] || fail "npm pack made no tarball (it printed: $(cat "$work/pack.out"))"
echo "$(basename "$tarball"): $(du -k "$tarball" | cut -f1) KiB, packed in $(( $(date +%s) - start )) s"

tar -tzf "$tarball" | sed 's|^package/||' | sort >"$work/files"
prebuild=$(grep -E '^prebuilds/linux-x64/.*\.glibc\.node$' "$work/files" || true)
[ -n "$prebuild" ] || fail "no prebuilds/linux-x64/*.glibc.node in the tarball"
echo "prebuild: $prebuild"
for want in dist/index.js dist/index.d.ts dist/testing.js dist/cli.js docs/api.md docs/design.md scripts/install.js binding.gyp src/addon.cc; do
  grep -qxF "$want" "$work/files" || fail "$want is not in the tarball"
done
if grep -E '^(test|bench|examples|build|build-cmake|build-fuzz|\.ci)/' "$work/files" >/dev/null; then
  fail "the tarball holds development files: $(grep -E '^(test|bench|examples|build|build-cmake|build-fuzz|\.ci)/' "$work/files" | head -3 | tr '\n' ' ')"
fi
mkdir "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked"
# Source maps must point at sources that are shipped.
node -e '
  const fs = require("fs"), path = require("path");
  const root = process.argv[1];
  let maps = 0;
  for (const f of fs.readdirSync(path.join(root, "dist")).filter((f) => f.endsWith(".map"))) {
    maps++;
    const map = JSON.parse(fs.readFileSync(path.join(root, "dist", f), "utf8"));
    for (const s of map.sources) {
      const file = path.resolve(root, "dist", map.sourceRoot || "", s);
      if (!fs.existsSync(file)) { console.error(`pack-check: dist/${f} points at ${path.relative(root, file)}, not in the package`); process.exit(1); }
    }
  }
  console.log(`${maps} source maps, each pointing at a shipped source`);
' "$work/unpacked/package"

echo "== the highest symbol versions the prebuild needs (objdump -T)"
so="$work/unpacked/package/$prebuild"
echo "glibc: $(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)"
echo "libstdc++: $(objdump -T "$so" | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -n 1 || true) $(objdump -T "$so" | grep -o 'CXXABI_[0-9.]*' | sort -uV | tail -n 1 || true)"
echo "needed: $(objdump -p "$so" | awk '/NEEDED/ { printf "%s ", $2 }')"

echo "== a PATH without a compiler"
bin="$work/bin"
mkdir "$bin"
for tool in node npm npx sh env ps cat ls mkdir rm rmdir cp mv ln chmod chown touch dirname basename readlink realpath \
  uname id head tail tr sort uniq wc cut date sleep true false test expr printf echo pwd mktemp stat du df tee; do
  found=$(command -v "$tool" || true)
  case "$found" in /*) ln -s "$found" "$bin/$tool" ;; esac
done
for tool in gcc g++ cc c++ clang clang++ make python3 python ld as; do
  if PATH="$bin" command -v "$tool" >/dev/null; then fail "$tool is on the restricted PATH"; fi
done
echo "PATH=$bin: $(ls "$bin" | tr '\n' ' ')"

app="$work/app"
mkdir "$app"
cd "$app"
echo '{ "name": "nsbox-pack-check", "private": true }' >package.json
echo "== npm install $(basename "$tarball") (into an empty directory)"
start=$(date +%s%N)
PATH="$bin" npm install --no-audit --no-fund --loglevel=error "$tarball"
echo "installed in $(( ($(date +%s%N) - start) / 1000000 )) ms"
loaded=$(PATH="$bin" node -e 'console.log(require("node-gyp-build").resolve(require("path").dirname(require.resolve("nsbox/package.json"))))')
case "$loaded" in */prebuilds/linux-x64/*) echo "the addon loads from $loaded" ;; *) fail "the addon loads from $loaded, not the prebuild" ;; esac
[ ! -e node_modules/nsbox/build ] || fail "the install built the addon (node_modules/nsbox/build exists)"

echo "== the demo: npx nsbox run -- ps aux"
PATH="$bin" npx nsbox run -- ps aux | tee "$work/demo"
[ "$(tail -n +2 "$work/demo" | awk '{ print $2 }' | tr '\n' ' ')" = "1 2 " ] || fail "the demo did not list exactly PID 1 and ps"

echo "== one spawn through the package, from CommonJS and from ESM"
PATH="$bin" node -e '
  const { spawnIsolated } = require("nsbox");
  const child = spawnIsolated("/bin/sh", ["-c", "echo $$"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.exited.then(({ code }) => {
    if (code !== 0 || out !== "2\n") { console.error(`CommonJS spawn: code ${code}, output ${JSON.stringify(out)}`); process.exit(1); }
    console.log("CommonJS: the command is pid 2 of its namespace");
  });
'
PATH="$bin" node --input-type=module -e '
  import { runIsolated, NsboxError } from "nsbox";
  import { withSandbox, supports } from "nsbox/testing";
  if (typeof NsboxError !== "function" || typeof withSandbox !== "function" || typeof supports !== "function") throw new Error("missing named exports");
  const { stdout } = await runIsolated("/bin/sh", ["-c", "echo $$"]);
  if (stdout !== "2\n") throw new Error(`ESM spawn printed ${JSON.stringify(stdout)}`);
  console.log("ESM: named exports, nsbox/testing, runIsolated");
'
PATH="$bin" node -e '
  for (const internal of ["nsbox/dist/spawn.js", "nsbox/dist/native", "nsbox/lib/spawn.ts"]) {
    try { require(internal); } catch (e) { if (e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED") continue; throw e; }
    console.error(`${internal} is importable`); process.exit(1);
  }
  require("nsbox/package.json");
  console.log("internal modules are not importable; nsbox/package.json is");
'

echo "== an install that has neither a fitting prebuild nor a compiler (the prebuild removed)"
rm -rf node_modules/nsbox/prebuilds
status=0
PATH="$bin" npm rebuild nsbox --foreground-scripts >"$work/rebuild.out" 2>&1 || status=$?
[ "$status" -ne 0 ] || fail "npm rebuild succeeded without a prebuild or a compiler"
if grep -q 'gyp ERR' "$work/rebuild.out" || ! grep -q 'cannot be built from source here' "$work/rebuild.out"; then
  cat "$work/rebuild.out"
  fail "the failed install did not explain itself in one paragraph"
fi
sed -n '/^nsbox:/,/)\.$/p' "$work/rebuild.out"
echo "== and at run time: an ERR_NSBOX_ADDON error with the remedy; the CLI exits 125"
PATH="$bin" node -e '
  try { require("nsbox").spawnIsolated("true"); } catch (e) {
    if (e.code !== "ERR_NSBOX_ADDON" || !/npm rebuild nsbox/.test(e.message)) throw e;
    console.log(`${e.name} ${e.code}: ${e.message.slice(0, 90)}...`);
    process.exit(0);
  }
  console.error("spawnIsolated worked without an addon"); process.exit(1);
'
status=0
PATH="$bin" npx nsbox run -- true 2>/dev/null || status=$?
[ "$status" -eq 125 ] || fail "nsbox run without an addon exited $status, not 125"
echo "nsbox run exits 125"
cd "$repo"
echo "pack-check: ok"
