#!/usr/bin/env bash
# The ClusterFuzzLite build, checked without Docker (docs/clusterfuzzlite.md): sets up the
# OSS-Fuzz build environment (SRC with the checkout as $SRC/ismkit, OUT, WORK, libFuzzer, ASan,
# clang and OSS-Fuzz's default CFLAGS/CXXFLAGS for address), runs .clusterfuzzlite/build.sh, then
# checks $OUT the way ClusterFuzzLite will use it: every target, seed corpus zip and dictionary is
# there; each target is an instrumented x86-64 binary that starts with no environment of its own
# (as OSS-Fuzz runs it) and needs no Swift runtime; each seed corpus replays clean (-runs=0);
# each target fuzzes CFL_FUZZ_SECONDS (default 5) without a finding.
# The last line is `cfl: N passed, M failed`; the exit status is non-zero on any failure.
#
#   scripts/cfl-check.sh                  the working tree; WORK (the Swift build folders) in
#                                         .build-cfl/work-worktree, so re-runs are incremental
#   CFL_COLD=1 scripts/cfl-check.sh       empties WORK first (a cold build)
#   CFL_SOURCE=head scripts/cfl-check.sh  the committed tree (HEAD) with this .clusterfuzzlite/
#   CFL_FUZZ_SECONDS=N                    the length of each short fuzz run (default 5)
#   CFL_OUT=DIR                           OUT (emptied first) instead of a temporary folder, kept afterwards
#   ISMKIT_SHARED=DIR / ISMKIT_DRIVER=FILE  as for build.sh (default ../shared/kernel/merged/main.c)
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${CFL_FUZZ_SECONDS:-5}
targets=(diff-sim diff-driver parse)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ismkit-cfl-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok:   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() { echo "cfl: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# $SRC/ismkit: the working tree (a symlink), or with CFL_SOURCE=head the committed tree (HEAD,
# exported with git archive) plus this working tree's .clusterfuzzlite/, to check the build
# while the working tree is mid-edit. Both at fixed paths under .build-cfl, so that the Swift
# builds in WORK stay incremental between runs.
base=$repo/.build-cfl
case "${CFL_SOURCE:-worktree}" in
  worktree)
    export SRC=$base/src
    mkdir -p "$SRC"; ln -sfn "$repo" "$SRC/ismkit" ;;
  head)
    export SRC=$base/head
    commit=$(git -C "$repo" rev-parse HEAD)
    if [ "$(cat "$SRC/.commit" 2>/dev/null)" != "$commit" ]; then
      rm -rf "$SRC"; mkdir -p "$SRC/ismkit"
      git -C "$repo" archive HEAD | tar -x -C "$SRC/ismkit" && echo "$commit" >"$SRC/.commit"
    fi
    # Refreshed in place: removing and re-adding the folder changes the package root's listing,
    # after which SwiftPM recompiled diff-sim and diff-driver from scratch.
    mkdir -p "$SRC/ismkit/.clusterfuzzlite"
    for f in "$repo"/.clusterfuzzlite/* "$repo"/.clusterfuzzlite/.[!.]*; do
      [ -f "$f" ] && ! cmp -s "$f" "$SRC/ismkit/.clusterfuzzlite/${f##*/}" && cp -p "$f" "$SRC/ismkit/.clusterfuzzlite/"
    done
    # $SRC/ismkit/../shared is not the test data here: name it.
    [ -n "${ISMKIT_DRIVER:-}" ] || export ISMKIT_SHARED=${ISMKIT_SHARED:-$(cd "$repo/.." && pwd)/shared} ;;
  *) echo "cfl: CFL_SOURCE=${CFL_SOURCE}: expected worktree or head"; exit 2 ;;
esac
export OUT=${CFL_OUT:-$tmp/out}
rm -rf "$OUT"; mkdir -p "$OUT"
export WORK=${CFL_WORK:-$base/work-${CFL_SOURCE:-worktree}}
[ "${CFL_COLD:-0}" = 1 ] && rm -rf "$WORK"
mkdir -p "$WORK"

# The OSS-Fuzz build environment (base-builder, SANITIZER=address, FUZZING_ENGINE=libfuzzer).
export SANITIZER=address FUZZING_ENGINE=libfuzzer FUZZING_LANGUAGE=swift ARCHITECTURE=x86_64
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer CC=clang CXX=clang++
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -Wno-error=enum-constexpr-conversion \
-Wno-error=incompatible-function-pointer-types -Wno-error=int-conversion -Wno-error=deprecated-declarations \
-Wno-error=implicit-function-declaration -Wno-error=implicit-int -Wno-error=vla-cxx-extension \
-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS -stdlib=libc++"
unset SWIFTFLAGS ISMKIT_DRIVER_LIB ISMKIT_DRIVER_SOURCE ISMKIT_MUTANT ISMKIT_BYTE_ORDER

echo "cfl: SRC=$SRC OUT=$OUT WORK=$WORK"
start=$(date +%s)
if (cd "$SRC/ismkit" && bash "$SRC/ismkit/.clusterfuzzlite/build.sh") >"$WORK/build.log" 2>&1; then
  pass "build.sh ($(( $(date +%s) - start )) s; log in $WORK/build.log)"
else
  grep -v 'unknown warning option' "$WORK/build.log" | tail -n 40
  fail "build.sh exited non-zero ($(( $(date +%s) - start )) s; log above)"
  finish
