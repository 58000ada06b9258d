#!/usr/bin/env bash
# Throughput of a conforming run before and after a change, measured in one run.
#
#   scripts/conform-before-after.sh [BASE_REV] [ROUNDS] [OPERATIONS]
#
# Builds ismkit (release) at BASE_REV in a worktree under .build-base/ (kept between runs) and
# at the working tree, then runs the same conforming run with each, alternating, ROUNDS times:
#   ismkit conform --driver-source ../shared/kernel/merged/main.c --byte-order both
#                  --operations OPERATIONS --quiet
# (everything a conforming run does: both byte orders, the device configurations, the lifecycle
# and every later check). One warm-up run of each first (the driver harness build cache).
# Prints each run's wall time, operations per wall second, and the median ratio after/before.
# Exit 1 when the median ratio is below MIN_RATIO (default 0.8: "does not fall by more than
# 20%"), 2 on bad input or a failed build, and 1 too when either run does not conform.
#
# Defaults: BASE_REV = the commit before the reach work (the device shapes, mid-operation
# faults, concurrency, lifecycle-walk and callback-contract checks), ROUNDS = 5, OPERATIONS = 20000.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${1:-9eb1cba}
ROUNDS=${2:-5}
OPS=${3:-20000}
MIN_RATIO=${MIN_RATIO:-0.8}
SHARED=${SHARED:-../shared}
SOURCE=$SHARED/kernel/merged/main.c

die() { echo "conform-before-after: $*" >&2; exit 2; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive whole number, not '$ROUNDS'"
[[ $OPS =~ ^[1-9][0-9]*$ ]] || die "OPERATIONS must be a positive whole number, not '$OPS'"
[[ -f $SOURCE ]] || die "no driver source at $SOURCE (set SHARED)"
rev=$(git rev-parse --verify --quiet "$BASE^{commit}") || die "no such revision: $BASE"

base_dir=.build-base/$rev
if [[ ! -x $base_dir/.build/release/ismkit ]]; then
    if [[ ! -d $base_dir ]]; then
        mkdir -p .build-base
        git worktree add --detach "$base_dir" "$rev" >/dev/null 2>&1 || die "cannot check out $rev"
    fi
    echo "building $BASE ($rev) in $base_dir" >&2
    (cd "$base_dir" && swift build -c release --product ismkit >/dev/null) || die "the build of $BASE failed"
fi
swift build -c release --product ismkit >/dev/null || die "the build of the working tree failed"
before=$base_dir/.build/release/ismkit
after=$(swift build -c release --show-bin-path)/ismkit

# Each binary builds its own harnesses into its own cache (their harness sources differ).
cache=${ISMKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ismkit}
export SOURCE OPS

# one BINARY CACHE -> prints "seconds verdict-exit"
one() {
    local start end status=0
    start=$(date +%s.%N)
    ISMKIT_CACHE_DIR=$2 "$1" conform --driver-source "$SOURCE" --byte-order both --operations "$OPS" --quiet >/dev/null 2>&1 || status=$?
    end=$(date +%s.%N)
    echo "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }') $status"
}

one "$before" "$cache/before-$rev" >/dev/null
one "$after" "$cache/after" >/dev/null

ratios=()
failed=0
for ((r = 1; r <= ROUNDS; r++)); do
    read -r tb sb < <(one "$before" "$cache/before-$rev")
    read -r ta sa < <(one "$after" "$cache/after")
    [[ $sb == 0 && $sa == 0 ]] || failed=1
    ratio=$(awk -v a="$tb" -v b="$ta" 'BEGIN { print a / b }')
    ratios+=("$ratio")
    printf 'round %d: before %.2f s (%.0f ops/s, exit %s), after %.2f s (%.0f ops/s, exit %s), after/before %.3f\n' \
        "$r" "$tb" "$(awk -v t="$tb" 'BEGIN { print 2 * ENVIRON["OPS"] / t }')" "$sb" "$ta" "$(awk -v t="$ta" 'BEGIN { print 2 * ENVIRON["OPS"] / t }')" "$sa" "$ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
printf 'conform throughput, %s operations per byte order: after/before median %.3f over %d rounds (base %s)\n' "$OPS" "$median" "$ROUNDS" "$BASE"
if ((failed)); then
    echo "conform-before-after: a run did not conform (exit codes above)" >&2
    exit 1
fi
awk -v m="$median" -v min="$MIN_RATIO" 'BEGIN { exit !(m >= min) }' || { echo "conform-before-after: below $MIN_RATIO" >&2; exit 1; }
