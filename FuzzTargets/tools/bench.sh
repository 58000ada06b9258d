#!/usr/bin/env bash
# Fuzzing benchmark, one run each:
#  1. exec/s of diff-driver (Swift: decode, run on the in-process driver harness AND the golden
#     model, compare) against c-baseline (C: same decoding, same driver harness, no comparison),
#     both libFuzzer + ASan, same seed, same starting corpus and dictionary, same time box;
#  2. time to first finding of every catalog mutant under diff-sim, median of 5 seeds (wall time
#     of the libFuzzer process, start-up included), fuzzing from an empty corpus (TTF_CORPUS=empty,
#     the fuzzer's own search) or from the committed corpus as `make fuzz` does (committed).
# Usage: FuzzTargets/tools/bench.sh [SHARED_DIR]
#   env: BENCH_SECONDS (20 per round), BENCH_ROUNDS (3), TTF_LIMIT (60), TTF_SEEDS (5), TTF_CORPUS (empty|committed|both|none; both), SKIP_EXECS=1
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SHARED=${1:-../shared}
DRIVER=$SHARED/kernel/merged/main.c
SECS=${BENCH_SECONDS:-20}
LIMIT=${TTF_LIMIT:-60}
SEEDS=${TTF_SEEDS:-5}
SWIFT=${SWIFT:-swift}
CC=${ISMKIT_FUZZ_CC:-clang}
ISMKIT=${ISMKIT:-$($SWIFT build --show-bin-path)/ismkit}
OUT=$ROOT/out/fuzz/bench
rm -rf "$OUT"; mkdir -p "$OUT"
export SWIFT_BACKTRACE=enable=no

# Build everything first (the ismkit fuzz runs below only build).
"$ISMKIT" fuzz diff-driver --driver "$DRIVER" --seconds 1 -- -runs=0 >/dev/null 2>&1
"$ISMKIT" fuzz diff-sim --seconds 1 -- -runs=0 >/dev/null 2>&1
H=native/driver-harness
"$CC" -std=gnu11 -O1 -g -w -fno-strict-aliasing -fsanitize=fuzzer,address -Dmain=ismkit_driver_harness_main \
  -I include -I $H -I $H/include -I $H/include/ism \
  FuzzTargets/c-baseline/baseline.c "$DRIVER" $H/kernel_stubs.c $H/driver_access.c FuzzTargets/driver-lib/fuzz_hooks.c -o "$OUT/c-baseline" 2>&1 | grep -v "ld.gold: warning" || true
[ -x "$OUT/c-baseline" ] || { echo "error: c-baseline does not build" >&2; exit 2; }

stat() { sed -n "s/^stat::average_exec_per_sec: *//p" "$1" | tail -1; }
run_one() { # name binary round
  mkdir -p "$OUT/$1-corpus"
  "$2" "$OUT/$1-corpus" Corpus/diff-driver -dict=Corpus/ism.dict -seed="$3" -max_len=512 -max_total_time="$SECS" \
    -print_final_stats=1 -artifact_prefix="$OUT/$1-" >"$OUT/$1-$3.log" 2>&1 || true
}
if [ -z "${SKIP_EXECS:-}" ]; then
# Alternating rounds (each target keeps its own growing corpus), so a change of machine load
# hits both alike; the ratio is of the summed exec/s.
ROUNDS=${BENCH_ROUNDS:-3}
echo "== exec/s, $ROUNDS alternating rounds of $SECS s each, merged main.c, libFuzzer + ASan, -max_len=512 =="
printf "%-6s %12s %12s %7s\n" round diff-driver c-baseline ratio
TS=0; TC=0
for r in $(seq 1 "$ROUNDS"); do
  ISMKIT_DRIVER_LIB=$ROOT/out/fuzz/driver-lib/merged/libismdriver.so ISMKIT_DRIVER_SOURCE=$DRIVER \
    run_one diff-driver "$ROOT/.build-fuzz-driver/release/diff-driver" "$r"
  run_one c-baseline "$OUT/c-baseline" "$r"
  SW=$(stat "$OUT/diff-driver-$r.log"); C=$(stat "$OUT/c-baseline-$r.log")
  TS=$((TS + ${SW:-0})); TC=$((TC + ${C:-0}))
  awk -v r="$r" -v s="${SW:-0}" -v c="${C:-0}" 'BEGIN { printf "%-6s %12d %12d %7.3f\n", r, s, c, (c > 0 ? s / c : 0) }'
done
awk -v s="$TS" -v c="$TC" -v n="$ROUNDS" 'BEGIN { if (c > 0) printf "mean   %12d %12d %7.3f   <- ratio Swift differential / plain C\n", s / n, c / n, s / c }'
fi

[ "${TTF_CORPUS:-both}" = none ] && exit 0
BIN=$ROOT/.build-fuzz/release/diff-sim
for mode in $([ "${TTF_CORPUS:-both}" = both ] && echo "empty committed" || echo "${TTF_CORPUS}"); do
echo
echo "== time to first finding under diff-sim (s), $mode corpus, median of $SEEDS seeds, limit $LIMIT s =="
printf "%-30s %-7s %-10s %8s   %s\n" mutant order rule median "per seed"
"$ISMKIT" fuzz --list-mutants | while read -r m order rule; do
  times=()
  for s in $(seq 1 "$SEEDS"); do
    d=$OUT/ttf-$mode/$m-$s; mkdir -p "$d/corpus"
    corpus=(); [ "$mode" = committed ] && corpus=(Corpus/diff-sim)
    t0=$(date +%s.%N)
    ISMKIT_MUTANT=$m ISMKIT_BYTE_ORDER=$order "$BIN" "$d/corpus" "${corpus[@]}" -dict=Corpus/ism.dict -seed="$s" \
      -max_total_time="$LIMIT" -artifact_prefix="$d/" >"$d/log" 2>&1 || true
    t1=$(date +%s.%N)
    if ls "$d" | grep -qE '^(crash|leak)-'; then times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")
    else times+=(">$LIMIT"); fi
  done
  median=$(printf "%s\n" "${times[@]}" | sed 's/^>/9999999 >/' | sort -n | awk '{ a[NR] = $0 } END { v = a[int((NR + 1) / 2)]; sub(/^9999999 /, "", v); print v }')
  printf "%-30s %-7s %-10s %8s   %s\n" "$m" "$order" "$rule" "$median" "${times[*]}"
done
done
