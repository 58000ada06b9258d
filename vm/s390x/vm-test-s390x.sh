#!/usr/bin/env bash
# vm/s390x/vm-test-s390x.sh: the ism-vfio-pci driver, unmodified, on a real big-endian kernel.
#
# Boots Debian's s390x kernel under qemu-system-s390x (TCG) with a virtio-net-pci function
# attached over zPCI, builds the vfio modules that kernel lacks (CONFIG_VFIO is unset) from
# linux-source-6.1 with vfio-core-backport.patch, builds every ../shared/kernel/<rev>/main.c as
# ism-vfio-pci.ko, and runs zpci-probe.c in the guest once per driver: generic vfio-pci, then the
# merged, v3, v4 and v3-probe revisions. In the generic and merged boots the guest then serves
# the device with the s390x ismkit-agent on virtio-serial ports (virtio-serial-ccw), and the host
# drives it: drive-agent.py (protocol checks, a pipelined burst's operations/s), then, when the
# host's ismkit has `hw --connect`, `ismkit hw --connect unix:SOCK` (a conformance run through the
# agent; otherwise "# SKIP"). The v3 and v4 boots get the `ismkit hw` session too (their own bug
# must show, nothing merged does not show), and the merged, v3 and v4 guests run C programs from
# `ismkit repro --emit-c` (narrow-reads.json, an earlier run's v3/v4 reproducers). Prints a KTAP summary and, last,
# "vm-test-s390x: N passed, M failed"; exits 1 if any check failed (a guest that printed no
# results fails its checks). Everything goes to .build-s390x/ (git-ignored, a cache: a second
# run reuses the downloads and builds). Installs what it needs with apt-get. See README.md here.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/vm/s390x
SHARED=${ISMKIT_SHARED:-$ROOT/../shared}
OUT=$ROOT/.build-s390x
MODES="generic merged v3 v4 v3-probe"
QEMU_TIMEOUT=${VM_S390X_TIMEOUT:-300}
MAC=02:11:22:33:44:55
CLEAN=0
# The agent's (and ismkit hw's) write allow-list: the MAC bytes of virtio-net's device config
# and the MSI-X table (17 vectors) while MSI-X stays disabled. README.md says why.
AGENT_ALLOW="4:0x2000-0x2005 1:0x0-0x10f"
BURST=${VM_S390X_BURST:-5000}
HW_OPS=${VM_S390X_HW_OPERATIONS:-2000}

