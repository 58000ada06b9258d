#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build of ismkit's three libFuzzer targets (docs/clusterfuzzlite.md).
#
# Runs inside gcr.io/oss-fuzz-base/base-builder-swift (`compile` calls it as $SRC/build.sh), or
# directly on a machine with Swift 6.1+ and clang (scripts/cfl-check.sh). It puts into $OUT:
#   diff-sim, diff-driver, parse               the fuzz targets (libFuzzer + ASan)
#   TARGET_seed_corpus.zip                     Corpus/TARGET, flat
#   diff-sim.dict, diff-driver.dict            Corpus/ism.dict
#   libismdriver.so                            diff-driver's driver library (the driver main.c in the
#                                              driver-source harness); diff-driver finds it beside itself
#   libswift*.so, libFoundation*.so, ...       the Swift runtime diff-driver links dynamically (see below)
#
# Environment (the OSS-Fuzz build environment; defaults for a local run):
#   SRC, OUT, WORK, SANITIZER (address only), CC, CFLAGS, SWIFTFLAGS (set by precompile_swift)
#   ISMKIT_ROOT     the checkout (default $SRC/ismkit, else the folder above this script)
#   ISMKIT_DRIVER   the driver main.c for diff-driver
#                   (default ${ISMKIT_SHARED:-$ISMKIT_ROOT/../shared}/kernel/merged/main.c)
#   SWIFT           the swift driver (default swift)
# The driver source is test data from outside the repository: it is compiled from where it is
# and never copied into the checkout or into $OUT.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -n "${ISMKIT_ROOT:-}" ]; then root=$ISMKIT_ROOT
elif [ -n "${SRC:-}" ] && [ -f "$SRC/ismkit/Package.swift" ]; then root=$SRC/ismkit
else root=$(cd "$here/.." && pwd)
fi
[ -f "$root/Package.swift" ] || { echo "build.sh: $root is not the ismkit checkout (no Package.swift); set ISMKIT_ROOT" >&2; exit 2; }
SRC=${SRC:-$(dirname "$root")}
OUT=${OUT:-$root/.build-cfl/out}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/ismkit-cfl-work.XXXXXX")}
SANITIZER=${SANITIZER:-address}
CC=${CC:-clang}
CFLAGS=${CFLAGS:-}
CXXFLAGS=${CXXFLAGS:-}
SWIFT=${SWIFT:-swift}
mkdir -p "$OUT" "$WORK"
export OUT SANITIZER CFLAGS CXXFLAGS

if [ "$SANITIZER" != address ]; then
  echo "build.sh: SANITIZER=$SANITIZER: only address is supported (.clusterfuzzlite/project.yaml)" >&2
  exit 2
fi

driver=${ISMKIT_DRIVER:-${ISMKIT_SHARED:-$root/../shared}/kernel/merged/main.c}
if [ ! -f "$driver" ]; then
  echo "build.sh: no driver source at $driver: diff-driver needs the merged driver main.c" >&2
  echo "build.sh: (the ../shared test data beside the checkout; ISMKIT_SHARED=DIR or ISMKIT_DRIVER=FILE names it)" >&2
  exit 2
fi
driver=$(realpath "$driver")

# SWIFTFLAGS: in the base image `precompile_swift` sets it (static Swift stdlib: the runner image
# has no Swift runtime; CFLAGS/CXXFLAGS forwarded to the C targets) and copies its llvm-symbolizer
# into $OUT. Elsewhere the same flags are composed here.
if [ -z "${SWIFTFLAGS:-}" ]; then
  if command -v precompile_swift >/dev/null 2>&1; then
    # shellcheck disable=SC1090
    . "$(command -v precompile_swift)"
  else
    SWIFTFLAGS="-Xswiftc -parse-as-library -Xswiftc -static-stdlib --static-swift-stdlib"
    SWIFTFLAGS="$SWIFTFLAGS -Xswiftc -sanitize=fuzzer,$SANITIZER --sanitize=$SANITIZER"
    for f in $CFLAGS; do SWIFTFLAGS="$SWIFTFLAGS -Xcc=$f"; done
    for f in $CXXFLAGS; do SWIFTFLAGS="$SWIFTFLAGS -Xcxx=$f"; done
  fi
fi

# The fuzz build exactly as `ismkit fuzz` makes it (Sources/Tool/Commands/FuzzCommand.swift,
# FuzzBuild.build), given last so that its -sanitize=fuzzer,address is the one the Swift driver keeps.
fuzz_flags=(--sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address -Xswiftc -DISMKIT_LIBFUZZER)
# diff-driver: edge counters only on the Swift side (FuzzBuild.build); the C driver is instrumented in full.
driver_flags=(-Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table)

swift_build() { # scratch product extra-args...
  local scratch=$1 product=$2; shift 2
  echo "build.sh: building $product in $scratch"
  # shellcheck disable=SC2086
  (cd "$root" && "$SWIFT" build -c release --scratch-path "$scratch" --product "$product" \
     $SWIFTFLAGS "${fuzz_flags[@]}" "$@")
  bin=$(cd "$root" && "$SWIFT" build -c release --scratch-path "$scratch" --show-bin-path)/$product
  [ -x "$bin" ] || { echo "build.sh: $bin was not built" >&2; exit 1; }
}

