#!/usr/bin/env bash
# agent-vm-test.sh: ismkit-agent against the real Linux vfio-pci driver, in a VM, driven from the host.
#
# Boots Debian's kernel under QEMU software emulation as vm/vm-test.sh does (q35 + intel-iommu, an
# ivshmem-plain device whose 1 MiB BAR2 is a host file) plus a virtio-serial port whose host end is
# a unix socket. The guest (vm/agent/guest-init.sh) binds the device to vfio-pci and serves it with
# `ismkit-agent --port /dev/virtio-ports/ismkit --allow-write 2:0x0-0xfff`; vm/agent/drive.py
# connects to the socket and checks the answers against the backing file. Afterwards the agent's
# journal, applied over the initial file, must give the final file (vm/check-backing.py), and the
# agent's pipelined throughput is compared with a C loop of the same preads in the same guest.
#
# Environment: AGENT_BIN (agent binary to test; default: build native/agent), AGENT_VM_COUNT
# (burst length of the host's bursts and the in-guest C loop, default 100000), AGENT_VM_FILE_COUNT
# (the bursts the guest feeds the agent from a file, default 100000), AGENT_VM_ROUNDS (benchmark
# rounds, default 5), AGENT_VM_TIMEOUT (QEMU time-out, default 300 s), AGENT_VM_BASELINE (another
# agent binary, e.g. an older build: each benchmark round then also runs it, after the agent under
# test, and the job prints its median beside the agent's, both from the same boot).
# Outputs under .build-agent/vm/ (git-ignored); the kernel is shared with vm/vm-test.sh (.build-vm/kernel/).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/.build-agent
WORK=$OUT/vm
COUNT=${AGENT_VM_COUNT:-100000}
ROUNDS=${AGENT_VM_ROUNDS:-5}
QEMU_TIMEOUT=${AGENT_VM_TIMEOUT:-300}
start=$(date +%s.%N)
rm -rf "$WORK" && mkdir -p "$WORK"
note() { echo "agent-vm: $*"; }
pass=0; fail=0
check() {  # $1 = name, $2... = command
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok - $name"; else fail=$((fail + 1)); echo "not ok - $name"; fi
}
finish() {
  note "wall time $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
  echo "agent-vm: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit
}

# 1. Tools.
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
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

# 2. Debian's kernel and its modules, where vm/vm-test.sh keeps them.
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$KPKG" ]; then apt-get update -qq; KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'); fi
KDIR=$ROOT/.build-vm/kernel/$KPKG
if [ ! -d "$KDIR/boot" ]; then
  note "fetching $KPKG"
  DL=$OUT/kernel-dl
  rm -rf "$DL" && mkdir -p "$DL" "$ROOT/.build-vm/kernel"
  (cd "$DL" && apt-get download "$KPKG" >/dev/null 2>&1)
  dpkg-deb -x "$DL"/"$KPKG"_*.deb "$DL/x"
  [ -d "$KDIR/boot" ] || mv "$DL/x" "$KDIR"
  rm -rf "$DL"