fi

# What ClusterFuzzLite finds in $OUT.
for t in "${targets[@]}"; do
  if [ -x "$OUT/$t" ]; then pass "$t: binary"; else fail "$t: no executable \$OUT/$t"; fi
  z=$OUT/${t}_seed_corpus.zip
  if [ -s "$z" ] && unzip -tq "$z" >/dev/null; then pass "$t: seed corpus ($(unzip -Z1 "$z" | wc -l) files)"; else fail "$t: no valid $z"; fi
  if [ "$t" != parse ]; then
    if cmp -s "$OUT/$t.dict" "$repo/Corpus/ism.dict"; then pass "$t: dictionary"; else fail "$t: \$OUT/$t.dict is not Corpus/ism.dict"; fi
  fi
done
if [ -f "$OUT/libismdriver.so" ]; then pass "diff-driver: libismdriver.so"; else fail "diff-driver: no \$OUT/libismdriver.so"; fi

# Runs as OSS-Fuzz runs a target: from $OUT, with a bare environment (no ISMKIT_* variables).
run_bare() { (cd "$OUT" && env -i PATH=/usr/bin:/bin HOME="$tmp" "$@"); }

for t in "${targets[@]}"; do
  b=$OUT/$t
  [ -x "$b" ] || continue
  # ClusterFuzzLite's bad-build check: an x86-64 ELF (not a script) with ASan calls in it.
  if file -L "$b" | grep -q 'ELF 64-bit.*x86-64'; then pass "$t: x86-64 ELF"; else fail "$t: not an x86-64 ELF: $(file -L "$b")"; fi
  calls=$(objdump -d "$b" 2>/dev/null | grep -Ec 'callq?\s+[0-9a-f]+\s+<__asan')
  if [ "$calls" -ge 1000 ]; then pass "$t: ASan-instrumented ($calls calls)"; else fail "$t: $calls calls to __asan (the bad-build check needs 1000)"; fi
  # The runner image has no Swift runtime: the Swift libraries are linked in, or shipped in $OUT.
  libs=$(ldd "$b" 2>/dev/null)
  outside=$(echo "$libs" | awk -v out="$OUT/" '/not found/ {print $1; next}
    $1 ~ /^(libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime)/ && index($3, out) != 1 {print $1}')
  shipped=$(echo "$libs" | awk -v out="$OUT/" 'index($3, out) == 1' | wc -l)
  if [ -z "$outside" ]; then
    pass "$t: Swift runtime $([ "$shipped" -eq 0 ] && echo "linked in" || echo "from \$OUT ($shipped libraries)")"
  else
    fail "$t: needs libraries from outside \$OUT: $(echo "$outside" | tr '\n' ' ')"
  fi

  # The seed corpus, each input once.
  rm -rf "$tmp/corpus-$t" "$tmp/artifacts-$t" "$tmp/new-$t"
  mkdir -p "$tmp/corpus-$t" "$tmp/artifacts-$t" "$tmp/new-$t"
  unzip -q "$OUT/${t}_seed_corpus.zip" -d "$tmp/corpus-$t" 2>/dev/null
  n=$(find "$tmp/corpus-$t" -type f | wc -l)
  if run_bare "$b" -runs=0 -artifact_prefix="$tmp/artifacts-$t/" "$tmp/corpus-$t" >"$tmp/replay-$t.log" 2>&1 \
     && grep -q 'INITED' "$tmp/replay-$t.log" && [ -z "$(ls -A "$tmp/artifacts-$t")" ]; then
    pass "$t: seed corpus replays clean ($n inputs, $(grep -o 'INITED cov: [0-9]*' "$tmp/replay-$t.log" | head -1 | sed 's/INITED //'))"
  else
    tail -n 25 "$tmp/replay-$t.log"
    fail "$t: the seed corpus replay failed (log above; artifacts: $(ls "$tmp/artifacts-$t" | tr '\n' ' '))"
  fi

  # A short fuzz run the way ClusterFuzzLite starts one: the dictionary beside the target.
  dict=()
  [ -f "$OUT/$t.dict" ] && dict=(-dict="$OUT/$t.dict")
  if run_bare "$b" -max_total_time="$seconds" -seed=1 -print_final_stats=1 "${dict[@]}" \
       -artifact_prefix="$tmp/artifacts-$t/" "$tmp/new-$t" "$tmp/corpus-$t" >"$tmp/fuzz-$t.log" 2>&1 \
     && [ -z "$(ls -A "$tmp/artifacts-$t")" ]; then
    pass "$t: ${seconds} s of fuzzing clean ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$tmp/fuzz-$t.log" | awk '{print $2}') runs)"
  else
    tail -n 25 "$tmp/fuzz-$t.log"
    fail "$t: the ${seconds} s fuzz run found something or failed (log above; artifacts: $(ls "$tmp/artifacts-$t" | tr '\n' ' '))"
  fi
done

# diff-driver loaded its library with ISMKIT_DRIVER_LIB unset (the run_bare runs above); show which.
if grep -q 'ISMKIT_DRIVER_LIB' "$tmp/replay-diff-driver.log" 2>/dev/null; then
  fail "diff-driver: did not find its driver library: $(grep ISMKIT_DRIVER_LIB "$tmp/replay-diff-driver.log" | head -1)"
fi

echo "cfl: total $(( $(date +%s) - start )) s"
finish
