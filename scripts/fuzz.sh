#!/usr/bin/env bash
# npm run test:fuzz: builds the libFuzzer harness of the helper's plan decoder (ASan, UBSan, LSan,
# against glibc), checks that real plans from lib/ parse, then fuzzes for NSBOX_FUZZ_SECONDS
# (default 60). Fails on any crash, leak, timeout or out-of-memory; the input that did it is left
# in build-fuzz/artifacts/. Needs clang with compiler-rt (Debian: .ci/apt-packages) and dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${NSBOX_FUZZ_SECONDS:-60}
out=build-fuzz
cc=${CC_FUZZ:-$(command -v clang || command -v clang-14 || true)}
if [ -z "$cc" ]; then
  echo "fuzz: no clang found (set CC_FUZZ, or install the packages in .ci/apt-packages)" >&2
  exit 1
fi

mkdir -p "$out/corpus" "$out/artifacts"
# As binding.gyp: warnings fail only where asked (CI sets NSBOX_WERROR=1).
werror=${NSBOX_WERROR:+-Werror}
"$cc" -g -O1 -std=gnu11 -Wall -Wextra $werror -D_GNU_SOURCE -I src \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  test/fuzz/plan_fuzz.c src/helper/plan.c -o "$out/plan_fuzz"

[ -f dist/plan.js ] || npm run build:ts
rm -rf "$out/seeds"
node test/fuzz/seed-corpus.js "$out/seeds"
# Files, not a directory: each runs once, and one that does not parse aborts.
NSBOX_FUZZ_SEEDS_VALID=1 "$out/plan_fuzz" "$out/seeds"/* 2>"$out/seeds.log" || {
  cat "$out/seeds.log" >&2
  echo "fuzz: a real plan from lib/ (dist/) does not parse: the encoder and src/helper/plan.c disagree" >&2
  exit 1
}

# corpus/ keeps what earlier runs found; the seeds are read but not written to.
# A plan is a few KB: 64 MB in one malloc, or 1 GB in all, is a size computation gone wrong.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
"$out/plan_fuzz" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -malloc_limit_mb=64 \
  -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$out/corpus" "$out/seeds"
echo "fuzz: no crash, leak or timeout in ${seconds} s"
