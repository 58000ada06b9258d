#!/usr/bin/env python3
"""Judges the boots of the s390x VM job and prints the KTAP summary.

usage: check-results.py RUN_DIR MAC MODE...

Per mode it reads RUN_DIR/MODE/console.txt (the guest console: RESULT lines, the probe's KTAP
between "=== BEGIN probe"/"=== END probe", dmesg), RUN_DIR/MODE/qmp.txt (QEMU's `info network`
after the guest powered off) and, for ism modes, RUN_DIR/MODE/qemu-trace.log (QEMU's
memory_region_ops_write trace). Prints one KTAP subtest per mode: the host's own checks plus
every check of the in-guest probe. A probe line "not ok ... # TODO why" is a known, explained
difference: listed, not counted as a failure. A mode whose guest did not print its lines fails
(nothing is skipped silently). Writes "PASS FAIL TODO" to RUN_DIR/counts.
"""
import os
import re
import sys

run, mac, modes = sys.argv[1], sys.argv[2].lower(), sys.argv[3:]
REV = {"merged": "merged", "v3": "v3", "v4": "v4", "v3-probe": "v3-probe"}
# The 16-byte pattern the probe stores at the MAC with one store block, and what the MAC reads
# as if the store is byte-exact or if each 8-byte word arrives byte-reversed.
STB_PATTERN = "0a 1b 2c 3d 4e 5f 60 71".split()
MAC_EXACT = ":".join(STB_PATTERN[:6])
MAC_REVERSED = ":".join(list(reversed(STB_PATTERN))[:6])
MAC_PCISTG = "0a:1b:2c:3d:4e:5f"

total_pass = total_fail = 0
todos = []
timings = []
observations = []


def block(text, name):
    m = re.search(r"^=== BEGIN %s\n(.*?)^=== END %s$" % (re.escape(name), re.escape(name)), text, re.S | re.M)
    return m.group(1) if m else None


def result(text, key):
    m = re.search(r"^RESULT %s(?: (.*))?$" % re.escape(key), text, re.M)
    return None if m is None else (m.group(1) or "")


class Sub:
    def __init__(self, name):
        self.name, self.lines, self.n, self.failed = name, [], 0, 0

    def check(self, cond, desc, todo=None):
        global total_pass, total_fail
        self.n += 1
        if cond:
            total_pass += 1
            self.lines.append(f"ok {self.n} - {desc}")
        elif todo:
            todos.append(f"{self.name}: {desc} -- {todo}")
            self.lines.append(f"not ok {self.n} - {desc} # TODO {todo}")
        else:
            total_fail += 1
            self.failed += 1
            self.lines.append(f"not ok {self.n} - {desc}")
        return cond

    def note(self, text):
        self.lines.append(f"# {text}")


def probe_checks(sub, text, name="probe"):
    """Adds the probe's KTAP checks to sub; returns the probe text (or None)."""
    p = block(text, name)
    rc = result(text, name)
    if not sub.check(p is not None, f"{name}: zpci-probe printed its KTAP ({name} {rc})"):
        return None
    tests = re.findall(r"^(ok|not ok) (\d+) - (.*)$", p, re.M)
    plan = re.search(r"^1\.\.(\d+)$", p, re.M)
    sub.check(plan is not None and int(plan.group(1)) == len(tests) and len(tests) > 0,
              f"{name}: KTAP plan present and matches ({len(tests)} results, plan {plan.group(1) if plan else 'missing'})")
    for status, num, desc in tests:
        todo = None
        m = re.match(r"(.*) # TODO (.*)$", desc)
        if m:
            desc, todo = m.group(1), m.group(2)
        sub.check(status == "ok", f"{name} {num}: {desc}", todo=todo)
    for line in re.findall(r"^# timing (.*)$", p, re.M):
        timings.append(f"{sub.name}: {line}")
    return p


def observe(p, key):
    m = re.search(r"^# observe %s (.*)$" % re.escape(key), p or "", re.M)
    return m.group(1).strip() if m else None


def monitor_mac(mode):
    try:
        q = open(os.path.join(run, mode, "qmp.txt")).read()
    except OSError:
        return None
    m = re.search(r"macaddr=([0-9a-f:]{17})", q)
    return m.group(1) if m else None


