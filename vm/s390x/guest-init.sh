#!/bin/busybox sh
# /init of the s390x VM job (vm/s390x/vm-test-s390x.sh). Kernel command line:
#   ismkit.mode=generic|merged|v3|v4|v3-probe   which driver to bind the zPCI function to
#   ismkit.mac=XX:XX:XX:XX:XX:XX                the MAC the host gave the virtio-net-pci device
#   ismkit.agent=1                              after the probe, serve the device with /ismkit-agent
#                                               on the virtio-serial port "ismkit" (the host's
#                                               drive-agent.py), then, with ismkit.hw=1, on "ismkit-hw"
#                                               (the host's `ismkit hw --connect`)
#   ismkit.agent=hw                             (v3, v4) only the "ismkit-hw" session, no baselines
#   ismkit.repro=1                              after the probe, before the agent opens the device,
#                                               run every /repro/<name> (C programs emitted by
#                                               `ismkit repro --emit-c`) on the device
#   ismkit.allow=R:S-E,R:S-E                    the agent's --allow-write ranges
#   ismkit.count=N                              preads of the in-guest baselines (bench-loop and
#                                               the agent fed from /burst-<shift>.txt)
# Loads the vfio modules built from the 6.1 source (plus, for an ism mode, that revision's
# ism-vfio-pci.ko), binds the function with driver_override + drivers_probe, runs
# /zpci-probe and prints, on the console: "RESULT <name> ..." lines, the probe's KTAP between
# "=== BEGIN probe" and "=== END probe", dmesg between "=== BEGIN dmesg"/"=== END dmesg", then
# "RESULT done" and powers off. Agent sessions print "RESULT agent-<tag> ...", "RESULT
# journal-<tag> ..." and the drive session's journal between "=== BEGIN journal-drive"/"=== END".
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo 1 > /proc/sys/kernel/printk
MODE=$(sed -n 's/.*ismkit\.mode=\([a-z0-9-]*\).*/\1/p' /proc/cmdline)
MAC=$(sed -n 's/.*ismkit\.mac=\([0-9a-f:]*\).*/\1/p' /proc/cmdline)
AGENT=$(sed -n 's/.*ismkit\.agent=\([01hw]*\).*/\1/p' /proc/cmdline)
REPRO=$(sed -n 's/.*ismkit\.repro=\([01]\).*/\1/p' /proc/cmdline)
HW=$(sed -n 's/.*ismkit\.hw=\([01]\).*/\1/p' /proc/cmdline)
COUNT=$(sed -n 's/.*ismkit\.count=\([0-9]*\).*/\1/p' /proc/cmdline)
ALLOW=$(sed -n 's/.*ismkit\.allow=\([0-9a-zx:,-]*\).*/\1/p' /proc/cmdline)
echo "RESULT mode $MODE kernel $(uname -r) machine $(uname -m)"

for m in irqbypass vfio vfio_virqfd vfio_iommu_type1 vfio-pci-core vfio-pci; do
  insmod /mod/$m.ko > /tmp/insmod 2>&1
  echo "RESULT insmod-$m rc=$? $(cat /tmp/insmod)"
done

