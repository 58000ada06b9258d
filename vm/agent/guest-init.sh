#!/bin/busybox sh
# /init of the agent VM test: binds the ivshmem device to vfio-pci, serves it with ismkit-agent on a
# virtio-serial port until the host says QUIT, then runs the in-guest C loop and powers off.
# Console lines starting with "RESULT " are what the host checks; files go out on ttyS1.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
COUNT=$(sed -n 's/.*agent\.count=\([0-9]*\).*/\1/p' /proc/cmdline)
ROUNDS=$(sed -n 's/.*agent\.rounds=\([0-9]*\).*/\1/p' /proc/cmdline)
for m in irqbypass vfio vfio_virqfd; do [ -f /mod/$m.ko ] && insmod /mod/$m.ko; done
insmod /mod/vfio_iommu_type1.ko allow_unsafe_interrupts=1
insmod /mod/vfio-pci-core.ko
insmod /mod/vfio-pci.ko
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_console; do
  [ -f /mod/$m.ko ] && insmod /mod/$m.ko
done
D=""
for d in /sys/bus/pci/devices/*; do
  if [ "$(cat $d/vendor)" = 0x1af4 ] && [ "$(cat $d/device)" = 0x1110 ]; then D=$(basename $d); fi
done
echo "RESULT device $D"
stty -F /dev/ttyS1 raw -echo 2>/dev/null
send() { { echo "=== BEGIN $1"; cat "$2"; echo; echo "=== END $1"; } > /dev/ttyS1; }

# Pre-flight on the real sysfs before binding: bound to no driver.
/ismkit-agent $D > /tmp/pre1 2>&1; echo "RESULT preflight-unbound rc=$? $(cat /tmp/pre1)"

echo vfio-pci > /sys/bus/pci/devices/$D/driver_override
echo $D > /sys/bus/pci/drivers_probe
echo "RESULT bound $(basename $(readlink /sys/bus/pci/devices/$D/driver))"
su nobody -s /bin/sh -c "/ismkit-agent $D" > /tmp/pre2 2>&1 < /dev/null; echo "RESULT preflight-permission rc=$? $(cat /tmp/pre2)"

# /dev/virtio-ports/NAME, as udev would make it.
mkdir -p /dev/virtio-ports
for i in 1 2 3 4 5 6 7 8 9 10; do
  for p in /sys/class/virtio-ports/*; do
    [ -f "$p/name" ] && [ "$(cat $p/name)" = ismkit ] && ln -sf /dev/$(basename $p) /dev/virtio-ports/ismkit
  done
  [ -e /dev/virtio-ports/ismkit ] && break
  sleep 1
done
echo "RESULT port $(readlink /dev/virtio-ports/ismkit)"

/ismkit-agent --port /dev/virtio-ports/ismkit --allow-write 2:0x0-0xfff --journal /tmp/journal $D > /tmp/agent.out 2>&1 &
P=$!
# While the agent holds the group, a second one must find it busy (the host waits for this line).
for i in $(seq 1 100); do
  ls -l /proc/$P/fd 2>/dev/null | grep -q '/dev/vfio/[0-9]' && break
  sleep 0.1 2>/dev/null || sleep 1
done
/ismkit-agent $D > /tmp/pre3 2>&1 < /dev/null; echo "RESULT preflight-busy rc=$? $(cat /tmp/pre3)"
wait $P; rc=$?
echo "RESULT agent rc=$rc $(head -c 300 /tmp/agent.out)"
send journal /tmp/journal

# The agent without the transport: the burst from a file on stdin, answers to a file.
t0=$(cut -d' ' -f1 /proc/uptime)
/ismkit-agent $D < /burst.txt > /tmp/answers 2>/tmp/answers.err; rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
echo "RESULT agent-file rc=$rc lines=$(wc -l < /tmp/answers) ok=$(grep -c '^OK ' /tmp/answers) seconds=$t0-$t1 $(head -c 200 /tmp/answers.err)"

t0=$(cut -d' ' -f1 /proc/uptime)
/ismkit-agent $D < /burst.bin > /tmp/canswers 2>/tmp/canswers.err; rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
echo "RESULT agent-compact-file rc=$rc bytes=$(wc -c < /tmp/canswers) seconds=$t0-$t1 $(head -c 200 /tmp/canswers.err)"

# The benchmark rounds: the C loop, then a read-only agent the host drives with the same preads (its
# compact burst), alternately, ending with the C loop: each agent round has a loop round on both sides.
# With /ismkit-agent-baseline (AGENT_VM_BASELINE) each round runs it too, after the agent under test.
AGENTS=/ismkit-agent
[ -x /ismkit-agent-baseline ] && AGENTS="/ismkit-agent /ismkit-agent-baseline"
r=0; k=0
/bench-loop $D ${COUNT:-20000} > /tmp/bench 2>&1; echo "RESULT loop-$k rc=$? $(cat /tmp/bench)"
while [ "$r" -lt "${ROUNDS:-0}" ]; do
  r=$((r + 1))
  for A in $AGENTS; do
    k=$((k + 1))
    echo "RESULT bench-start $k $A"
    $A --port /dev/virtio-ports/ismkit $D > /tmp/bench-agent 2>&1; echo "RESULT bench-agent-$k rc=$? $(head -c 200 /tmp/bench-agent)"
    /bench-loop $D ${COUNT:-20000} > /tmp/bench 2>&1; echo "RESULT loop-$k rc=$? $(cat /tmp/bench)"
  done
done
echo "=== DONE" > /dev/ttyS1
echo "RESULT done"
poweroff -f
