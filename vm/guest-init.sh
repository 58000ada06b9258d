#!/bin/busybox sh
# /init of the vm-test guest: loads the VFIO modules, binds the ivshmem device to vfio-pci,
# runs the checks the host asked for (kernel command line ismkit.mode=hw|repro|agent) and powers off.
# In agent mode the host drives: ismkit-agent serves the device on a virtio-serial port, once per
# host run, and the host runs `ismkit hw --connect` against it.
# Console lines starting with "RESULT " are what the host checks; files go out on ttyS1.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
MODE=$(sed -n 's/.*ismkit\.mode=\([a-z]*\).*/\1/p' /proc/cmdline)
SECONDS_RUN=$(sed -n 's/.*ismkit\.seconds=\([0-9]*\).*/\1/p' /proc/cmdline)
for m in irqbypass vfio vfio_virqfd; do [ -f /mod/$m.ko ] && insmod /mod/$m.ko; done
insmod /mod/vfio_iommu_type1.ko allow_unsafe_interrupts=1
insmod /mod/vfio-pci-core.ko
insmod /mod/vfio-pci.ko
D=""
for d in /sys/bus/pci/devices/*; do
  if [ "$(cat $d/vendor)" = 0x1af4 ] && [ "$(cat $d/device)" = 0x1110 ]; then D=$(basename $d); fi
done
echo "RESULT device $D"
stty -F /dev/ttyS1 raw -echo 2>/dev/null
send() { { echo "=== BEGIN $1"; cat "$2"; echo; echo "=== END $1"; } > /dev/ttyS1; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

bind() {
  echo vfio-pci > /sys/bus/pci/devices/$D/driver_override
  echo $D > /sys/bus/pci/drivers_probe
  echo "RESULT bound $(basename $(readlink /sys/bus/pci/devices/$D/driver))"
}

if [ "$MODE" = hw ]; then
  # Pre-flight before binding: the device is bound to no driver.
  /ismkit hw --device $D > /tmp/pre1 2>&1; echo "RESULT preflight-unbound rc=$? $(cat /tmp/pre1)"
  /ismkit hw --device 0000:00:1e.7 > /tmp/pre2 2>&1; echo "RESULT preflight-missing rc=$? $(cat /tmp/pre2)"
  bind
  su nobody -s /bin/sh -c "cd /tmp && /ismkit hw --device $D --operations 10" > /tmp/pre3 2>&1; echo "RESULT preflight-permission rc=$? $(cat /tmp/pre3)"
  /ismkit hw --device $D --dry-run --operations 20 --allow-write 2:0x0-0xfff > /tmp/dry 2>&1; echo "RESULT dry-run rc=$?"
  send dry.txt /tmp/dry

  # Run 1: generic vfio-pci profile, writes allowed on all of BAR2, in the background so that
  # a second ismkit can find the group busy.
  t0=$(uptime_s)
  /ismkit hw --device $D --profile vfio-pci --allow-write 2:0x0-0xfffff --seconds ${SECONDS_RUN:-8} --seed 1 \
    --journal /tmp/j1 --report /tmp/r1.json --output /tmp/repro1 --quiet > /tmp/o1 2>&1 &
  P1=$!
  # Wait until run 1 holds the group open, then a second ismkit must find it busy.
  for i in 1 2 3 4 5 6 7 8 9 10; do
    ls -l /proc/$P1/fd 2>/dev/null | grep -q '/dev/vfio/[0-9]' && break
    sleep 1
  done
  /ismkit hw --device $D --operations 10 > /tmp/pre4 2>&1; echo "RESULT preflight-busy rc=$? $(cat /tmp/pre4)"
  wait $P1; rc=$?
  echo "RESULT run1 rc=$rc seconds=$t0-$(uptime_s)"
  send run1.txt /tmp/o1; send j1 /tmp/j1; send r1.json /tmp/r1.json

  # Run 2: the ism profile forced on a generic vfio-pci device: must be non-conforming, not crash.
  /ismkit hw --device $D --profile ism --allow-write 2:0x0-0xfffff --operations 1500 --seed 2 \
    --journal /tmp/j2 --report /tmp/r2.json --output /tmp/repro2 --quiet > /tmp/o2 2>&1
  echo "RESULT run2 rc=$?"
  send run2.txt /tmp/o2; send j2 /tmp/j2; send r2.json /tmp/r2.json
  for f in /tmp/repro2/*.json; do [ -f "$f" ] && send "repro2/$(basename $f)" "$f"; done

  # Run 3: fixed operations with writes outside the allow-list: refused before the kernel.
  /ismkit hw --device $D --profile vfio-pci --allow-write 2:0x0-0xfff --operations-file /outside-allow-list.json \
    --journal /tmp/j3 --report /tmp/r3.json --output /tmp/repro3 --quiet > /tmp/o3 2>&1
  echo "RESULT run3 rc=$?"
  send run3.txt /tmp/o3; send j3 /tmp/j3; send r3.json /tmp/r3.json

  # Run 4: no --allow-write: read-only, so the journal must stay empty.
  /ismkit hw --device $D --operations 400 --seed 4 --journal /tmp/j4 --report /tmp/r4.json --output /tmp/repro4 --quiet > /tmp/o4 2>&1
  echo "RESULT run4 rc=$?"
  send run4.txt /tmp/o4; send j4 /tmp/j4
elif [ "$MODE" = agent ]; then
  for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_console; do
    [ -f /mod/$m.ko ] && insmod /mod/$m.ko
  done
  bind
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
  # One agent session per host run (the host waits for "agent-start NAME", then connects; the
  # agent's greeting waits for the host end of the port). Each agent has its own allow-list.
  serve() {  # $1 = name, $2... = the agent's options
    n=$1; shift
    # The host end of the last session must be seen gone first: an agent that starts while the
    # port still counts as connected would greet nobody and read end of input when it goes.
    sleep 1
    echo "RESULT agent-start $n"
    /ismkit-agent --port /dev/virtio-ports/ismkit --journal /tmp/aj-$n "$@" $D > /tmp/agent-$n.out 2>&1
    echo "RESULT agent-$n rc=$? $(head -c 300 /tmp/agent-$n.out)"
    send aj-$n /tmp/aj-$n
  }
  serve refuse --allow-write 2:0x0-0xfff
  serve guard --allow-write 2:0x0-0xfff
  serve run --allow-write 2:0x0-0xfffff
  # bench: read-only.
  serve bench
elif [ "$MODE" = repro ]; then
  bind
  E=""
  for d in /sys/bus/pci/devices/*; do
    if [ "$(cat $d/vendor)" = 0x1234 ] && [ "$(cat $d/device)" = 0x11e8 ]; then E=$(basename $d); fi
  done
  echo vfio-pci > /sys/bus/pci/devices/$E/driver_override
  echo $E > /sys/bus/pci/drivers_probe
  /widths $E > /tmp/w 2>&1; echo "RESULT widths rc=$?"
  send widths.ktap /tmp/w
  /repro $D > /tmp/k 2>&1; echo "RESULT repro rc=$?"
  send repro.ktap /tmp/k
fi
echo "=== DONE" > /dev/ttyS1
echo "RESULT done"
poweroff -f
