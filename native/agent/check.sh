#!/usr/bin/env bash
# check.sh: builds ismkit-agent (native and s390x) and runs all its checks: unit tests, argument
# errors, pre-flight on fake sysfs trees, the protocol loop on a fake device (both binaries; s390x
# under qemu-s390x-static), a mutant with the write guard switched off, and the VM test (AGENT_VM=1).
# Last line: `agent: N passed, M failed`; exit status non-zero when M > 0.
# Environment: AGENT_VM (1 = run vm/agent/agent-vm-test.sh, default 1), AGENT_VM_MUTANT (1 = also
# boot the VM with the guard-less mutant and require the VM test to catch it, default 1).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/.build-agent
start=$(date +%s.%N)
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
notok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() {  # $1 = name, $2... = command
  local name=$1; shift
  if "$@"; then ok "$name"; else notok "$name"; fi
}
finish() {
  echo "# check.sh wall time $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
  echo "agent: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit
}

# Tools: the s390x cross compiler and qemu-user.
need=()
command -v s390x-linux-gnu-gcc >/dev/null || need+=(gcc-s390x-linux-gnu libc6-dev-s390x-cross)
command -v qemu-s390x-static >/dev/null || need+=(qemu-user-static)
if [ ${#need[@]} -gt 0 ]; then
  echo "# installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 1. Build.
mkdir -p "$OUT"
if bash native/agent/build.sh all >"$OUT/build.log" 2>&1; then
  ok "build: native and s390x, -O2 -static -Wall -Wextra -Werror"
else
  notok "build failed:"; sed 's/^/#   /' "$OUT/build.log" | head -20; finish
fi
check "s390x binary is a big-endian static s390x executable" \
  bash -c "file '$OUT/s390x/ismkit-agent' 2>/dev/null | grep -q 'IBM S/390.*statically linked' || od -An -tx1 -j18 -N2 '$OUT/s390x/ismkit-agent' | grep -q '00 16'"

NATIVE=("$OUT/native/ismkit-agent")
S390X=(qemu-s390x-static "$OUT/s390x/ismkit-agent")

# 2. Unit tests (allow-list parser, addresses, the guard, the journal text), on both byte orders.
for arch in native s390x; do
  runner=(); [ $arch = s390x ] && runner=(qemu-s390x-static)
  if "${runner[@]}" "$OUT/$arch/unit-test" >"$OUT/unit-$arch.txt" 2>&1; then
    ok "unit tests ($arch): $(tail -1 "$OUT/unit-$arch.txt")"
  else
    notok "unit tests ($arch): $(tail -1 "$OUT/unit-$arch.txt")"; grep '^not ok' "$OUT/unit-$arch.txt" | sed 's/^/#   /'
  fi
done

# expect NAME EXIT STDERR_REGEX AGENT... : exit status and exactly one stderr line matching, no stdout.
T=$(mktemp -d "${TMPDIR:-/tmp}/ismkit-agent-check.XXXXXX")
trap 'rm -rf "$T"' EXIT
expect() {
  local name=$1 want=$2 regex=$3; shift 3
  local rc=0
  "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
  if [ "$rc" = "$want" ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -Eq -- "^ismkit-agent: $regex\$" "$T/err" && [ ! -s "$T/out" ]; then
    ok "$name"
  else
    notok "$name  # exit $rc, stderr: $(head -c 300 "$T/err" | tr '\n' '|') stdout: $(head -c 100 "$T/out" | tr '\n' '|')"
  fi
}

# 3. Argument errors: exit 2, one line.
for arch in native s390x; do
  if [ $arch = native ]; then A=("${NATIVE[@]}"); else A=("${S390X[@]}"); fi
  expect "$arch: no address -> exit 2" 2 "missing the device address DDDD:BB:DD.F \(see --help\)" "${A[@]}"
  expect "$arch: unknown option -> exit 2" 2 "unknown option '--frob' \(see --help\)" "${A[@]}" --frob 0000:00:01.0
  expect "$arch: --journal without a value -> exit 2" 2 "--journal needs a value" "${A[@]}" 0000:00:01.0 --journal
  expect "$arch: two addresses -> exit 2" 2 "unexpected argument '0000:00:02.0' \(one device address only\)" "${A[@]}" 0000:00:01.0 0000:00:02.0
  expect "$arch: bad address -> exit 2 (VFIOError wording)" 2 \
    "'0000:00:20.0' is not a PCI address \(expected DDDD:BB:DD.F, for example 0000:00:01.0\)" "${A[@]}" 0000:00:20.0
  expect "$arch: --allow-write without ':' -> exit 2" 2 \
    "--allow-write '2': expected REGION:START-END, for example 2:0x0-0xfff" "${A[@]}" --allow-write 2 0000:00:01.0
  expect "$arch: --allow-write region 9 -> exit 2" 2 \
    "--allow-write '9:0-1': region must be 0...5 \(a BAR\), 7 \(config\) or a name like bar2" "${A[@]}" --allow-write 9:0-1 0000:00:01.0
  expect "$arch: --allow-write=bar2:0x10-0xf -> exit 2" 2 \
    "--allow-write 'bar2:0x10-0xf': START is above END" "${A[@]}" --allow-write=bar2:0x10-0xf 0000:00:01.0
  expect "$arch: --allow-write 2:zz-1 -> exit 2" 2 \
    "--allow-write '2:zz-1': START-END must be two numbers, for example 0x0-0xfff" "${A[@]}" --allow-write 2:zz-1 0000:00:01.0
  "${A[@]}" --help >"$T/help" 2>&1; rc=$?
  check "$arch: --help exits 0 and documents every flag and its default" bash -c "[ $rc = 0 ] && for f in --allow-write --journal --port --version --help ISMKIT_AGENT_SYSFS ISMKIT_AGENT_DEV Default; do grep -q -- \"\$f\" '$T/help' || exit 1; done"
  check "$arch: --version exits 0" bash -c "'${A[0]}' ${A[1]:+'${A[1]}'} --version | grep -q '^ismkit-agent 1 (wire protocol 1)$'"
done

# 4. Pre-flight on fake sysfs trees (and an empty /dev): the VFIOError lines, exit 2.
fake() {  # $1 = dir, $2 = driver ('' none), $3 = group ('' none)
  local s=$1/sys dev=$1/sys/bus/pci/devices/0000:00:01.0
  mkdir -p "$dev" "$1/dev"
  printf '0x1af4\n' >"$dev/vendor"; printf '0x1110\n' >"$dev/device"
  if [ -n "$2" ]; then mkdir -p "$s/bus/pci/drivers/$2"; ln -s "../../../bus/pci/drivers/$2" "$dev/driver"; fi
  if [ -n "$3" ]; then mkdir -p "$s/kernel/iommu_groups/$3/devices"; ln -s "../../../kernel/iommu_groups/$3" "$dev/iommu_group"; fi
}
fake "$T/unbound" "" ""
fake "$T/e1000" e1000 ""
fake "$T/nogroup" vfio-pci ""
fake "$T/nonode" vfio-pci 5
fake "$T/notvfio" ism-vfio-pci 6
mkdir -p "$T/notvfio/dev/vfio" && : >"$T/notvfio/dev/vfio/6"
mkdir -p "$T/empty/sys"
for arch in native s390x; do
  if [ $arch = native ]; then A=("${NATIVE[@]}"); else A=("${S390X[@]}"); fi
  run() { local dir=$1; shift; env ISMKIT_AGENT_SYSFS="$T/$dir/sys" ISMKIT_AGENT_DEV="$T/$dir/dev" "${A[@]}" "$@"; }
  expect "$arch: no such device" 2 \
    "no PCI device 0000:00:01.0: $T/empty/sys/bus/pci/devices/0000:00:01.0 does not exist" run empty 0000:00:01.0
  expect "$arch: not bound to any driver (short address form)" 2 \
    "device 0000:00:01.0 is not bound to any driver; bind it to vfio-pci first \(driver_override \+ drivers_probe\)" run unbound 00:01.0
  expect "$arch: bound to a non-vfio driver" 2 \
    "device 0000:00:01.0 is bound to 'e1000', not to a vfio driver; unbind it and bind vfio-pci \(driver_override \+ drivers_probe\)" run e1000 0000:00:01.0
  expect "$arch: no IOMMU group" 2 \
    "device 0000:00:01.0 has no IOMMU group: enable the IOMMU \(for example intel_iommu=on\) to use VFIO" run nogroup 0000:00:01.0
  expect "$arch: /dev/vfio/N missing" 2 \
    "$T/nonode/dev/vfio/5 does not exist: is the vfio module loaded and the device bound to vfio-pci\?" run nonode 0000:00:01.0
  expect "$arch: a group node that is no VFIO group (ism-vfio-pci accepted as a vfio driver)" 2 \
    "VFIO_GROUP_GET_STATUS on $T/notvfio/dev/vfio/6 failed: .*" run notvfio 0000:00:01.0
  expect "$arch: an unset ISMKIT_AGENT_SYSFS means /sys" 2 \
    "no PCI device 0000:7f:1f.7: /sys/bus/pci/devices/0000:7f:1f.7 does not exist" env -u ISMKIT_AGENT_SYSFS "${A[@]}" 0000:7f:1f.7
done

# 5. The protocol loop on a fake device (test build; a regular file as the device), both byte orders.
for arch in native s390x; do
  runner=(); [ $arch = s390x ] && runner=(qemu-s390x-static)
  python3 native/agent/fake-test.py "$OUT/$arch/ismkit-agent-fake" "${runner[@]}" >"$OUT/fake-$arch.txt" 2>&1
  grep -E '^# ' "$OUT/fake-$arch.txt"
  line=$(grep -E '^fake: [0-9]+ passed, [0-9]+ failed$' "$OUT/fake-$arch.txt" | tail -1)
  if [ -n "$line" ] && [ "$(echo "$line" | awk '{print $4}')" = 0 ]; then
    ok "fake-device session ($arch): $line"
  else
    notok "fake-device session ($arch): ${line:-no summary}"; grep '^not ok' "$OUT/fake-$arch.txt" | sed 's/^/#   /'
  fi
done

# 6. The guard mutant: the unit test and the fake-device session must catch a guard that lets everything through.
if bash native/agent/build.sh mutant >"$OUT/build-mutant.log" 2>&1; then
  "$OUT/mutant-no-guard/unit-test" >"$OUT/unit-mutant.txt" 2>&1; rc=$?
  check "mutant (no write guard): the unit test fails ($(grep -c '^not ok' "$OUT/unit-mutant.txt") not ok)" \
    bash -c "[ $rc != 0 ] && grep -q '^not ok - write past the range is refused' '$OUT/unit-mutant.txt'"
  python3 native/agent/fake-test.py "$OUT/mutant-no-guard/ismkit-agent-fake" >"$OUT/fake-mutant.txt" 2>&1; rc=$?
  check "mutant (no write guard): the fake-device session fails ($(grep -c '^not ok' "$OUT/fake-mutant.txt") not ok)" \
    bash -c "[ $rc != 0 ] && grep -q '^not ok - pipelined writes' '$OUT/fake-mutant.txt'"
  python3 native/agent/fake-test.py "$OUT/mutant-no-watchdog/ismkit-agent-fake" >"$OUT/fake-mutant-watchdog.txt" 2>&1; rc=$?
  check "mutant (no watchdog): the fake-device session fails ($(grep -c '^not ok' "$OUT/fake-mutant-watchdog.txt") not ok)" \
    bash -c "[ $rc != 0 ] && grep -q '^not ok - a hanging pread' '$OUT/fake-mutant-watchdog.txt'"
else
  notok "mutant build failed (see $OUT/build-mutant.log)"
fi

# 7. The VM test: the real vfio-pci driver, driven over virtio-serial.
if [ "${AGENT_VM:-1}" = 1 ]; then
  echo "# VM test (vm/agent/agent-vm-test.sh)"
  AGENT_BIN=$OUT/native/ismkit-agent bash vm/agent/agent-vm-test.sh 2>&1 | tee "$OUT/vm-test.txt" | sed 's/^/#   /'
  line=$(grep -E '^agent-vm: [0-9]+ passed, [0-9]+ failed$' "$OUT/vm-test.txt" | tail -1)
  if [ -n "$line" ]; then
    set -- $line
    pass=$((pass + $2)); fail=$((fail + $4))
    echo "$line"
  else
    notok "the VM test printed no summary line"
  fi
  if [ "${AGENT_VM_MUTANT:-1}" = 1 ]; then
    echo "# VM test with the guard-less mutant (must report not ok)"
    cp -f "$OUT/vm-test.txt" "$OUT/vm-test.good.txt"
    AGENT_BIN=$OUT/mutant-no-guard/ismkit-agent bash vm/agent/agent-vm-test.sh >"$OUT/vm-mutant.txt" 2>&1; mrc=$?
    grep -E '^not ok|^agent-vm: [0-9]' "$OUT/vm-mutant.txt" | sed 's/^/#   /'
    check "mutant (no write guard): the VM test fails and names the refused writes" \
      bash -c "[ $mrc != 0 ] && grep -q '^not ok - PWRITE just past the allowed range' '$OUT/vm-mutant.txt'"
  fi
else
  echo "# VM test skipped: AGENT_VM=${AGENT_VM} (set AGENT_VM=1 to boot the VM)"
fi
finish
