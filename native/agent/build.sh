#!/usr/bin/env bash
# build.sh: builds ismkit-agent, its fake-device test build, unit test and bench loop, native and s390x.
# Outputs under .build-agent/{native,s390x}/. Usage: build.sh [native|s390x|mutant|all] (default all).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${AGENT_BUILD_DIR:-$PWD/.build-agent}
SRC=native/agent
AGENT_SRCS=("$SRC/main.c" "$SRC/args.c" "$SRC/guard.c" "$SRC/journal.c" "$SRC/vfio_open.c" "$SRC/serve.c" "$SRC/answer.c" "$SRC/compact.c")
UNIT_SRCS=("$SRC/unit-test.c" "$SRC/args.c" "$SRC/guard.c" "$SRC/journal.c")
BENCH_SRCS=("$SRC/bench-loop.c" "$SRC/args.c" "$SRC/vfio_open.c" "$SRC/guard.c")
FLAGS=(-O2 -static -Wall -Wextra -Werror -std=gnu11)

build() {  # $1 = output dir, $2 = compiler, $3... = extra flags
	local dir=$1 cc=$2
	shift 2
	mkdir -p "$dir"
	"$cc" "${FLAGS[@]}" "$@" -o "$dir/ismkit-agent" "${AGENT_SRCS[@]}"
	# The same agent with a test-only fake device (ISMKIT_AGENT_FAKE_DEVICE=FILE), for fake-test.py.
	"$cc" "${FLAGS[@]}" "$@" -DISMKIT_AGENT_TEST -o "$dir/ismkit-agent-fake" "${AGENT_SRCS[@]}"
	"$cc" "${FLAGS[@]}" "$@" -o "$dir/unit-test" "${UNIT_SRCS[@]}"
	"$cc" "${FLAGS[@]}" "$@" -o "$dir/bench-loop" "${BENCH_SRCS[@]}"
}

what=${1:-all}
case $what in
native | all) build "$OUT/native" gcc ;;&
s390x | all)
	if ! command -v s390x-linux-gnu-gcc >/dev/null; then
		echo "build.sh: installing the s390x cross compiler"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc-s390x-linux-gnu libc6-dev-s390x-cross >/dev/null
	fi
	build "$OUT/s390x" s390x-linux-gnu-gcc
	;;&
mutant)
	# The write guard switched off, to show that the checks catch a broken guard.
	build "$OUT/mutant-no-guard" gcc -DISMKIT_AGENT_MUTANT_NO_GUARD
	# No watchdog: the answers before a hanging call stay buffered.
	build "$OUT/mutant-no-watchdog" gcc -DISMKIT_AGENT_MUTANT_NO_WATCHDOG
	;;
native | s390x | all) ;;
*)
	echo "build.sh: unknown target '$what' (native, s390x, mutant or all)" >&2
	exit 2
	;;
esac
