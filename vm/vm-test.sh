#!/usr/bin/env bash
# make vm-test: ismkit against the real Linux vfio-pci driver, in a VM.
#
# Boots Debian's kernel under QEMU software emulation (q35 + intel-iommu, intel_iommu=on) with an
# ivshmem-plain device whose BAR2 is a host file, binds it to vfio-pci inside the guest and runs
# `ismkit hw` there (see vm/guest-init.sh). Then, on the host, checks from that file that every
# byte the runs wrote landed where their journals say and nothing else changed, boots again to
# run a C reproducer emitted by `ismkit repro --emit-c`, and boots a third time to run the same
# hardware checks from the host through ismkit-agent in the guest (`ismkit hw --connect`, over
# a virtio-serial port whose host end is a unix socket).
# Everything is built under .build-vm/ (git-ignored). Installs what it needs with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/.build-vm
WORK=$OUT/run
SECONDS_RUN=${VM_TEST_SECONDS:-4}
QEMU_TIMEOUT=${VM_TEST_TIMEOUT:-300}
start=$(date +%s.%N)
mkdir -p "$OUT"
rm -rf "$WORK" && mkdir -p "$WORK"

note() { echo "vm-test: $*"; }

# 1. Tools.
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
# busybox must be the static one (the guest has no libraries).
if ! { [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; }; then need+=(busybox-static); fi
command -v cpio >/dev/null || need+=(cpio)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  note "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. Debian's kernel and its modules (the package linux-image-amd64 depends on).
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$KPKG" ]; then apt-get update -qq; KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'); fi
KDIR=$OUT/kernel/$KPKG
if [ ! -d "$KDIR/boot" ]; then
  note "fetching $KPKG"
  mkdir -p "$OUT/kernel/dl" && rm -f "$OUT"/kernel/dl/*.deb
  (cd "$OUT/kernel/dl" && apt-get download "$KPKG" >/dev/null 2>&1)
  rm -rf "$KDIR.tmp" && dpkg-deb -x "$OUT"/kernel/dl/"$KPKG"_*.deb "$KDIR.tmp" && mv "$KDIR.tmp" "$KDIR"
fi
VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-*)
MODDIR=$(ls -d "$KDIR"/lib/modules/*)/kernel

# 3. ismkit as a static executable (no libraries in the guest).
note "building ismkit (release, static)"
BUILD_FLAGS=(-c release --scratch-path "$OUT/swift" --product ismkit)
if swift build "${BUILD_FLAGS[@]}" -Xswiftc -static-executable >"$OUT/build.log" 2>&1; then
  ISMKIT=$(swift build "${BUILD_FLAGS[@]}" -Xswiftc -static-executable --show-bin-path)/ismkit
else
  note "static executable failed (see $OUT/build.log); using --static-swift-stdlib"
  cp "$OUT/build.log" "$OUT/build-static-executable.log"
  if ! swift build "${BUILD_FLAGS[@]}" --static-swift-stdlib >"$OUT/build.log" 2>&1; then
    grep -E "error:" "$OUT/build.log" | head -5
    note "cannot build ismkit (see $OUT/build.log)"
    echo "vm-test: 0 passed, 1 failed"
    exit 1
  fi
  ISMKIT=$(swift build "${BUILD_FLAGS[@]}" --static-swift-stdlib --show-bin-path)/ismkit
fi

# The agent (static C) for the guest, and ismkit for the host (the debug build in .build-hw/).
note "building ismkit-agent and the host's ismkit"
AGENT_OK=1
bash native/agent/build.sh native >"$OUT/agent-build.log" 2>&1 || { AGENT_OK=0; note "cannot build ismkit-agent (see $OUT/agent-build.log)"; }
AGENT=$ROOT/.build-agent/native/ismkit-agent
HOST_ISMKIT=${VM_TEST_HOST_ISMKIT:-}
if [ -z "$HOST_ISMKIT" ]; then
  if swift build --scratch-path "$ROOT/.build-hw" --product ismkit >"$OUT/host-build.log" 2>&1; then
    HOST_ISMKIT=$(swift build --scratch-path "$ROOT/.build-hw" --show-bin-path)/ismkit
  else
    note "host debug build failed (see $OUT/host-build.log); the host uses the static build"
    HOST_ISMKIT=$ISMKIT
  fi
fi

# 4. The initramfs.
make_initramfs() {  # $1 = output, $2... = extra files "src:dst"
  local out=$1; shift
  local d=$WORK/initramfs
  rm -rf "$d" && mkdir -p "$d"/{bin,dev,proc,sys,tmp,mod,etc}
  cp /bin/busybox "$d/bin/busybox"
  for m in virt/lib/irqbypass.ko drivers/vfio/vfio.ko drivers/vfio/vfio_virqfd.ko drivers/vfio/vfio_iommu_type1.ko \
           drivers/vfio/pci/vfio-pci-core.ko drivers/vfio/pci/vfio-pci.ko drivers/virtio/virtio.ko \
           drivers/virtio/virtio_ring.ko drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko \
           drivers/virtio/virtio_pci.ko drivers/char/virtio_console.ko; do
    [ -f "$MODDIR/$m" ] && cp "$MODDIR/$m" "$d/mod/"
  done
  printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$d/etc/group"
  cp "$ROOT/vm/guest-init.sh" "$d/init" && chmod 755 "$d/init"
  for pair in "$@"; do
    cp "${pair%%:*}" "$d/${pair##*:}"
    # A dynamically linked binary (the --static-swift-stdlib fallback) takes its libraries along.
    if ldd "${pair%%:*}" >/dev/null 2>&1; then
      for lib in $(ldd "${pair%%:*}" | grep -o '/[^ ]*'); do
        mkdir -p "$d$(dirname "$lib")" && cp -L "$lib" "$d$lib"
      done
    fi
  done
  (cd "$d" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$out")
}

boot() {  # $1 = initramfs, $2 = mode, $3 = log prefix, $4... = more QEMU arguments
  local t0=$(date +%s.%N) initramfs=$1 mode=$2 prefix=$3
  shift 3
  timeout "$QEMU_TIMEOUT" qemu-system-x86_64 -machine q35,accel=tcg -device intel-iommu -m 1024 -smp 1 "$@" \
    -nodefaults -display none -no-reboot -monitor none -nic none \
    -serial file:"$WORK/$prefix.console" -serial file:"$WORK/$prefix.data" \
    -kernel "$VMLINUZ" -initrd "$initramfs" \
    -append "console=ttyS0 intel_iommu=on panic=-1 quiet ismkit.mode=$mode ismkit.seconds=$SECONDS_RUN" \
    -object memory-backend-file,id=bar2,mem-path="$WORK/bar2.bin",size=1M,share=on \
    -device ivshmem-plain,memdev=bar2 || { note "QEMU failed or timed out ($prefix)"; tail -20 "$WORK/$prefix.console"; exit 1; }
  note "boot '$mode' (QEMU start to power-off) took $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s"
  tr -d '\r' < "$WORK/$prefix.data" > "$WORK/$prefix.data.txt"
  tr -d '\r' < "$WORK/$prefix.console" > "$WORK/$prefix.console.txt"
  # Split the data channel into files.
  python3 "$ROOT/vm/split-data.py" "$WORK/$prefix.data.txt" "$WORK/$prefix"
}

# 5. Boot 1: the hardware runs.
head -c 1048576 /dev/urandom > "$WORK/bar2.initial"
cp "$WORK/bar2.initial" "$WORK/bar2.bin"
make_initramfs "$WORK/hw.cpio.gz" "$ISMKIT:ismkit" "$ROOT/vm/outside-allow-list.json:outside-allow-list.json"
mkdir -p "$WORK/hw"
boot "$WORK/hw.cpio.gz" hw hw
cp "$WORK/bar2.bin" "$WORK/bar2.after-hw"

pass=0; fail=0
check() {  # $1 = name, $2... = command
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok - $name"; else fail=$((fail + 1)); echo "not ok - $name"; fi
}
result() { grep "^RESULT $1" "$WORK/hw.console.txt" | head -1; }
has() { grep -q -- "$2" <<<"$(result "$1")"; }

echo "--- guest results"
grep "^RESULT" "$WORK/hw.console.txt" || true
check "device bound to vfio-pci" has bound "vfio-pci"
check "preflight: not bound -> exit 2, one line" has preflight-unbound "rc=2 ismkit: device .* is not bound to any driver"
check "preflight: no such device -> exit 2" has preflight-missing "rc=2 ismkit: no PCI device 0000:00:1e.7"
check "preflight: no permission -> exit 2" has preflight-permission "rc=2 ismkit: no permission to open /dev/vfio/"
check "preflight: busy -> exit 2" has preflight-busy "rc=2 ismkit: .* is busy"
check "dry run exits 0 and opens nothing" has dry-run "rc=0"
check "run 1 (vfio-pci profile) completed (exit 0 or 1, no crash)" bash -c "grep -Eq '^RESULT run1 rc=(0|1) ' '$WORK/hw.console.txt'"
# The generic vfio-pci kernel differs from SPEC.md in known ways (docs/hardware.md: lseek is
# ESPIPE, ROM region info succeeds); anything else it disagrees on is a new finding and fails.
check "run 1: the kernel differs from the model only in the known SPEC findings" python3 -c "
import json,sys
r=json.load(open('$WORK/hw/r1.json'))
known={'R-BAR-4':'ESPIPE','R-OFF-3':'offset','R-INFO-3':'offset'}
bad=[d for d in r['differences'] if d['rule'] not in known or known[d['rule']] not in d['first']['actual']]
for d in bad: print('unexpected difference:', d['rule'], d['first']['operation'], 'expected', d['first']['expected'], 'actual', d['first']['actual'])
sys.exit(1 if bad else 0)"
check "run 1: BAR2 region offset from the kernel is 2<<40" python3 -c "
import json,sys; r=json.load(open('$WORK/hw/r1.json')); g={x['index']:x for x in r['regions']}
sys.exit(0 if g[2]['offset']=='0x20000000000' and g[7]['offset']=='0x70000000000' else 1)"
check "run 2 (ism profile forced) is non-conforming (exit 1), not a crash" has run2 "rc=1"
check "run 2 reports the region-base (shift) rule" python3 -c "
import json,sys; r=json.load(open('$WORK/hw/r2.json')); rules={d['rule'] for d in r['differences']}
sys.exit(0 if rules & {'R-INFO-1','R-INFO-2','R-OFF-1','R-OFF-2'} else 1)"
check "run 2 reports a write rule (store block vs split writes)" python3 -c "
import json,sys; r=json.load(open('$WORK/hw/r2.json')); rules={d['rule'] for d in r['differences']}
sys.exit(0 if rules & {'R-WRITE-1','R-WRITE-2','R-WRITE-3'} else 1)"
check "run 3: writes outside the allow-list refused before the kernel" python3 -c "
import json,sys; r=json.load(open('$WORK/hw/r3.json')); sys.exit(0 if r['refusedWrites']==3 and r['writesJournaled']==1 else 1)"
check "run 4: read-only by default (no write journaled)" grep -qx "E 0" "$WORK/hw/j4"
check "host file: every written byte landed where the journals say, nothing else changed" \
  python3 "$ROOT/vm/check-backing.py" "$WORK/bar2.initial" "$WORK/bar2.after-hw" 2 "$WORK/hw/j1" "$WORK/hw/j2" "$WORK/hw/j3"

# 6. Boot 2: a C reproducer from run 2's findings, compiled statically, run in the guest.
# Prefer a write-rule finding (the store-block semantics generic vfio-pci does not have).
REPRO_JSON=""
for f in "$WORK"/hw/repro2/*R-WRITE-1*.json "$WORK"/hw/repro2/*R-WRITE-2*.json "$WORK"/hw/repro2/*.json; do
  if [ -f "$f" ]; then REPRO_JSON=$f; break; fi
done
if [ -n "$REPRO_JSON" ]; then
  "$ISMKIT" repro --emit-c "$REPRO_JSON" --allow-write 2:0x0-0xfffff > "$WORK/repro.c"
  gcc -O2 -static -o "$WORK/repro.bin" "$WORK/repro.c"
  # A second program whose BAR0 (MMIO) accesses QEMU traces: the widths the kernel really issues.
  "$ISMKIT" repro --emit-c "$ROOT/vm/access-widths.json" --allow-write 0:0x80-0x87 > "$WORK/widths.c"
  gcc -O2 -static -o "$WORK/widths.bin" "$WORK/widths.c"
  make_initramfs "$WORK/repro.cpio.gz" "$WORK/repro.bin:repro" "$WORK/widths.bin:widths"
  mkdir -p "$WORK/repro"
  boot "$WORK/repro.cpio.gz" repro repro -device edu -trace memory_region_ops_read -trace memory_region_ops_write -D "$WORK/qemu-trace.log"
  echo "--- access widths the kernel issued on the edu device's BAR0 (QEMU trace) for vm/access-widths.json"
  cat "$WORK/repro/widths.ktap" 2>/dev/null || true
  python3 - "$WORK/qemu-trace.log" <<'PY'
import re, sys
ev = []
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"memory_region_ops_(read|write) .*addr (0x[0-9a-f]+) value (0x[0-9a-f]+) size (\d+) name 'edu-mmio'", line)
    if m:
        ev.append(f"{'load' if m.group(1) == 'read' else 'store'}{int(m.group(4)) * 8}@{int(m.group(2), 16) & 0xff:#x}")
print("kernel issued:                      " + ", ".join(ev))
# SPEC R-READ-1 and section 9 (vfio-pci profile): reads and writes split 8/4/2/1, 4/2/1 where the host lacks 64-bit MMIO.
print("SPEC predicts (64-bit MMIO host):    load32@0x0, store64@0x80, load64@0x80")
print("SPEC predicts (no 64-bit MMIO host): load32@0x0, store32@0x80, store32@0x84, load32@0x80, load32@0x84")
PY
  echo "--- C reproducer ($(basename "$REPRO_JSON")) in the guest"
  cat "$WORK/repro/repro.ktap" 2>/dev/null || true
  check "C reproducer ran: KTAP plan printed" grep -q "^1\.\." "$WORK/repro/repro.ktap"
  check "C reproducer shows the finding on the real kernel (exit 1, a 'not ok' line)" \
    bash -c "grep -q '^RESULT repro rc=1' '$WORK/repro.console.txt' && grep -q '^not ok' '$WORK/repro/repro.ktap'"
else
  fail=$((fail + 1)); echo "not ok - run 2 wrote no reproducer for the C program"
fi

# 7. Boot 3: the agent path. ismkit-agent serves the device in the guest on a virtio-serial port;
# this host drives it with `ismkit hw --connect unix:SOCK`, one agent session per run.
AW=$WORK/agent
mkdir -p "$AW"
if [ "$AGENT_OK" = 1 ]; then
  head -c 1048576 /dev/urandom > "$WORK/bar2-agent.initial"
  cp "$WORK/bar2-agent.initial" "$WORK/bar2-agent.bin"
  make_initramfs "$WORK/agent.cpio.gz" "$AGENT:ismkit-agent"
  SOCK=$WORK/agent.sock
  rm -f "$SOCK"
  t0=$(date +%s.%N)
  timeout "$QEMU_TIMEOUT" qemu-system-x86_64 -machine q35,accel=tcg -device intel-iommu -m 1024 -smp 1 \
    -nodefaults -display none -no-reboot -monitor none -nic none \
    -serial file:"$WORK/agent.console" -serial file:"$WORK/agent.data" \
    -kernel "$VMLINUZ" -initrd "$WORK/agent.cpio.gz" \
    -append "console=ttyS0 intel_iommu=on panic=-1 quiet no_timer_check ismkit.mode=agent" \
    -object memory-backend-file,id=bar2,mem-path="$WORK/bar2-agent.bin",size=1M,share=on \
    -device ivshmem-plain,memdev=bar2 \
    -device virtio-serial-pci -chardev socket,id=c0,path="$SOCK",server=on,wait=off \
    -device virtserialport,chardev=c0,name=ismkit > "$WORK/agent.qemu.log" 2>&1 &
  QEMU=$!
  # Waits until the guest starts the agent session $1 (its console line), or QEMU ends.
  await_agent() {
    local deadline=$(( $(date +%s) + QEMU_TIMEOUT ))
    until grep -q "^RESULT agent-start $1" "$WORK/agent.console" 2>/dev/null; do
      if ! kill -0 "$QEMU" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then return 1; fi
      sleep 0.2
    done
  }
  hostrun() {  # $1 = name, $2... = ismkit hw options; prints "RESULT host-NAME rc=N"
    local n=$1 rc=0; shift
    if await_agent "$n"; then
      "$HOST_ISMKIT" hw --connect "unix:$SOCK" --journal "$AW/hj-$n" --report "$AW/r-$n.json" --output "$AW/repro-$n" --quiet "$@" \
        > "$AW/$n.txt" 2> "$AW/$n.err" || rc=$?
      echo "RESULT host-$n rc=$rc $(head -c 300 "$AW/$n.err")" >> "$AW/results"
    else
      echo "RESULT host-$n rc=none (the guest never started agent session $n)" >> "$AW/results"
    fi
  }
  : > "$AW/results"
  # refuse: the host's guard off (its list is all of BAR2), the agent's list 2:0x0-0xfff: the
  # agent itself must refuse the writes of vm/outside-allow-list.json outside its list.
  hostrun refuse --profile vfio-pci --allow-write 2:0x0-0xfffff --unsafe-send-refused-writes --operations-file "$ROOT/vm/outside-allow-list.json"
  # guard: the host's guard on (2:0x0-0xfff, as run 3): refused before anything is sent.
  hostrun guard --profile vfio-pci --allow-write 2:0x0-0xfff --operations-file "$ROOT/vm/outside-allow-list.json"
  # Nothing may have changed outside 2:0x0-0xfff so far (the guest writes nothing by itself).
  cp "$WORK/bar2-agent.bin" "$WORK/bar2-agent.after-guard"
  # run: generated operations, writes allowed on all of BAR2 on both sides (as run 1).
  hostrun run --profile vfio-pci --allow-write 2:0x0-0xfffff --seconds "$SECONDS_RUN" --seed 1
  # bench: read-only generated operations.
  hostrun bench --profile vfio-pci --seconds "$SECONDS_RUN" --seed 2
  qrc=0; wait "$QEMU" || qrc=$?
  note "boot 'agent' (QEMU start to power-off) took $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s"
  tr -d '\r' < "$WORK/agent.console" > "$WORK/agent.console.txt"
  tr -d '\r' < "$WORK/agent.data" > "$WORK/agent.data.txt"
  python3 "$ROOT/vm/split-data.py" "$WORK/agent.data.txt" "$AW"
  echo "--- agent path (host: $HOST_ISMKIT)"
  grep "^RESULT" "$WORK/agent.console.txt" || true
  cat "$AW/results"
  [ "$qrc" -eq 0 ] || { fail=$((fail + 1)); echo "not ok - agent boot: QEMU exited $qrc"; tail -20 "$WORK/agent.console.txt"; }
  aresult() { grep -h "^RESULT $1 " "$WORK/agent.console.txt" "$AW/results" | head -1; }
  ahas() { grep -q -- "$2" <<<"$(aresult "$1")"; }
  for n in refuse guard run bench; do
    check "agent session '$n' ended after QUIT (agent exit 0)" ahas "agent-$n" "rc=0 "
  done
  check "refuse: host guard off -> the agent itself refused the writes outside its list (exit 1: EPERM differs)" python3 -c "
import json,sys; r=json.load(open('$AW/r-refuse.json'))
rc1='RESULT host-refuse rc=1 ' in open('$AW/results').read()
eperm=r['differences'] and all('EPERM' in d['first']['actual'] for d in r['differences'])
print('agent refused', r['agent']['refusedWrites'], 'host refused', r['refusedWrites'], 'journaled', r['writesJournaled'])
sys.exit(0 if rc1 and eperm and r['refusedWrites']==0 and r['agent']['refusedWrites']>=3 and r['agent']['hostGuard'] is False else 1)"
  check "guard: host guard on -> refused before sending, nothing for the agent to refuse" python3 -c "
import json,sys; r=json.load(open('$AW/r-guard.json'))
sys.exit(0 if r['refusedWrites']==3 and r['agent']['refusedWrites']==0 and r['writesJournaled']==1 else 1)"
  check "refuse + guard: host file unchanged outside 2:0x0-0xfff" python3 -c "
import sys; a=open('$WORK/bar2-agent.initial','rb').read(); b=open('$WORK/bar2-agent.after-guard','rb').read()
sys.exit(0 if len(a)==len(b) and a[0x1000:]==b[0x1000:] else 1)"
  check "run (host ismkit --connect, vfio-pci profile) completed (exit 0 or 1)" bash -c "grep -Eq '^RESULT host-run rc=(0|1) ' '$AW/results'"
  check "run: the kernel differs from the model only in the known SPEC findings" python3 -c "
import json,sys
r=json.load(open('$AW/r-run.json'))
known={'R-BAR-4':'ESPIPE','R-OFF-3':'offset','R-INFO-3':'offset'}
bad=[d for d in r['differences'] if d['rule'] not in known or known[d['rule']] not in d['first']['actual']]
for d in bad: print('unexpected difference:', d['rule'], d['first']['operation'], 'expected', d['first']['expected'], 'actual', d['first']['actual'])
sys.exit(1 if bad else 0)"
  check "bench (read-only): completed, the kernel differs only in the known SPEC findings" python3 -c "
import json,sys
r=json.load(open('$AW/r-bench.json'))
known={'R-BAR-4':'ESPIPE','R-OFF-3':'offset','R-INFO-3':'offset'}
bad=[d for d in r['differences'] if d['rule'] not in known or known[d['rule']] not in d['first']['actual']]
for d in bad: print('unexpected difference:', d['rule'], d['first']['operation'], 'expected', d['first']['expected'], 'actual', d['first']['actual'])
rc=open('$AW/results').read()
sys.exit(1 if bad or not ('RESULT host-bench rc=0 ' in rc or 'RESULT host-bench rc=1 ' in rc) or r['operations'] == 0 else 0)"
  check "run: region offsets from the agent (BAR2 at 2<<40, config at 7<<40)" python3 -c "
import json,sys; r=json.load(open('$AW/r-run.json')); g={x['index']:x for x in r['regions']}
sys.exit(0 if g[2]['offset']=='0x20000000000' and g[7]['offset']=='0x70000000000' else 1)"
  check "run: writes went through; the host's journal and the agent's are the same" python3 -c "
import json,sys
r=json.load(open('$AW/r-run.json')); h=open('$AW/hj-run').read().strip(); a=open('$AW/aj-run').read().strip()
sys.exit(0 if r['writesJournaled'] > 0 and r['agent']['writesJournaled'] == r['writesJournaled'] and h == a else 1)"
  check "agent path, host file: the host's journals give the final BAR2" \
    python3 "$ROOT/vm/check-backing.py" "$WORK/bar2-agent.initial" "$WORK/bar2-agent.bin" 2 "$AW/hj-refuse" "$AW/hj-guard" "$AW/hj-run"
  check "agent path, host file: the agent's own journals give the final BAR2" \
    python3 "$ROOT/vm/check-backing.py" "$WORK/bar2-agent.initial" "$WORK/bar2-agent.bin" 2 "$AW/aj-refuse" "$AW/aj-guard" "$AW/aj-run"
  python3 - "$WORK/hw/r1.json" "$AW/r-run.json" "$AW/r-bench.json" <<'PY' || true
import json, sys
try:
    a, b = (json.load(open(p)) for p in sys.argv[1:3])
    x, y = a["operationsPerSecond"], b["operationsPerSecond"]
    print(f"throughput: in process (ismkit hw --device in the guest) {x:.0f} operations/s, {a['operations']} in {a['seconds']:.1f} s")
    print(f"throughput: through the agent (ismkit hw --connect on the host) {y:.0f} operations/s, {b['operations']} in {b['seconds']:.1f} s")
    print(f"throughput: agent / in process = {y / x:.2f}" if x > 0 else "throughput: n/a")
    c = json.load(open(sys.argv[3]))
    print(f"throughput: through the agent, read-only {c['operationsPerSecond']:.0f} operations/s, {c['operations']} in {c['seconds']:.1f} s")
except Exception as e:
    print(f"throughput: n/a ({e})")
PY
else
  fail=$((fail + 1)); echo "not ok - ismkit-agent could not be built"
fi

echo "--- run 1 report (vfio-pci profile)"
cat "$WORK/hw/run1.txt" 2>/dev/null || true
echo "--- run 2 report (ism profile forced)"
cat "$WORK/hw/run2.txt" 2>/dev/null || true
elapsed=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
note "wall time ${elapsed} s (including the build)"
echo "vm-test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
