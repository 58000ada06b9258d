#!/usr/bin/env bash
# Line coverage of the driver's access path (read, write, BAR/config dispatch, region info)
# reached by the committed diff-driver corpus: the driver-source harness is built with clang
# source coverage as a shared library, the corpus is replayed through diff-driver's replay
# build (in-process, the same entry point as fuzzing), and llvm-cov reports the access-path
# functions of the driver source.
# Usage: FuzzTargets/tools/coverage.sh [DRIVER_MAIN_C]   (default ../shared/kernel/merged/main.c)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DRIVER=${1:-../shared/kernel/merged/main.c}
[ -f "$DRIVER" ] || { echo "error: $DRIVER: no such driver source" >&2; exit 2; }
SWIFT=${SWIFT:-swift}
CC=${ISMKIT_FUZZ_CC:-clang}
LLVM_BIN=$(dirname "$(readlink -f "$(command -v "$CC")")")
OUT=$ROOT/out/fuzz/coverage
rm -rf "$OUT"; mkdir -p "$OUT"
H=native/driver-harness
"$CC" -std=gnu11 -O0 -g -w -fno-strict-aliasing -fPIC -shared -fprofile-instr-generate -fcoverage-mapping \
  -Dmain=ismkit_driver_harness_main -I include -I $H -I $H/include -I $H/include/ism \
  "$DRIVER" $H/kernel_stubs.c $H/driver_access.c FuzzTargets/driver-lib/fuzz_hooks.c -o "$OUT/libismdriver-cov.so"
$SWIFT build --product diff-driver >/dev/null
BIN=$($SWIFT build --show-bin-path)/diff-driver
LLVM_PROFILE_FILE="$OUT/replay-%p.profraw" ISMKIT_DRIVER_LIB="$OUT/libismdriver-cov.so" ISMKIT_DRIVER_SOURCE="$DRIVER" \
  SWIFT_BACKTRACE=enable=no "$BIN" Corpus/diff-driver || { echo "error: the corpus diverges on $DRIVER (see above)" >&2; exit 1; }
"$LLVM_BIN/llvm-profdata" merge -o "$OUT/corpus.profdata" "$OUT"/replay-*.profraw
# Static functions are named `main.c:name` in the profile.
NAMES='do_io_r|do_io_w|bar_rw|config_rw|rw|read|write|ioctl_get_region_info'
FUNCS="(^|:)ism_vfio_pci_($NAMES)\$"
echo "access-path line coverage of $DRIVER by Corpus/diff-driver:"
"$LLVM_BIN/llvm-cov" report "$OUT/libismdriver-cov.so" -instr-profile "$OUT/corpus.profdata" \
  -show-functions "$(readlink -f "$DRIVER")" > "$OUT/report.txt"
# The report lists every function of the file; keep the access path and total its lines.
awk -v re="^ism_vfio_pci_($NAMES)\$" 'NR<=3 || $1 ~ /^-+$/ {print; next}
  { split($1, a, ":"); if (a[length(a)] ~ re) { print; lines += $5; miss += $6 } }
  END { printf "access path: %d lines, %d missed, %.2f%% line coverage\n", lines, miss, lines ? 100 * (lines - miss) / lines : 0 }' "$OUT/report.txt"
"$LLVM_BIN/llvm-cov" show "$OUT/libismdriver-cov.so" -instr-profile "$OUT/corpus.profdata" \
  -name-regex="$FUNCS" "$(readlink -f "$DRIVER")" > "$OUT/lines.txt"
MISSED=$(grep -E '^ +[0-9]+\| +0\|' "$OUT/lines.txt" || true)
if [ -n "$MISSED" ]; then
  echo "lines of the access path the corpus does not reach:"; echo "$MISSED"
  exit 1
else
  echo "every line of the access path is reached"
fi