seed_corpus() { # target
  local t=$1 dir=$root/Corpus/$1
  rm -f "$OUT/${t}_seed_corpus.zip"
  if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    (cd "$dir" && zip -q -j -r "$OUT/${t}_seed_corpus.zip" .)
  fi
}

# Objects linked into the targets (-Xlinker OBJ; no Swift source changes):
#   lsan_suppressions.o  every target: LeakSanitizer suppressions for Swift runtime caches
#   driver_lib_env.o     diff-driver: ISMKIT_DRIVER_LIB defaults to libismdriver.so beside the binary
"$CC" -O1 -fPIC -c "$root/.clusterfuzzlite/lsan_suppressions.c" -o "$WORK/lsan_suppressions.o"
src_literal=$(printf '%s' "$driver" | sed 's/[\\"]/\\&/g')
"$CC" -O1 -fPIC -c "$root/.clusterfuzzlite/driver_lib_env.c" -DISMKIT_CFL_DRIVER_SOURCE="\"$src_literal\"" \
  -o "$WORK/driver_lib_env.o"

# One scratch path per target. diff-driver's flags differ (as FuzzBuild.scratch keeps it apart);
# diff-sim and parse could share one, but a `--product diff-sim` build after a `--product parse`
# build in the same scratch path was seen to recompile every module.
swift_build "$WORK/swift-fuzz" diff-sim -Xlinker "$WORK/lsan_suppressions.o"
install -m 755 "$bin" "$OUT/diff-sim"
swift_build "$WORK/swift-fuzz-parse" parse -Xlinker "$WORK/lsan_suppressions.o"
install -m 755 "$bin" "$OUT/parse"

# diff-driver's driver library, as FuzzBuild.driverLibrary compiles it, with the build's CC and CFLAGS.
h=$root/native/driver-harness
echo "build.sh: driver library from $driver"
# shellcheck disable=SC2086
"$CC" $CFLAGS -std=gnu11 -O1 -g -w -fno-strict-aliasing -fPIC -shared -fsanitize=fuzzer-no-link,address \
  -Dmain=ismkit_driver_harness_main -I "$root/include" -I "$h" -I "$h/include" -I "$h/include/ism" \
  "$driver" "$h/kernel_stubs.c" "$h/driver_access.c" "$root/FuzzTargets/driver-lib/fuzz_hooks.c" \
  -o "$OUT/libismdriver.so"

# diff-driver loads that library with dlopen, and the library's ASan and coverage calls bind to the
# sanitizer runtime in the executable. The static Swift stdlib link (static-stdlib-args.lnk) passes
# --exclude-libs ALL, which hides every symbol of a static archive, the sanitizer runtimes
# included, from the dynamic symbol table: the library would not load ("undefined symbol:
# __asan_option_detect_stack_use_after_return"). So diff-driver links the Swift runtime
# dynamically, without the toolchain's rpath, and the Swift libraries it needs are copied into
# $OUT, where SwiftPM's -rpath=$ORIGIN finds them (the runner image has no Swift runtime).
static_drop=" -static-stdlib --static-swift-stdlib -static-executable "
dyn_flags=()
prev=
for f in $SWIFTFLAGS; do
  if [ "$prev" = -Xswiftc ] && [[ "$static_drop" == *" $f "* ]]; then dyn_flags=("${dyn_flags[@]:0:${#dyn_flags[@]}-1}"); prev=; continue; fi
  if [[ "$static_drop" == *" $f "* ]]; then prev=; continue; fi
  dyn_flags+=("$f"); prev=$f
done
SWIFTFLAGS="${dyn_flags[*]}" swift_build "$WORK/swift-fuzz-driver" diff-driver "${driver_flags[@]}" \
  -Xswiftc -no-toolchain-stdlib-rpath -Xlinker "$WORK/driver_lib_env.o" -Xlinker "$WORK/lsan_suppressions.o"
install -m 755 "$bin" "$OUT/diff-driver"
swift_lib=$(dirname "$(readlink -f "$(command -v "$SWIFT")")")/../lib/swift/linux
for _ in 1 2 3 4 5 6; do  # copy until every library resolves ($ORIGIN is $OUT for copies too)
  missing=$(ldd "$OUT/diff-driver" | awk '$3 == "not" {print $1}' | sort -u)
  [ -z "$missing" ] && break
  for l in $missing; do
    [ -f "$swift_lib/$l" ] || { echo "build.sh: diff-driver needs $l, not in $swift_lib" >&2; exit 1; }
    install -m 644 "$swift_lib/$l" "$OUT/$l"
  done
done
[ -z "$(ldd "$OUT/diff-driver" | grep 'not found')" ] || { ldd "$OUT/diff-driver" >&2; exit 1; }

for t in diff-sim diff-driver parse; do seed_corpus "$t"; done
for t in diff-sim diff-driver; do cp "$root/Corpus/ism.dict" "$OUT/$t.dict"; done
echo "build.sh: done: $(cd "$OUT" && ls | tr '\n' ' ')"