def trace_first_block(mode, p):
    """Device-side bytes of the probe's first 16-byte MSI-X store block, from QEMU's trace."""
    m = re.search(r"^# wrote \[([0-9a-f ]+)\] read back with 8-byte loads \[([0-9a-f ]+)\]$", p or "", re.M)
    path = os.path.join(run, mode, "qemu-trace.log")
    if not m or not os.path.exists(path):
        return None
    wrote, readback = m.group(1).split(), m.group(2).split()
    dev = {}
    for line in open(path, errors="replace"):
        t = re.search(r"memory_region_ops_write .*addr (0x[0-9a-f]+) value (0x[0-9a-f]+) size (\d+) name 'msix-table'", line)
        if not t:
            continue
        addr, val, size = int(t.group(1), 16), int(t.group(2), 16), int(t.group(3))
        if addr >= 16 or addr in dev:
            if len(dev) >= 16:
                break
            continue
        for i in range(size):  # the MSI-X table is a little-endian device
            dev[addr + i] = f"{(val >> (8 * i)) & 0xff:02x}"
        if len(dev) >= 16:
            break
    if len(dev) < 16:
        return None
    return wrote, readback, [dev[i] for i in range(16)]


print("KTAP version 1")
print(f"1..{len(modes)}")
for idx, mode in enumerate(modes, 1):
    sub = Sub(mode)
    path = os.path.join(run, mode, "console.txt")
    text = open(path, errors="replace").read() if os.path.exists(path) else ""
    sub.check(result(text, "done") is not None, "guest ran to the end (RESULT done)")
    m = result(text, "mode")
    sub.check(m is not None and "machine s390x" in m and " 6.1." in m, f"guest is s390x Linux 6.1 ({m})")
    for mod in ["irqbypass", "vfio", "vfio_virqfd", "vfio_iommu_type1", "vfio-pci-core", "vfio-pci"]:
        r = result(text, f"insmod-{mod}")
        sub.check(r is not None and r.startswith("rc=0"), f"insmod {mod}.ko (built from linux-source-6.1 + backport) ({r})")
    dev = result(text, "device")
    sub.check(dev == "0001:00:00.0", f"zPCI function found at 0001:00:00.0 (got {dev})")

    if mode == "generic":
        b = result(text, "bind-1")
        sub.check(b is not None and "driver=vfio-pci" in b, f"bound to vfio-pci with driver_override ({b})")
        p = probe_checks(sub, text)
        u = result(text, "unbind-1")
        sub.check(u is not None and "driver=none" in u, f"unbind from vfio-pci ({u})")
        got = observe(p, "mac-after-pcistg")
        mon = monitor_mac(mode)
        sub.check(mon is not None and mon == got == MAC_PCISTG,
                  f"PCI Store (4+2-byte writes) is byte-exact: guest reads {got}, QEMU monitor reports {mon}, written {MAC_PCISTG}")
        observations.append(f"generic: MAC after PCI stores: guest {got}, QEMU monitor {mon} (written {MAC_PCISTG})")
    else:
        r = result(text, "insmod-ism")
        sub.check(r is not None and r.startswith("rc=0"), f"insmod ism-vfio-pci.ko built from unmodified {REV[mode]}/main.c ({r})")
        b1 = result(text, "bind-1")
        sub.check(b1 is not None and "driver=ism_vfio_pci" in b1, f"bound to ism_vfio_pci with driver_override ({b1})")
        if mode == "v3-probe":
            u1, b2 = result(text, "unbind-1"), result(text, "bind-2")
            sub.check(b1 is not None and "store_block_cache" in b1, "probe creates the global pool 'store_block_cache'")
            sub.check(u1 is not None and "driver=none" in u1 and "store_block_cache" in u1,
                      f"the pool survives unbind: never destroyed (R-LIFE-1, as SPEC predicts for v3-probe) ({u1})")
            sub.check(b2 is not None and "driver=ism_vfio_pci" in b2, f"second bind (a new pool replaces the global pointer) ({b2})")
            probe_checks(sub, text, "probe")
            w = result(text, "write")
            bug = re.search(r"usercopy: Kernel memory overwrite attempt detected to SLUB object '([^']+)'", text)
            sub.check(w is not None and not w.startswith("rc=0") and bug is not None,
                      "driver finding: a write through v3-probe's pool (5-argument kmem_cache_create, no usercopy "
                      f"whitelist) hits the hardened-usercopy BUG; the pool was merged into slab "
                      f"'{bug.group(1) if bug else '?'}' (write {w})")
            observations.append(f"v3-probe: write -> {w}; dmesg: {bug.group(0) if bug else 'no usercopy report'}")
        else:
            sub.check(b1 is not None and "ism_sb_fid_00000001" in b1,
                      "init_dev created this device's own pool ism_sb_fid_00000001 (R-LIFE-1)")
            b2, u2 = result(text, "bind-second"), result(text, "unbind-second")
            sub.check(b2 is not None and "driver=ism_vfio_pci" in b2 and "ism_sb_fid_00000001" in b2
                      and "ism_sb_fid_00000002" in b2,
                      f"two devices bound at once own two pools (R-LIFE-1) ({b2})")
            sub.check(u2 is not None and "driver=none" in u2 and "ism_sb_fid_00000001" in u2
                      and "ism_sb_fid_00000002" not in u2,
                      f"unbinding the second device destroys only its pool (R-LIFE-1) ({u2})")
            p = probe_checks(sub, text)
            got = observe(p, "mac-after-store-block")
            got = got.split()[0] if got else None
            mon = monitor_mac(mode)
            sub.check(mon is not None and got == mon,
                      f"QEMU monitor (host side) reports the MAC the guest read back after the store block ({got} vs {mon})")
            order = ("byte-exact" if mon == MAC_EXACT else "each 8-byte word byte-reversed" if mon == MAC_REVERSED
                     else "neither")
            sub.check(order != "neither", f"store-block byte order seen by the host: {order} (wrote {' '.join(STB_PATTERN)} ...)")
            observations.append(f"{mode}: MAC after a 16-byte store block of {' '.join(STB_PATTERN)} ...: guest {got}, "
                                f"QEMU monitor {mon} -> {order}")
            tb = trace_first_block(mode, p)
            if sub.check(tb is not None, "QEMU trace holds the first 16-byte MSI-X store block"):
                wrote, readback, devb = tb
                sub.check(devb == readback,
                          "QEMU trace (device side) shows the bytes the guest read back: [%s]" % " ".join(devb))
                observations.append(f"{mode}: first MSI-X store block: wrote [{' '.join(wrote)}], device got (QEMU trace) "
                                    f"[{' '.join(devb)}], guest 8-byte loads [{' '.join(readback)}]")
        uf = result(text, "unbind-final")
        sub.check(uf is not None and "driver=none" in uf, f"final unbind ({uf})")
        if mode != "v3-probe":
            sub.check(uf is not None and "ism_sb_fid" not in uf, "release_dev destroyed the pool (R-LIFE-1)")
        rm = result(text, "rmmod")
        sub.check(rm is not None and rm.startswith("rc=0"), f"rmmod ism_vfio_pci ({rm})")
        if mode == "v3-probe":
            sub.check(rm is not None and "store_block_cache" in rm, "the pool outlives the module (leaked, R-LIFE-1)")
    print("    KTAP version 1")
    print(f"    # Subtest: {mode}")
    print(f"    1..{sub.n}")
    for line in sub.lines:
        print("    " + line)
    print(f"{'ok' if sub.failed == 0 else 'not ok'} {idx} - {mode}")

print("# --- known differences (not ok # TODO: explained, not counted as failures)")
seen = {}
for t in todos:
    key = re.sub(r"^[^:]+: ", "", t)
    key = re.sub(r"\d+", "N", key.split(" -- ")[1])
    seen.setdefault(key, []).append(t)
for key, items in seen.items():
    print(f"# {len(items)} x {items[0].split(' -- ')[1]}")
    for it in items[:3]:
        print(f"#     e.g. {it.split(' -- ')[0]}")
print("# --- observations")
for o in observations:
    print(f"# {o}")
print("# --- timings (guest CLOCK_MONOTONIC under TCG)")
for t in timings:
    print(f"# {t}")
open(os.path.join(run, "counts"), "w").write(f"{total_pass} {total_fail} {len(todos)}\n")
