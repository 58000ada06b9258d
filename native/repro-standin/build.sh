#!/usr/bin/env bash
# Builds a C program emitted by `ismkit repro --emit-c` against a driver source in user space:
# the program, standin.c (the device fd), and the driver-source harness with the driver.
# usage: native/repro-standin/build.sh REPRO.c DRIVER/main.c OUT [native|s390x]
set -euo pipefail
repro=$1 driver=$2 out=$3 arch=${4:-native}
root=$(cd "$(dirname "$0")/../.." && pwd)
h=$root/native/driver-harness
cc=gcc; [ "$arch" = s390x ] && cc=s390x-linux-gnu-gcc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/ism"
cp "$driver" "$work/src/ism/main.c"  # a build copy (the driver is test data, never kept here)
inc=(-I "$root/include" -I "$h" -I "$h/include" -I "$h/include/ism")
for src in "$work/src/ism/main.c" "$h/kernel_stubs.c" "$h/driver_access.c" "$root/FuzzTargets/driver-lib/fuzz_hooks.c"; do
  "$cc" -std=gnu11 -O1 -w -fno-strict-aliasing -Dmain=ismkit_driver_harness_main "${inc[@]}" -c "$src" -o "$work/$(basename "$(dirname "$src")")-$(basename "$src" .c).o"
done
"$cc" -O1 -w -c "$repro" -o "$work/repro.o"
"$cc" -O1 -Wall -I "$root/include" -c "$root/native/repro-standin/standin.c" -o "$work/standin.o"
"$cc" -static -Wl,--wrap=open,--wrap=ioctl,--wrap=readlink,--wrap=pread,--wrap=pwrite,--wrap=read,--wrap=write,--wrap=lseek \
  "$work"/*.o -o "$out"