# The function under test is 0001:00:00.0 (zPCI uid 1); 0002:00:00.0 (uid 2) is a second one
# for the pool-per-device check. Fall back to the first virtio function found.
D=""; D2=""
[ -e /sys/bus/pci/devices/0001:00:00.0 ] && D=0001:00:00.0
[ -e /sys/bus/pci/devices/0002:00:00.0 ] && D2=0002:00:00.0
if [ -z "$D" ]; then
  for d in /sys/bus/pci/devices/*; do
    [ -e "$d/vendor" ] && [ "$(cat $d/vendor)" = 0x1af4 ] && [ -z "$D" ] && D=$(basename $d)
  done
fi
echo "RESULT device $D"
echo "RESULT second-device $D2"

slabs() { ls /sys/kernel/slab 2>/dev/null | grep -E '^(ism_sb_fid|store_block_cache)' | tr '\n' ' '; }
drv_of() { [ -e /sys/bus/pci/devices/$1/driver ] && basename "$(readlink /sys/bus/pci/devices/$1/driver)" || echo none; }
bind() {  # $1 = driver name, $2 = tag, $3 = device (default $D)
  dev=${3:-$D}
  echo "$1" > /sys/bus/pci/devices/$dev/driver_override
  echo "$dev" > /sys/bus/pci/drivers_probe 2>/tmp/bind
  echo "RESULT bind-$2 driver=$(drv_of $dev) slabs=[$(slabs)] $(cat /tmp/bind)"
}
unbind() {  # $1 = tag, $2 = device (default $D)
  dev=${2:-$D}
  echo "$dev" > /sys/bus/pci/devices/$dev/driver/unbind 2>/tmp/unbind
  echo "RESULT unbind-$1 driver=$(drv_of $dev) slabs=[$(slabs)] $(cat /tmp/unbind)"
}
# ismkit-agent on a virtio-serial port. The agent writes its greeting first, and a write on a
# virtio port blocks until the host end is connected, so the agent may start before the host
# connects. Each session has its own port (a reconnect to the same port could race the
# host's close). A watchdog ends a session whose host never comes.
ports() {
  insmod /mod/virtio_console.ko > /tmp/insmod 2>&1
  echo "RESULT insmod-virtio_console rc=$? $(cat /tmp/insmod)"
  mkdir -p /dev/virtio-ports
  for i in 1 2 3 4 5 6 7 8 9 10; do
    for p in /sys/class/virtio-ports/*; do
      [ -f "$p/name" ] && ln -sf /dev/$(basename $p) /dev/virtio-ports/$(cat $p/name)
    done
    [ -e /dev/virtio-ports/ismkit-hw ] && { [ "$AGENT" = hw ] || [ -e /dev/virtio-ports/ismkit ]; } && break
    sleep 1
  done
  echo "RESULT ports $(ls /dev/virtio-ports | tr '\n' ' ')"
}
agent_session() {  # $1 = tag, $2 = port name, $3 = watchdog seconds
  aw=""
  for r in $(echo "$ALLOW" | tr ',' ' '); do aw="$aw --allow-write $r"; done
  rm -f /tmp/j-$1
  t0=$(cut -d' ' -f1 /proc/uptime)
  /ismkit-agent --port /dev/virtio-ports/$2 $aw --journal /tmp/j-$1 "$D" > /tmp/agent-$1.out 2>&1 &
  ap=$!
  ( sleep $3; kill -TERM $ap 2>/dev/null; sleep 3; kill -KILL $ap 2>/dev/null ) &
  wd=$!
  wait $ap
  arc=$?
  kill $wd 2>/dev/null
  echo "RESULT agent-$1 rc=$arc seconds=$t0-$(cut -d' ' -f1 /proc/uptime) allow=[$aw ] $(head -c 300 /tmp/agent-$1.out)"
  if [ -f /tmp/j-$1 ]; then
    echo "RESULT journal-$1 lines=$(wc -l < /tmp/j-$1) sha256=$(sha256sum < /tmp/j-$1 | cut -c1-64) last=$(tail -n 1 /tmp/j-$1)"
  else
    echo "RESULT journal-$1 missing"
  fi
}
# One request list to a read-only (or $2-limited) agent on stdin/stdout: prints the answers.
agent_local() {  # $1 = requests (\n-separated), $2 = allow-write range or ""
  if [ -n "$2" ]; then printf "$1" | /ismkit-agent --allow-write "$2" "$D" 2>&1
  else printf "$1" | /ismkit-agent "$D" 2>&1; fi | tr '\n' '|'
}
agents() {  # $1 = kernel offset of BAR4 + 0x2000 (the MAC), in decimal, $2 = region shift
  ports
  agent_session drive ismkit 150
  echo "=== BEGIN journal-drive"; cat /tmp/j-drive 2>/dev/null; echo "=== END journal-drive"
  if [ "$HW" = 1 ]; then
    agent_session hw ismkit-hw 200
  else
    echo "RESULT agent-hw skipped (the host has no ismkit hw --connect)"
  fi
  echo "RESULT mac-after-agents $(agent_local "PREAD $1 6 - -\nQUIT\n" "")"
  # Baselines in this guest for the host's pipelined burst (the same preads of BAR4): the agent
  # without the transport (requests from a file), and a plain C loop.
  t0=$(cut -d' ' -f1 /proc/uptime)
  /ismkit-agent "$D" < /burst-$2.txt > /tmp/answers 2> /tmp/answers.err; rc=$?
  echo "RESULT agent-file rc=$rc lines=$(wc -l < /tmp/answers) ok=$(grep -c '^OK ' /tmp/answers) seconds=$t0-$(cut -d' ' -f1 /proc/uptime) $(head -c 200 /tmp/answers.err)"
  /bench-loop "$D" "${COUNT:-5000}" 4 > /tmp/bench 2>&1; echo "RESULT bench rc=$? $(cat /tmp/bench)"
}

# The C reproducers (ismkit repro --emit-c, static s390x): KTAP on stdout, exit 0/1/2.
repros() {
  for r in /repro/*; do
    [ -x "$r" ] || continue
    n=$(basename $r)
    timeout 60 $r "$D" > /tmp/repro-$n 2>&1
    echo "RESULT repro-$n rc=$?"
    echo "=== BEGIN repro-$n"; cat /tmp/repro-$n; echo "=== END repro-$n"
  done
}

probe() {  # $1 = block name, $2... = zpci-probe options
  name=$1; shift
  t0=$(cut -d' ' -f1 /proc/uptime)
  timeout 240 /zpci-probe --mac "$MAC" "$@" "$D" > /tmp/$name 2>&1
  rc=$?
  echo "RESULT $name rc=$rc seconds=$t0-$(cut -d' ' -f1 /proc/uptime)"
  echo "=== BEGIN $name"; cat /tmp/$name; echo "=== END $name"
}

if [ -z "$D" ]; then
  echo "RESULT error no virtio PCI function found"
elif [ "$MODE" = generic ]; then
  bind vfio-pci 1
  probe probe --profile vfio-pci
  if [ "$AGENT" = 1 ]; then
    agents 4398046519296 40  # 4 << 40 | 0x2000
    # Leave the MAC the probe left (PCI stores of 4 + 2 bytes) for the host's QEMU monitor check.
    echo "RESULT mac-restore $(agent_local "PWRITE 4398046519296 - 0a1b2c3d\nPWRITE 4398046519300 - 4e5f\nPREAD 4398046519296 6 - -\nQUIT\n" 4:0x2000-0x2005)"
  fi
  unbind 1
else
  insmod /mod/$MODE/ism-vfio-pci.ko > /tmp/insmod 2>&1
  echo "RESULT insmod-ism rc=$? $(cat /tmp/insmod)"
  case $MODE in
    merged) profile=ism ;;
    v3) profile=ism-v3 ;;
    v4) profile=ism-v4 ;;
    *) profile=ism ;;
  esac
  bind ism_vfio_pci 1
  if [ "$MODE" = v3-probe ]; then
    # v3's probe: one global pool, created in every probe and never destroyed.
    # Bind/unbind twice, read-only checks, then one write as the last experiment
    # (its pool has no usercopy whitelist).
    unbind 1
    bind ism_vfio_pci 2
    probe probe --profile ism --no-writes
    probe write --profile ism --single-write
  else
    if [ -n "$D2" ]; then
      # Two devices bound at once: each must own its pool (R-LIFE-1).
      bind ism_vfio_pci second "$D2"
      unbind second "$D2"
    fi
    probe probe --profile $profile
    [ "$REPRO" = 1 ] && repros
    if [ "$AGENT" = hw ]; then
      ports
      agent_session hw ismkit-hw 200
    fi
    # The agent's list at the MAC is 6 bytes: the strict emulated PCISTB refuses every store
    # block of 8 bytes or less, so the sessions cannot change the MAC the monitor check reads.
    [ "$AGENT" = 1 ] && agents 1125899906850816 48  # 4 << 48 | 0x2000
  fi
  unbind final
  rmmod ism_vfio_pci > /tmp/rmmod 2>&1
  echo "RESULT rmmod rc=$? slabs=[$(slabs)] $(cat /tmp/rmmod)"
fi
echo "=== BEGIN dmesg"; dmesg | tail -n 80; echo "=== END dmesg"
echo "RESULT done"
sleep 2
poweroff -f
