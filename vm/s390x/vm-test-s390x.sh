#!/usr/bin/env bash
# vm/s390x/vm-test-s390x.sh: the ism-vfio-pci driver, unmodified, on a real big-endian kernel.
#
# Boots Debian's s390x kernel under qemu-system-s390x (TCG) with a virtio-net-pci function
# attached over zPCI, builds the vfio modules that kernel lacks (CONFIG_VFIO is unset) from
# linux-source-6.1 with vfio-core-backport.patch, builds every ../shared/kernel/<rev>/main.c as
# ism-vfio-pci.ko, and runs zpci-probe.c in the guest once per driver: generic vfio-pci, then the
# merged, v3, v4 and v3-probe revisions. Prints a KTAP summary and, last,
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

usage() {
  cat <<EOF
usage: vm/s390x/vm-test-s390x.sh [--modes "generic merged v3 v4 v3-probe"] [--timeout S] [--clean]
  --modes    which boots to run (default: all five)
  --timeout  QEMU time-out per boot in seconds (default 300, or VM_S390X_TIMEOUT)
  --clean    delete the cache (.build-s390x/) first: a cold run
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
[ "$CLEAN" = 1 ] && rm -rf "$OUT"
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

# 7. The initramfs: busybox, the modules, /init, the probe.
IR=$RUN/initramfs
mkdir -p "$IR"/{bin,dev,proc,sys,tmp,mod}
cp "$BUSYBOX" "$IR/bin/busybox"
cp "$VB"/*.ko "$IR/mod/"
for rev in $REVS; do mkdir -p "$IR/mod/$rev" && cp "$OUT/ism-build/$rev/ism-vfio-pci.ko" "$IR/mod/$rev/"; done
cp "$HERE/guest-init.sh" "$IR/init" && chmod 755 "$IR/init"
cp "$RUN/zpci-probe" "$IR/zpci-probe"
(cd "$IR" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$RUN/initramfs.cpio.gz")
note "setup done in $(elapsed "$start") s"

# 8. One boot per mode.
boot() {  # $1 = mode
  local mode=$1 W=$RUN/$1 t0
  t0=$(date +%s.%N)
  mkdir -p "$W"
  local trace=()
  [ "$mode" != generic ] && trace=(-trace memory_region_ops_write -D "$W/qemu-trace.log")
  qemu-system-s390x -machine s390-ccw-virtio -accel tcg -cpu max -m 1024 -smp 1 \
    -display none -nodefaults -no-reboot -no-shutdown \
    -qmp unix:"$W/qmp.sock",server=on,wait=off -serial file:"$W/console.raw" "${trace[@]}" \
    -kernel "$VMLINUZ" -initrd "$RUN/initramfs.cpio.gz" \
    -append "console=ttysclp0 panic=-1 quiet ismkit.mode=$mode ismkit.mac=$MAC" \
    -device zpci,uid=1,fid=1,target=dev \
    -device virtio-net-pci,id=dev,vectors=17,mac=$MAC \
    -device zpci,uid=2,fid=2,target=dev2 \
    -device virtio-net-pci,id=dev2,mac=02:11:22:33:44:66 2>"$W/qemu.stderr" &
  local qpid=$!
  python3 "$HERE/qemu-qmp.py" "$W/console.raw" "$W/qmp.sock" "$qpid" "$QEMU_TIMEOUT" "$W/qmp.txt" \
    || note "boot '$mode' did not finish (time-out ${QEMU_TIMEOUT} s or QEMU exited early)"
  wait "$qpid" 2>/dev/null || true
  tr -d '\r' < "$W/console.raw" > "$W/console.txt" 2>/dev/null || : > "$W/console.txt"
  note "boot '$mode' (QEMU start to exit) took $(elapsed "$t0") s"
}
for m in $MODES; do boot "$m"; done

# 9. Judge and summarise.
# shellcheck disable=SC2086
python3 "$HERE/check-results.py" "$RUN" "$MAC" $MODES | tee "$RUN/summary.ktap" || echo "not ok - check-results.py failed"
read -r npass nfail ntodo < "$RUN/counts" 2>/dev/null || { npass=0; nfail=1; ntodo=0; }
note "known differences (TODO, explained, not failures): $ntodo; summary in $RUN/summary.ktap, guest consoles, QEMU traces and QMP answers in $RUN/<mode>/"
note "wall time $(elapsed "$start") s"
echo "vm-test-s390x: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