usage() {
  cat <<EOF
usage: vm/s390x/vm-test-s390x.sh [--modes "generic merged v3 v4 v3-probe"] [--timeout S] [--clean]
  --modes    which boots to run (default: all five)
  --timeout  QEMU time-out per boot in seconds (default 300, or VM_S390X_TIMEOUT)
  --clean    delete the cache (.build-s390x/ but its swift/) first: a cold run
Environment: VM_S390X_AGENT (s390x ismkit-agent; default .build-agent/s390x/ismkit-agent, built if
missing), VM_S390X_ISMKIT (host ismkit for the optional \`ismkit hw --connect\` step; default: swift
build --scratch-path .build-s390x/swift, run in the background; "none" skips it), VM_S390X_BURST
(pipelined PREADs, default 5000), VM_S390X_HW_OPERATIONS (default 2000).
EOF
}
while [ $# -gt 0 ]; do
  case $1 in
    --modes) MODES=$(echo "$2" | tr ',' ' '); shift 2 ;;
    --timeout) QEMU_TIMEOUT=$2; shift 2 ;;
    --clean) CLEAN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "vm-test-s390x: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
for m in $MODES; do
  case $m in generic|merged|v3|v4|v3-probe) ;; *) echo "vm-test-s390x: unknown mode $m" >&2; exit 2 ;; esac
done

start=$(date +%s.%N)
elapsed() { python3 -c "print(round($(date +%s.%N) - $1, 1))" 2>/dev/null || echo "?"; }
note() { echo "vm-test-s390x: $*"; }
# A setup step failed: no guest checks can run, so they all count as failed.
setup_fail() {
  echo "not ok - setup: $*"
  [ -n "${LOG:-}" ] && [ -f "$LOG" ] && tail -25 "$LOG"
  note "wall time $(elapsed "$start") s"
  echo "vm-test-s390x: 0 passed, 1 failed"
  exit 1
}
# --clean: everything but the host ismkit's swift build (swift/), which is not s390x state and
# takes minutes from scratch; remove .build-s390x/ by hand to drop that too.
if [ "$CLEAN" = 1 ] && [ -d "$OUT" ]; then
  find "$OUT" -mindepth 1 -maxdepth 1 ! -name swift -exec rm -rf {} +
fi
mkdir -p "$OUT"
RUN=$OUT/run
rm -rf "$RUN" && mkdir -p "$RUN"

# 1. Host tools. apt-get update runs before anything is installed or downloaded.
APT_UPDATED=0
apt_update() {
  if [ "$APT_UPDATED" = 0 ]; then
    note "apt-get update"
    apt-get update -qq >"$OUT/apt-update.log" 2>&1 || { LOG=$OUT/apt-update.log; setup_fail "apt-get update"; }
    APT_UPDATED=1
  fi
}
export DEBIAN_FRONTEND=noninteractive
if ! dpkg --print-foreign-architectures | grep -qx s390x; then
  note "dpkg --add-architecture s390x"
  dpkg --add-architecture s390x
  APT_UPDATED=0
fi
need=()
command -v qemu-system-s390x >/dev/null || need+=(qemu-system-misc)
command -v s390x-linux-gnu-gcc >/dev/null || need+=(gcc-s390x-linux-gnu)
[ -f /usr/s390x-linux-gnu/lib/libc.a ] || need+=(libc6-dev-s390x-cross)
for t in cpio:cpio python3:python3 make:make patch:patch xz:xz-utils gzip:gzip; do
  command -v "${t%%:*}" >/dev/null || need+=("${t##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  apt_update
  note "installing ${need[*]}"
  LOG=$OUT/apt-install.log
  apt-get install -y -qq --no-install-recommends "${need[@]}" >"$LOG" 2>&1 || setup_fail "apt-get install ${need[*]}"
fi

# 2. The s390x kernel, its headers, kbuild tools and linux-source-6.1 of the same version.
# (apt-get download + dpkg-deb -x: nothing of the s390x kernel is installed on the host.)
KENV=$OUT/kernel.env
if [ ! -f "$KENV" ]; then
  apt_update
  KPKG=$(apt-cache depends linux-image-s390x:s390x 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  KPKG=${KPKG%:s390x}
  [ -n "$KPKG" ] || setup_fail "apt-cache depends linux-image-s390x:s390x names no kernel package"
  ABI=${KPKG#linux-image-}; ABI=${ABI%-s390x}
  KVER=$(apt-cache policy "$KPKG:s390x" | awk '/Candidate:/ {print $2; exit}')
  [ -n "$KVER" ] && [ "$KVER" != "(none)" ] || setup_fail "no candidate version for $KPKG:s390x"
  printf 'KPKG=%s\nABI=%s\nKVER=%s\n' "$KPKG" "$ABI" "$KVER" > "$KENV"
fi
. "$KENV"
HOSTARCH=$(dpkg --print-architecture)
DL=$OUT/dl/$KVER
X=$OUT/x/$KVER
if [ ! -f "$X/.unpacked" ]; then
  apt_update
  note "fetching $KPKG $KVER (image, headers, kbuild, linux-source-6.1, busybox-static:s390x)"
  mkdir -p "$DL" && rm -f "$DL"/*.deb
  LOG=$OUT/download.log
  SRCVER=$KVER
  if ! apt-cache madison linux-source-6.1 | awk '{print $3}' | grep -qx "$KVER"; then
    SRCVER=$(apt-cache policy linux-source-6.1 | awk '/Candidate:/ {print $2; exit}')
    note "linux-source-6.1 $KVER is not available; using $SRCVER"
  fi
  (cd "$DL" && apt-get download "$KPKG:s390x=$KVER" "linux-headers-$ABI-s390x:s390x=$KVER" \
      "linux-headers-$ABI-common=$KVER" "linux-kbuild-6.1:$HOSTARCH=$KVER" "linux-source-6.1=$SRCVER" \
      busybox-static:s390x) >"$LOG" 2>&1 || setup_fail "apt-get download"
  rm -rf "$X" && mkdir -p "$X"
  for deb in "$DL"/*.deb; do dpkg-deb -x "$deb" "$X" || setup_fail "dpkg-deb -x $deb"; done
  # The headers' Makefile includes the common headers from /usr/src: point it at this copy.
  sed -i "s#^include /usr/src/#include $X/usr/src/#" "$X/usr/src/linux-headers-$ABI-s390x/Makefile"
  touch "$X/.unpacked"
fi
HDRS=$X/usr/src/linux-headers-$ABI-s390x
VMLINUZ=$(ls "$X"/boot/vmlinuz-*)
BUSYBOX=$X/bin/busybox
[ -x "$BUSYBOX" ] || setup_fail "busybox-static:s390x did not unpack to $BUSYBOX"

# 3. The vfio sources from the linux-source tarball.
SRC=$OUT/src/$KVER
VFIO_FILES="drivers/vfio/vfio_main.c drivers/vfio/iova_bitmap.c drivers/vfio/container.c drivers/vfio/virqfd.c
  drivers/vfio/vfio_iommu_type1.c drivers/vfio/vfio.h drivers/vfio/pci/vfio_pci.c drivers/vfio/pci/vfio_pci_core.c
  drivers/vfio/pci/vfio_pci_config.c drivers/vfio/pci/vfio_pci_intrs.c drivers/vfio/pci/vfio_pci_rdwr.c
  drivers/vfio/pci/vfio_pci_priv.h virt/lib/irqbypass.c include/linux/vfio.h include/linux/vfio_pci_core.h"
if [ ! -f "$SRC/.unpacked" ]; then
  note "unpacking the vfio sources from linux-source-6.1"
  rm -rf "$SRC" && mkdir -p "$SRC"
  members=""
  for f in $VFIO_FILES; do members="$members linux-source-6.1/$f"; done
  # shellcheck disable=SC2086
  tar -xf "$X/usr/src/linux-source-6.1.tar.xz" -C "$SRC" --strip-components=1 $members || setup_fail "tar linux-source-6.1"
  touch "$SRC/.unpacked"
fi

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
kmake() {  # $1 = module dir, $2... = extra make arguments
  local dir=$1; shift
  make -C "$HDRS" M="$dir" ARCH=s390 CROSS_COMPILE=s390x-linux-gnu- -j2 "$@" modules
}

# 4. The vfio modules (patched), cached by the patch and Kbuild they were built from.
VB=$OUT/vfio-build
st=$(stamp_of "$HERE/vfio-core-backport.patch" "$HERE/vfio.Kbuild" "$KENV")
if [ "$(cat "$VB/.stamp" 2>/dev/null)" != "$st" ]; then
  t0=$(date +%s.%N)
  note "building the vfio modules (vfio, vfio_iommu_type1, vfio_virqfd, vfio-pci-core, vfio-pci, irqbypass)"
  rm -rf "$VB" && mkdir -p "$VB"
  (cd "$SRC" && cp --parents $VFIO_FILES "$VB/")
  LOG=$VB/patch.log
  (cd "$VB" && patch -p1 < "$HERE/vfio-core-backport.patch") >"$LOG" 2>&1 || setup_fail "vfio-core-backport.patch does not apply"
  cp "$HERE/vfio.Kbuild" "$VB/Kbuild"
  LOG=$VB/build.log
  kmake "$VB" >"$LOG" 2>&1 || setup_fail "vfio module build"
  echo "$st" > "$VB/.stamp"
  note "vfio modules built in $(elapsed "$t0") s"
fi

# 5. ism-vfio-pci.ko from each revision's main.c, copied as is into the build cache.
REVS=""
for m in $MODES; do [ "$m" != generic ] && REVS="$REVS $m"; done
for rev in $REVS; do
  D=$OUT/ism-build/$rev
  [ -f "$SHARED/kernel/$rev/main.c" ] || setup_fail "missing $SHARED/kernel/$rev/main.c"
  st=$(stamp_of "$SHARED/kernel/$rev/main.c" "$HERE/ism-compat.h" "$HERE/ism.Kbuild" "$VB/.stamp")
  if [ "$(cat "$D/.stamp" 2>/dev/null)" != "$st" ]; then
    t0=$(date +%s.%N)
    rm -rf "$D" && mkdir -p "$D/ism"
    cp "$SHARED/kernel/$rev/main.c" "$D/ism/main.c"
    cp "$VB/drivers/vfio/pci/vfio_pci_priv.h" "$D/vfio_pci_priv.h"
    cp "$HERE/ism-compat.h" "$D/ism-compat.h"
    cp "$HERE/ism.Kbuild" "$D/Kbuild"
    LOG=$D/build.log
    kmake "$D" ISMKIT_VFIO_TREE="$VB" KBUILD_EXTRA_SYMBOLS="$VB/Module.symvers" >"$LOG" 2>&1 \
      || setup_fail "building ism-vfio-pci.ko from $rev/main.c"
    echo "$st" > "$D/.stamp"
    note "ism-vfio-pci.ko ($rev) built in $(elapsed "$t0") s; compiler warnings: $(grep -c 'warning:' "$LOG" || true)"
  fi
done

# 6. The probe, static s390x.
LOG=$RUN/probe-build.log
s390x-linux-gnu-gcc -O2 -static -Wall -o "$RUN/zpci-probe" "$HERE/zpci-probe.c" >"$LOG" 2>&1 || setup_fail "building zpci-probe"

# 6b. The agent, static s390x (native/agent/build.sh, only when missing).
AGENT=${VM_S390X_AGENT:-$ROOT/.build-agent/s390x/ismkit-agent}
if [ ! -x "$AGENT" ] && [ -z "${VM_S390X_AGENT:-}" ]; then
  note "building the s390x ismkit-agent (native/agent/build.sh s390x)"
  LOG=$RUN/agent-build.log
  bash native/agent/build.sh s390x >"$LOG" 2>&1 || setup_fail "native/agent/build.sh s390x"
fi
[ -x "$AGENT" ] || setup_fail "no s390x ismkit-agent at $AGENT"
note "agent $AGENT ($(date -r "$AGENT" '+%F %T'))"

# 7. The initramfs: busybox, the modules, /init, the probe, the agent.
IR=$RUN/initramfs
mkdir -p "$IR"/{bin,dev,proc,sys,tmp,mod}
cp "$BUSYBOX" "$IR/bin/busybox"
cp "$VB"/*.ko "$IR/mod/"
cp "$X"/lib/modules/*/kernel/drivers/char/virtio_console.ko "$IR/mod/" || setup_fail "no virtio_console.ko in the kernel package"
cp "$AGENT" "$IR/ismkit-agent"
BENCH=$(dirname "$AGENT")/bench-loop
[ -x "$BENCH" ] || setup_fail "no s390x bench-loop next to $AGENT (native/agent/build.sh s390x builds both)"
cp "$BENCH" "$IR/bench-loop"
# The host's burst as a file, for the agent in the guest without the transport (BAR4 at 4 << shift).
for sh in 40 48; do
  python3 -c "
import sys
n, base = int(sys.argv[1]), 4 << int(sys.argv[2])
sys.stdout.write(''.join(f'PREAD {base + (i * 8) % 4096} {(1, 2, 4, 8)[i % 4]} - -\\n' for i in range(n)))" "$BURST" "$sh" > "$IR/burst-$sh.txt"
done
for rev in $REVS; do mkdir -p "$IR/mod/$rev" && cp "$OUT/ism-build/$rev/ism-vfio-pci.ko" "$IR/mod/$rev/"; done
cp "$HERE/guest-init.sh" "$IR/init" && chmod 755 "$IR/init"
cp "$RUN/zpci-probe" "$IR/zpci-probe"
(cd "$IR" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$RUN/initramfs.cpio.gz")
note "setup done in $(elapsed "$start") s"

# 7b. The host's ismkit for the optional `ismkit hw --connect` step, built in the background
# while the boots without the agent run (an incremental build takes seconds, one from scratch
# about 200 s). Only when an agent boot will wait for it (so nothing outlives the script).
ISMKIT=${VM_S390X_ISMKIT:-}
ISMKIT_BUILD_PID=""
case " $MODES " in *" generic "*|*" merged "*|*" v3 "*|*" v4 "*)
  if [ -z "$ISMKIT" ] && command -v swift >/dev/null && [ -f Package.swift ]; then
    ISMKIT=$OUT/swift/debug/ismkit
    rm -f "$OUT/swift-build.rc"
    # Other work may edit Sources/ meanwhile ("modified during the build"): try up to 3 times.
    (for try in 1 2 3; do
       brc=0; swift build --scratch-path "$OUT/swift" --product ismkit > "$OUT/swift-build.log" 2>&1 || brc=$?
       [ "$brc" = 0 ] || ! grep -q "modified during the build" "$OUT/swift-build.log" && break
     done
     echo "$brc" > "$OUT/swift-build.rc") &
    ISMKIT_BUILD_PID=$!
  fi ;;
esac

# 8. One boot per mode. The generic and merged boots also serve the device with the agent.
HW_STATE=""  # "" until decided, then "yes" or the reason it is skipped
hw_decide() {  # the optional `ismkit hw --connect` step: only when the host's ismkit has it
  [ -n "$HW_STATE" ] && return
  if [ "$ISMKIT" = none ]; then HW_STATE="VM_S390X_ISMKIT=none"; return; fi
  if [ -n "$ISMKIT_BUILD_PID" ]; then
    local t0; t0=$(date +%s.%N)
    wait "$ISMKIT_BUILD_PID" 2>/dev/null || true
    note "host ismkit: swift build rc=$(cat "$OUT/swift-build.rc" 2>/dev/null || echo '?') (waited $(elapsed "$t0") s; log $OUT/swift-build.log)"
  fi
  if [ -z "$ISMKIT" ]; then HW_STATE="no swift on this host and VM_S390X_ISMKIT unset"
  elif [ -n "$ISMKIT_BUILD_PID" ] && [ "$(cat "$OUT/swift-build.rc" 2>/dev/null)" != 0 ]; then
    HW_STATE="swift build of the host ismkit failed: $(grep -m1 'error:' "$OUT/swift-build.log" 2>/dev/null || tail -n 1 "$OUT/swift-build.log" 2>/dev/null)"
  elif [ ! -x "$ISMKIT" ]; then HW_STATE="no host ismkit at $ISMKIT (swift build: $(tail -n 1 "$OUT/swift-build.log" 2>/dev/null))"
  elif ! "$ISMKIT" hw --help 2>&1 | grep -q -- --connect; then HW_STATE="$ISMKIT hw --help shows no --connect"
  else HW_STATE=yes; fi
  note "ismkit hw --connect step: ${HW_STATE/#yes/runs ($ISMKIT)}"
}
host_side() {  # $1 = mode, $2 = work dir, $3 = QEMU's pid: drive the guest's agents (runs while QEMU runs)
  local mode=$1 W=$2 prof dmode mac allow=()
  if [ "$mode" = generic ]; then prof=vfio-pci; dmode=generic; mac=0a:1b:2c:3d:4e:5f
  else prof=ism; dmode=ism; mac=71:60:5f:4e:3d:2c; fi  # what the probe leaves at the MAC
  for r in $AGENT_ALLOW; do allow+=(--allow-write "$r"); done
  # The ism driver on QEMU's zPCI: the device's own store-block rules (strict, maxstbl 128, R-WRITE-4).
  local device=()
  [ "$prof" = ism ] && device=(--maxstbl 128 --strict-store-blocks)
  local rc=0  # (set -e is on: keep the exit codes)
  if [ "$mode" = generic ] || [ "$mode" = merged ]; then  # v3, v4: only the ismkit hw session
    python3 "$HERE/drive-agent.py" --socket "$W/agent.sock" --mode "$dmode" --mac "$mac" --count "$BURST" \
      --json "$W/drive.json" --timeout "$QEMU_TIMEOUT" --qemu-pid "$3" > "$W/drive.txt" 2>&1 || rc=$?
    echo $rc > "$W/drive.rc"
  fi
  if [ "$HW_STATE" = yes ]; then
    # ---- optional step: ismkit hw --connect (skipped, with its reason, when unavailable) ----
    local t0; t0=$(date +%s.%N)
    echo "$ISMKIT hw --connect unix:$W/hw.sock --profile $prof ${device[*]} ${allow[*]} --operations $HW_OPS --seed 1" > "$W/hw.cmd"
    rc=0
    "$ISMKIT" hw --connect "unix:$W/hw.sock" --profile "$prof" "${device[@]}" "${allow[@]}" --operations "$HW_OPS" --seed 1 \
      --timeout 60 --report "$W/hw.json" --journal "$W/hw.journal" --output "$W/reproducers" \
      > "$W/hw.txt" 2> "$W/hw.stderr" || rc=$?
    echo $rc > "$W/hw.rc"
    echo "$(elapsed "$t0")" > "$W/hw.seconds"
    case $mode in v3) emit_hw_repro "$W" R-READ-3 ;; v4) emit_hw_repro "$W" R-READ-2 ;; esac
  else
    echo "$HW_STATE" > "$W/hw.skip"
  fi
}
# v3's R-READ-3 and v4's R-READ-2 reproducer files of `ismkit hw` (the host wrote them) as C
# programs: emitted with the run's allow-list and built static for s390x here; kept in
# repro-prev/ for the next run, whose merged, v3 and v4 guests run them (repro_prepare).
emit_hw_repro() {  # $1 = work dir, $2 = rule
  local W=$1 rule=$2 f name aw=()
  for r in $AGENT_ALLOW; do aw+=(--allow-write "$r"); done
  f=$(grep -l "\"rule\" : \"$rule\"" "$W"/reproducers/*.json 2>/dev/null | head -n 1 || true)
  if [ -z "$f" ]; then echo "none: no $rule reproducer in $W/reproducers" > "$W/repro-emit.txt"; return; fi
  name=$(basename "$W")-$rule
  if "$ISMKIT" repro --emit-c "$f" "${aw[@]}" > "$W/$name.c" 2> "$W/repro-emit.err" \
     && s390x-linux-gnu-gcc -O2 -static -o "$W/$name" "$W/$name.c" >> "$W/repro-emit.err" 2>&1; then
    mkdir -p "$OUT/repro-prev" && cp "$W/$name.c" "$OUT/repro-prev/$name.c"
    echo "ok: $f -> $name.c -> $name ($(stat -c %s "$W/$name") bytes, static s390x)" > "$W/repro-emit.txt"
  else
    echo "failed: $f: $(tail -n 1 "$W/repro-emit.err")" > "$W/repro-emit.txt"
  fi
}
# The C reproducers of the merged, v3 and v4 guests, as a second cpio archive appended to the
# initramfs (the kernel unpacks concatenated archives): narrow-reads.json here, and the
# programs emitted from an earlier run's v3/v4 `ismkit hw` reproducers (repro-prev/).
REPRO_STATE=""  # "" until prepared, then "yes" or why the programs are missing
repro_prepare() {
  [ -n "$REPRO_STATE" ] && return
  hw_decide
  local RD=$RUN/repro aw=() c n
  rm -rf "$RD" && mkdir -p "$RD/root/repro"
  for r in $AGENT_ALLOW; do aw+=(--allow-write "$r"); done
  if [ "$ISMKIT" = none ] || [ -z "$ISMKIT" ] || [ ! -x "$ISMKIT" ]; then
    REPRO_STATE="no host ismkit to run repro --emit-c (${HW_STATE})"
  elif ! "$ISMKIT" repro --emit-c "$HERE/narrow-reads.json" "${aw[@]}" > "$RD/narrow-reads.c" 2> "$RD/emit.err"; then
    REPRO_STATE="ismkit repro --emit-c narrow-reads.json failed: $(tail -n 1 "$RD/emit.err")"
  elif ! s390x-linux-gnu-gcc -O2 -static -o "$RD/root/repro/narrow-reads" "$RD/narrow-reads.c" > "$RD/gcc.log" 2>&1; then
    REPRO_STATE="s390x-linux-gnu-gcc narrow-reads.c failed: $(grep -m1 error "$RD/gcc.log")"
  else
    REPRO_STATE=yes
    for c in "$OUT"/repro-prev/*.c; do
      [ -f "$c" ] || continue
      n=prev-$(basename "$c" .c)
      s390x-linux-gnu-gcc -O2 -static -o "$RD/root/repro/$n" "$c" >> "$RD/gcc.log" 2>&1 || echo "$n: build failed" >> "$RD/prev-failed"
    done
  fi
  echo "$REPRO_STATE" > "$RD/state"
  ls "$RD/root/repro" > "$RD/programs" 2>/dev/null || true
  (cd "$RD/root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$RD/repro.cpio.gz")
  cat "$RUN/initramfs.cpio.gz" "$RD/repro.cpio.gz" > "$RUN/initramfs-repro.cpio.gz"
  note "C reproducers for the guests: ${REPRO_STATE/#yes/$(tr '\n' ' ' < "$RD/programs")}"
}
boot() {  # $1 = mode
  local mode=$1 W=$RUN/$1 t0
  t0=$(date +%s.%N)
  mkdir -p "$W"
  local trace=() agent=() append="" hpid="" initrd=$RUN/initramfs.cpio.gz
  [ "$mode" != generic ] && trace=(-trace memory_region_ops_write -D "$W/qemu-trace.log")
  case $mode in merged|v3|v4)
    repro_prepare
    if [ "$REPRO_STATE" = yes ]; then initrd=$RUN/initramfs-repro.cpio.gz; append=" ismkit.repro=1"
    else echo "$REPRO_STATE" > "$W/repro.skip"; fi ;;
  esac
  if [ "$mode" = generic ] || [ "$mode" = merged ]; then
    hw_decide
    agent=(-device virtio-serial-ccw
      -chardev socket,id=c0,path="$W/agent.sock",server=on,wait=off -device virtserialport,chardev=c0,name=ismkit
      -chardev socket,id=c1,path="$W/hw.sock",server=on,wait=off -device virtserialport,chardev=c1,name=ismkit-hw)
    append="$append ismkit.agent=1 ismkit.count=$BURST ismkit.hw=$([ "$HW_STATE" = yes ] && echo 1 || echo 0) ismkit.allow=${AGENT_ALLOW// /,}"
  elif [ "$mode" = v3 ] || [ "$mode" = v4 ]; then
    hw_decide
    if [ "$HW_STATE" = yes ]; then  # only the ismkit hw session (drive-agent.py's checks assume merged)
      agent=(-device virtio-serial-ccw
        -chardev socket,id=c1,path="$W/hw.sock",server=on,wait=off -device virtserialport,chardev=c1,name=ismkit-hw)
      append="$append ismkit.agent=hw ismkit.hw=1 ismkit.allow=${AGENT_ALLOW// /,}"
    else
      echo "$HW_STATE" > "$W/hw.skip"
    fi
  fi
  qemu-system-s390x -machine s390-ccw-virtio -accel tcg -cpu max -m 1024 -smp 1 \
    -display none -nodefaults -no-reboot -no-shutdown \
    -qmp unix:"$W/qmp.sock",server=on,wait=off -serial file:"$W/console.raw" "${trace[@]}" \
    -kernel "$VMLINUZ" -initrd "$initrd" \
    -append "console=ttysclp0 panic=-1 quiet ismkit.mode=$mode ismkit.mac=$MAC$append" "${agent[@]}" \
    -device zpci,uid=1,fid=1,target=dev \
    -device virtio-net-pci,id=dev,vectors=17,mac=$MAC \
    -device zpci,uid=2,fid=2,target=dev2 \
    -device virtio-net-pci,id=dev2,mac=02:11:22:33:44:66 2>"$W/qemu.stderr" &
  local qpid=$!
  if [ ${#agent[@]} -gt 0 ]; then host_side "$mode" "$W" "$qpid" & hpid=$!; fi
  python3 "$HERE/qemu-qmp.py" "$W/console.raw" "$W/qmp.sock" "$qpid" "$QEMU_TIMEOUT" "$W/qmp.txt" \
    || note "boot '$mode' did not finish (time-out ${QEMU_TIMEOUT} s or QEMU exited early)"
  wait "$qpid" 2>/dev/null || true
  # QEMU is gone, so its sockets are closed: the host side ends by itself (EOF) soon.
  [ -n "$hpid" ] && { wait "$hpid" 2>/dev/null || true; }
  tr -d '\r' < "$W/console.raw" > "$W/console.txt" 2>/dev/null || : > "$W/console.txt"
  note "boot '$mode' (QEMU start to exit) took $(elapsed "$t0") s"
}
# The agent boots go last: the host's ismkit builds in the background meanwhile. merged runs
# before v3 and v4, whose `ismkit hw` differences are compared with merged's.
for m in $MODES; do case $m in generic|merged|v3|v4) ;; *) boot "$m" ;; esac; done
for m in generic merged v3 v4; do case " $MODES " in *" $m "*) boot "$m" ;; esac; done

# 9. Judge and summarise.
# shellcheck disable=SC2086
python3 "$HERE/check-results.py" "$RUN" "$MAC" $MODES | tee "$RUN/summary.ktap" || echo "not ok - check-results.py failed"
read -r npass nfail ntodo nskip < "$RUN/counts" 2>/dev/null || { npass=0; nfail=1; ntodo=0; nskip=0; }
note "known differences (TODO, explained, not failures): $ntodo; skipped (# SKIP, neither passed nor failed): ${nskip:-0}; summary in $RUN/summary.ktap, guest consoles, QEMU traces and QMP answers in $RUN/<mode>/"
note "wall time $(elapsed "$start") s"
echo "vm-test-s390x: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
