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
# Each round also runs the differential campaigns alone (BASE with --no-lifecycle, the working
# tree with --no-lifecycle --concurrency-pairs 0: the same operation count through the engine,
# the generator and the device configurations of each revision, without the fixed-cost checks).
# Prints each run's wall time, operations per wall second, and the median ratios after/before
# of both. Exit 1 when the median ratio of PART (whole or differential; default whole) is below
# MIN_RATIO (default 0.8: "does not fall by more than 20%"), 2 on bad input or a failed build,
# and 1 too when a run does not conform.
#
# Defaults: BASE_REV = the commit before the reach work (the device shapes, mid-operation
# faults, concurrency, lifecycle-walk and callback-contract checks), ROUNDS = 5, OPERATIONS = 20000.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${1:-9eb1cba}
ROUNDS=${2:-5}
OPS=${3:-20000}
MIN_RATIO=${MIN_RATIO:-0.8}
PART=${PART:-whole}
SHARED=${SHARED:-../shared}
SOURCE=$SHARED/kernel/merged/main.c

die() { echo "conform-before-after: $*" >&2; exit 2; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive whole number, not '$ROUNDS'"
[[ $OPS =~ ^[1-9][0-9]*$ ]] || die "OPERATIONS must be a positive whole number, not '$OPS'"
[[ $PART == whole || $PART == differential ]] || die "PART must be whole or differential, not '$PART'"
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

# one BINARY CACHE [FLAGS...] -> prints "seconds verdict-exit"
one() {
    local start end status=0 bin=$1 dir=$2
    shift 2
    start=$(date +%s.%N)
    ISMKIT_CACHE_DIR=$dir "$bin" conform --driver-source "$SOURCE" --byte-order both --operations "$OPS" --quiet "$@" >/dev/null 2>&1 || status=$?
    end=$(date +%s.%N)
    echo "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }') $status"
}

one "$before" "$cache/before-$rev" >/dev/null
one "$after" "$cache/after" >/dev/null

whole=()
differential=()
failed=0
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
report() { # round label before-seconds before-exit after-seconds after-exit
    printf 'round %d, %-12s: before %6.2f s (%6.0f ops/s, exit %s), after %6.2f s (%6.0f ops/s, exit %s), after/before %.3f\n' \
        "$1" "$2" "$3" "$(awk -v t="$3" 'BEGIN { print 2 * ENVIRON["OPS"] / t }')" "$4" \
        "$5" "$(awk -v t="$5" 'BEGIN { print 2 * ENVIRON["OPS"] / t }')" "$6" "$(awk -v a="$3" -v b="$5" 'BEGIN { print a / b }')"
}
for ((r = 1; r <= ROUNDS; r++)); do
    read -r tb sb < <(one "$before" "$cache/before-$rev")
    read -r ta sa < <(one "$after" "$cache/after")
    [[ $sb == 0 && $sa == 0 ]] || failed=1
    whole+=("$(awk -v a="$tb" -v b="$ta" 'BEGIN { print a / b }')")
    report "$r" whole "$tb" "$sb" "$ta" "$sa"
    read -r tb sb < <(one "$before" "$cache/before-$rev" --no-lifecycle)
    read -r ta sa < <(one "$after" "$cache/after" --no-lifecycle --concurrency-pairs 0)
    [[ $sb == 0 && $sa == 0 ]] || failed=1
    differential+=("$(awk -v a="$tb" -v b="$ta" 'BEGIN { print a / b }')")
    report "$r" differential "$tb" "$sb" "$ta" "$sa"
done
mw=$(median "${whole[@]}")
md=$(median "${differential[@]}")
printf 'conform throughput, %s operations per byte order, base %s, median of %d rounds: whole run after/before %.3f, differential campaigns after/before %.3f\n' \
    "$OPS" "$BASE" "$ROUNDS" "$mw" "$md"
if ((failed)); then
    echo "conform-before-after: a run did not conform (exit codes above)" >&2
    exit 1
fi
m=$([[ $PART == whole ]] && echo "$mw" || echo "$md")
awk -v m="$m" -v min="$MIN_RATIO" 'BEGIN { exit !(m >= min) }' || { echo "conform-before-after: the $PART ratio is below $MIN_RATIO" >&2; exit 1; }
