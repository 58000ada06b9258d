#!/bin/busybox sh
# /init of the s390x VM job (vm/s390x/vm-test-s390x.sh). Kernel command line:
#   ismkit.mode=generic|merged|v3|v4|v3-probe   which driver to bind the zPCI function to
#   ismkit.mac=XX:XX:XX:XX:XX:XX                the MAC the host gave the virtio-net-pci device
# Loads the vfio modules built from the 6.1 source (plus, for an ism mode, that revision's
# ism-vfio-pci.ko), binds the function with driver_override + drivers_probe, runs
# /zpci-probe and prints, on the console: "RESULT <name> ..." lines, the probe's KTAP between
# "=== BEGIN probe" and "=== END probe", dmesg between "=== BEGIN dmesg"/"=== END dmesg", then
# "RESULT done" and powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo 1 > /proc/sys/kernel/printk
MODE=$(sed -n 's/.*ismkit\.mode=\([a-z0-9-]*\).*/\1/p' /proc/cmdline)
MAC=$(sed -n 's/.*ismkit\.mac=\([0-9a-f:]*\).*/\1/p' /proc/cmdline)
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
  fi
  unbind final
  rmmod ism_vfio_pci > /tmp/rmmod 2>&1
  echo "RESULT rmmod rc=$? slabs=[$(slabs)] $(cat /tmp/rmmod)"
fi
echo "=== BEGIN dmesg"; dmesg | tail -n 80; echo "=== END dmesg"
echo "RESULT done"
sleep 2
poweroff -f