fi
VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-*)
MODDIR=$(ls -d "$KDIR"/lib/modules/*)/kernel

# 3. The agent and the C loop (static: the guest has no libraries).
if [ -z "${AGENT_BIN:-}" ]; then
  bash native/agent/build.sh native
  AGENT_BIN=$OUT/native/ismkit-agent
fi
BENCH_BIN=${BENCH_BIN:-$(dirname "$AGENT_BIN")/bench-loop}
[ -x "$BENCH_BIN" ] || BENCH_BIN=$OUT/native/bench-loop
[ -x "$BENCH_BIN" ] || bash native/agent/build.sh native
note "agent $AGENT_BIN"

# 4. The initramfs.
d=$WORK/initramfs
mkdir -p "$d"/{bin,dev,proc,sys,tmp,mod,etc}
cp /bin/busybox "$d/bin/busybox"
for m in virt/lib/irqbypass.ko drivers/vfio/vfio.ko drivers/vfio/vfio_virqfd.ko drivers/vfio/vfio_iommu_type1.ko \
         drivers/vfio/pci/vfio-pci-core.ko drivers/vfio/pci/vfio-pci.ko drivers/virtio/virtio.ko \
         drivers/virtio/virtio_ring.ko drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko \
         drivers/virtio/virtio_pci.ko drivers/char/virtio_console.ko; do
  [ -f "$MODDIR/$m" ] && cp "$MODDIR/$m" "$d/mod/"
done
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$d/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$d/etc/group"
cp vm/agent/guest-init.sh "$d/init" && chmod 755 "$d/init"
cp "$AGENT_BIN" "$d/ismkit-agent"
cp "$BENCH_BIN" "$d/bench-loop"
PER_ROUND=1
if [ -n "${AGENT_VM_BASELINE:-}" ]; then
  [ -x "$AGENT_VM_BASELINE" ] || { echo "agent-vm: AGENT_VM_BASELINE=$AGENT_VM_BASELINE is not an executable" >&2; exit 2; }
  cp "$AGENT_VM_BASELINE" "$d/ismkit-agent-baseline"
  PER_ROUND=2
  note "baseline agent $AGENT_VM_BASELINE (each round runs both)"
fi
AGENT_ROUNDS=$((ROUNDS * PER_ROUND))
FILE_COUNT=${AGENT_VM_FILE_COUNT:-100000}
python3 -c "
import sys
n = int(sys.argv[1])
sys.stdout.write(''.join(f'PREAD {(2 << 40) + (i * 8) % 4096} {(1, 2, 4, 8)[i % 4]} - -\\n' for i in range(n)))" "$FILE_COUNT" > "$d/burst.txt"
python3 -c "
import sys
sys.path.insert(0, 'native/agent')
import compact_frames as cf
n = int(sys.argv[1])
sys.stdout.buffer.write(b'COMPACT 1\\n' + b''.join(cf.pread((2 << 40) + (i * 8) % 4096, (1, 2, 4, 8)[i % 4]) for i in range(n)))" "$FILE_COUNT" > "$d/burst.bin"
(cd "$d" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$WORK/agent.cpio.gz")

# 5. Boot, and drive the agent from here while the guest runs.
head -c 1048576 /dev/urandom > "$WORK/bar2.initial"
cp "$WORK/bar2.initial" "$WORK/bar2.bin"
SOCK=$WORK/port.sock
t0=$(date +%s.%N)
timeout "$QEMU_TIMEOUT" qemu-system-x86_64 -machine q35,accel=tcg -device intel-iommu -m 1024 -smp 1 \
  -nodefaults -display none -no-reboot -monitor none -nic none \
  -serial file:"$WORK/console" -serial file:"$WORK/data" \
  -kernel "$VMLINUZ" -initrd "$WORK/agent.cpio.gz" \
  -append "console=ttyS0 intel_iommu=on panic=-1 quiet no_timer_check agent.count=$COUNT agent.rounds=$ROUNDS" \
  -object memory-backend-file,id=bar2,mem-path="$WORK/bar2.bin",size=1M,share=on \
  -device ivshmem-plain,memdev=bar2 \
  -device virtio-serial-pci -chardev socket,id=c0,path="$SOCK",server=on,wait=off \
  -device virtserialport,chardev=c0,name=ismkit > "$WORK/qemu.log" 2>&1 &
QEMU=$!
echo "--- host driving the agent over the virtio-serial port"
python3 vm/agent/drive.py "$SOCK" "$WORK/bar2.bin" "$COUNT" "$WORK/drive.json" "$QEMU_TIMEOUT" "$WORK/console" "$AGENT_ROUNDS" | tee "$WORK/drive.txt" || true
qrc=0; wait "$QEMU" || qrc=$?
note "boot (QEMU start to power-off) took $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s"
pass=$((pass + $(grep -c '^ok - ' "$WORK/drive.txt" || true)))
fail=$((fail + $(grep -c '^not ok - ' "$WORK/drive.txt" || true)))
if [ "$qrc" -ne 0 ]; then
  fail=$((fail + 1)); echo "not ok - QEMU exited $qrc (time-out $QEMU_TIMEOUT s?)"; tail -20 "$WORK/console"; cat "$WORK/qemu.log"
fi
tr -d '\r' < "$WORK/console" > "$WORK/console.txt"
tr -d '\r' < "$WORK/data" > "$WORK/data.txt"
python3 "$ROOT/vm/split-data.py" "$WORK/data.txt" "$WORK"

# 6. What the guest saw, and the backing file against the journal.
echo "--- guest results"
grep "^RESULT" "$WORK/console.txt" || true
result() { grep "^RESULT $1" "$WORK/console.txt" | head -1; }
has() { grep -q -- "$2" <<<"$(result "$1")"; }
check "device bound to vfio-pci" has bound "vfio-pci"
check "preflight on the real sysfs: not bound -> exit 2, the VFIOError line" \
  has preflight-unbound "rc=2 ismkit-agent: device .* is not bound to any driver; bind it to vfio-pci first"
check "preflight: no permission (as nobody) -> exit 2" has preflight-permission "rc=2 ismkit-agent: no permission to open /dev/vfio/"
check "preflight: busy (a second agent while the first serves) -> exit 2" has preflight-busy "rc=2 ismkit-agent: /dev/vfio/[0-9]* is busy"
check "agent exited 0 after QUIT, nothing on stderr" bash -c "grep -qx 'RESULT agent rc=0 ' '$WORK/console.txt'"
check "journal: complete (trailer) with the accepted writes" python3 -c "
import json,sys
j=[l for l in open('$WORK/journal').read().split('\n') if l]
d=json.load(open('$WORK/drive.json'))
sys.exit(0 if j[0]=='ismkit-write-journal 1' and j[-1]=='E %d' % d['entries'] and len(j)==d['entries']+2 else 1)"
check "host file: the journal applied over the initial BAR2 gives the final BAR2" \
  python3 vm/check-backing.py "$WORK/bar2.initial" "$WORK/bar2.bin" 2 "$WORK/journal"
for r in $(seq 0 "$AGENT_ROUNDS"); do check "in-guest C loop round $r ran" has "loop-$r" "rc=0 bench-loop: $COUNT preads"; done
for r in $(seq 1 "$AGENT_ROUNDS"); do check "benchmark agent round $r exited 0" has "bench-agent-$r" "rc=0 "; done
check "agent fed from a file in the guest: every one of $FILE_COUNT PREADs answered OK" \
  has agent-file "rc=0 lines=$((FILE_COUNT + 1)) ok=$FILE_COUNT seconds="
COMPACT_BYTES=$(python3 -c "import sys; n=int(sys.argv[1]); print(sum(5 + (1, 2, 4, 8)[i % 4] for i in range(n)))" "$FILE_COUNT")
check "agent fed compact frames from a file in the guest: every answer (greeting, OK 1, $FILE_COUNT frames)" \
  bash -c "grep -Eq '^RESULT agent-compact-file rc=0 bytes=$((COMPACT_BYTES + 9 + $(printf 'ISMKIT-WIRE 1 little 0 vfio-agent\n' | wc -c))) ' '$WORK/console.txt'"

# 7. Throughput. The benchmark: each agent round against the mean of the C loop rounds just before
# and after it (the machine's load changes; adjacent rounds see the same), and the median of those.
python3 - "$WORK/console.txt" "$WORK/drive.json" "$PER_ROUND" "$COUNT" <<'PY' || true
import json, re, statistics, sys
console, per_round, count = open(sys.argv[1]).read(), int(sys.argv[3]), int(sys.argv[4])
def loop(r):
    m = re.search(rf"^RESULT loop-{r} rc=0 bench-loop: \d+ preads in [0-9.]+ s: (\d+) ops/s", console, re.M)
    return float(m.group(1)) if m else None
try:
    agent = json.load(open(sys.argv[2]))["rounds"]
except Exception:
    agent = []
ratios = {"agent": [], "baseline": []}
for r, a in enumerate(agent, 1):
    before, after = loop(r - 1), loop(r)
    who = "agent" if per_round == 1 or r % 2 == 1 else "baseline"
    if before and after:
        ratios[who].append(a / ((before + after) / 2))
        print(f"benchmark round {r} ({who}): C loop {before:.0f} / {after:.0f} ops/s, agent from the host (compact frames) {a:.0f} ops/s: {ratios[who][-1]:.2f} x")
for who, label in (("agent", "agent"), ("baseline", "baseline agent (AGENT_VM_BASELINE)")):
    v = ratios[who]
    if v:
        print(f"benchmark: {count} preads per round, {len(v)} rounds: {label} through virtio-serial / in-guest C loop = "
              f"{statistics.median(v):.2f} x (median; min {min(v):.2f}, max {max(v):.2f})")
    elif who == "agent":
        print("benchmark: n/a")
PY
python3 - "$WORK/drive.json" "$(result loop-0)" "$(result agent-file)" "$(result agent-compact-file)" "$FILE_COUNT" <<'PY' || true
import json, re, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    d = {}
m = re.search(r": (\d+) ops/s", sys.argv[2])
loop = float(m.group(1)) if m else None
def from_file(text):
    f = re.search(r"seconds=([0-9.]+)-([0-9.]+)", text)
    return int(sys.argv[5]) / (float(f.group(2)) - float(f.group(1))) if f and float(f.group(2)) > float(f.group(1)) else None
rows = [("agent over virtio-serial, compact frames (pipelined)", d.get("compact_ops")),
        ("agent over virtio-serial, text lines (pipelined)", d.get("agent_ops")),
        ("agent over virtio-serial, text lines, one request at a time", d.get("lockstep_ops")),
        ("agent in the guest, compact frames from a file (no transport; the open included)", from_file(sys.argv[4])),
        ("agent in the guest, text lines from a file (no transport; the open included)", from_file(sys.argv[3]))]
print("other paths, against C loop round 0 (not adjacent in time: the machine's load may differ):")
for name, ops in rows:
    print(f"  {name} {ops:.0f} ops/s" + (f" = {ops / loop:.2f} x" if loop else "") if ops else f"  {name}: n/a")
PY
finish
