#!/usr/bin/env python3
"""Judges the boots of the s390x VM job and prints the KTAP summary.

usage: check-results.py RUN_DIR MAC MODE...

Per mode it reads RUN_DIR/MODE/console.txt (the guest console: RESULT lines, the probe's KTAP
between "=== BEGIN probe"/"=== END probe", dmesg), RUN_DIR/MODE/qmp.txt (QEMU's `info network`
after the guest powered off) and, for ism modes, RUN_DIR/MODE/qemu-trace.log (QEMU's
memory_region_ops_write trace). Prints one KTAP subtest per mode: the host's own checks plus
every check of the in-guest probe. A probe line "not ok ... # TODO why" is a known, explained
difference: listed, not counted as a failure. A mode whose guest did not print its lines fails
(nothing is skipped silently). Writes "PASS FAIL TODO SKIP" to RUN_DIR/counts.

The generic and merged boots also serve the device with ismkit-agent: RUN_DIR/MODE/drive.txt
(drive-agent.py's checks, taken over as they are), drive.json, and the optional `ismkit hw
--connect` run (hw.json, hw.rc, hw.journal; or hw.skip with the reason it did not run: one
"# SKIP" line, counted neither passed nor failed). Each difference `ismkit hw` reports is
classified (CLASSIFY below) as a finding about the driver, the emulator or the SPEC and listed
as "# TODO"; a difference no entry explains fails. The v3 and v4 boots run only the `ismkit hw`
session: their report must hold the revision's own bug and no (rule, aspect) that merged's
report lacks besides it. The merged, v3 and v4 guests run the C reproducers (RUN_DIR/repro/,
"RESULT repro-NAME rc=N" and their KTAP); REPRO_EXPECT holds the exit codes they must give.
"""
import hashlib
import json
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

total_pass = total_fail = total_skip = 0
todos = []
agent_notes = []
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

    def skip(self, desc, why):
        global total_skip
        self.n += 1
        total_skip += 1
        self.lines.append(f"ok {self.n} - {desc} # SKIP {why}")


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


# What `ismkit hw` may report on these boots, and why. Each entry: (profile, rule or None, aspect,
# predicate on (op, region, pos, first divergence), class, explanation). Evidence is in the
# drive-agent.py checks and "# observe" lines of the same boot and in the probe's checks.
MSIX_END = 17 * 16  # 17 vectors


def zero_bytes(text):
    """True when a divergence's 'bytes[N...] = xx yy' text holds only zero bytes."""
    m = re.match(r"bytes\[\d+\.\.\.\] = ([0-9a-f ]+)$", text or "")
    return m is not None and set(m.group(1).split()) == {"00"}


# A profile of "@v3" or "@v4" applies only to that boot (the driver's own finding) and is tried
# before the shared entries.
CLASSIFY = [
    ("@v3", "R-READ-3", "bytes", lambda op, reg, pos, d: op == "pread" and reg == 4 and 0x2000 <= pos < 0x3000
     and zero_bytes(d.get("actual")) != zero_bytes(d.get("expected")),
     "driver", "v3's big-endian byte-order bug: a 1/2/4-byte load's value is copied from the wrong end of a "
     "64-bit variable, which on big-endian s390x is its zero high-order end, so every sub-8-byte read returns "
     "zero bytes. In the device config (byte-exact at every width under merged) one side of the comparison "
     "is all zero: the narrow read (actual), or the model's bytes learned from an earlier narrow read that an "
     "8-byte load now contradicts (expected); narrow-reads.json's C program and the probe's ism-v3 checks show it"),
    ("@v4", None, "result", lambda op, reg, pos, d: op == "pread" and d.get("actual") == "EINVAL"
     and (int(d["operation"]["offset"], 16) % 8 != 0 or d["operation"]["count"] % 8 != 0),
     "driver", "v4 refuses every read that is not whole aligned 8-byte loads with EINVAL, where SPEC R-READ-2 "
     "splits it into 8/4/2/1-byte loads and returns the count; a read the model clamps (R-BAR-3) is refused "
     "the same way, before the device is touched (under merged that read reaches the device and gets the "
     "emulator's ENXIO). The probe's ism-v4 checks and narrow-reads.json's C program see the same"),
    ("*", "R-BAR-4", "result", lambda op, reg, pos, d: op == "seek" and d.get("actual") == "ESPIPE",
     "SPEC", "the vfio device fd has no llseek (vfio core's file operations, the same under vfio-pci and "
     "ism_vfio_pci): lseek is ESPIPE as SPEC R-BAR-4 itself says for Linux 6.1, and the agent's greeting "
     "advertises no seek (caps 0); ismkit's model predicts a position, i.e. it does not follow its SPEC here"),
    ("vfio-pci", "R-INFO-3", "result", lambda op, reg, pos, d: op == "region-info" and reg == 6,
     "SPEC", "region info for index 6 (ROM) succeeds with size 0 on generic vfio-pci, as SPEC section 9 "
     "says for Linux 6.1; ismkit's vfio-pci model applies the ism rule R-INFO-3 (EINVAL) instead"),
    ("vfio-pci", None, "bytes", lambda op, reg, pos, d: op == "pread" and reg == 1 and pos < MSIX_END,
     "SPEC", "vfio-pci hides the MSI-X table (reads 0xff, writes dropped: SPEC section 9, seen by the probe "
     "and by drive-agent.py); through the agent ismkit does not locate the table ('checks not made'), so "
     "its model expects the written bytes"),
    ("ism", None, "result", lambda op, reg, pos, d: op == "pread" and reg == 1 and d.get("actual") == "ENXIO",
     "emulator", "QEMU's MSI-X table takes only 4- and 8-byte accesses and BAR1 between the table "
     "(0x0-0x10f) and the PBA (0x800) is unassigned: the zPCI load fails and the kernel returns ENXIO "
     "(the probe's 1-byte MSI-X load, drive-agent.py's 1-byte PREAD and 'observe bar1-hole-8' show it)"),
    ("ism", None, "result", lambda op, reg, pos, d: op == "pwrite" and d.get("actual") == "ENXIO" and d.get("expected") == "EIO",
     "SPEC", "the model runs with the device's rules (hw --maxstbl 128 --strict-store-blocks: QEMU 7.2's PCISTB takes "
     "16..128 bytes, offset and length multiples of 8) and predicts the refusal; the real kernel returns ENXIO "
     "(the program check of PCISTB), not R-WRITE-4's EIO: the same SPEC finding as the probe's TODO"),
    ("*", None, "bytes", lambda op, reg, pos, d: op == "pread" and reg == 4 and pos < 0x1000,
     "emulator", "the device, not the driver: QEMU's virtio-pci common configuration decodes an access only "
     "at a register's start, so a narrow load inside a wider register reads 0 while the wide load returns "
     "the register's bytes ('observe common-0x4-4' vs 'common-0x7-1', the same through vfio-pci)"),
    ("*", None, "bytes", lambda op, reg, pos, d: op == "pread" and reg == 4 and 0x1000 <= pos < 0x2000,
     "emulator", "the device: virtio's ISR status (BAR4+0x1000) is cleared by reading it"),
]


def classify(profile, diff, mode=None):
    first = diff.get("first", {})
    op = (diff.get("shrunk") or [first.get("operation", {})])[-1]
    # The operation that differed is the last one of the shrunk sequence (or the first divergence's).
    name = op.get("op", "")
    off = int(op.get("offset", "0x0"), 16) if isinstance(op.get("offset"), str) else int(op.get("offset") or 0)
    if name == "region-info":
        reg, pos = op.get("index", -1), 0
    else:
        shift = first.get("regionShift", 48 if profile == "ism" else 40)
        reg, pos = off >> shift, off & ((1 << shift) - 1)
    for prof, rule, aspect, pred, cls, why in CLASSIFY:
        if prof in ("*", profile, f"@{mode}") and rule in (None, diff.get("rule")) and aspect == diff.get("aspect"):
            try:
                if pred(name, reg, pos, first):
                    return cls, why
            except Exception:
                pass
    return None, None


def journal_text(writes):
    """The journal the agent must have written for these (region, position, bytes) writes."""
    def pattern_byte(p, i):
        return ((p + (i * 37 & 0xFF)) & 0xFF) ^ ((i >> 8) & 0xFF)
    lines = ["ismkit-write-journal 1"]
    for reg, pos, data in writes:
        b = bytes.fromhex(data)
        if all(b[i] == pattern_byte(b[0], i) for i in range(1, len(b))):
            lines.append(f"P {reg} {pos:x} {len(b)} {b[0]}")
        else:
            lines.append(f"W {reg} {pos:x} {data}")
    lines.append(f"E {len(writes)}")
    return "\n".join(lines) + "\n"


def agent_checks(sub, mode, text):
    """The agent sessions of a generic or merged boot."""
    W = os.path.join(run, mode)
    r = result(text, "insmod-virtio_console")
    sub.check(r is not None and r.startswith("rc=0"), f"insmod virtio_console.ko (Debian's module) ({r})")
    r = result(text, "ports")
    sub.check(r is not None and "ismkit " in r + " " and "ismkit-hw" in r,
              f"virtio-serial-ccw ports /dev/virtio-ports/ismkit and ismkit-hw ({r})")
    # drive-agent.py: its own checks, one by one.
    try:
        dt = open(os.path.join(W, "drive.txt"), errors="replace").read()
    except OSError:
        dt = ""
    lines = re.findall(r"^(ok|not ok) - (.*)$", dt, re.M)
    sub.check(len(lines) > 0, f"drive-agent.py (host) reached the agent over the virtio port ({len(lines)} checks)")
    for status, desc in lines:
        sub.check(status == "ok", "agent: " + desc)
    for line in re.findall(r"^# (agent .*ops/s|observe .*)$", dt, re.M):
        agent_notes.append(f"{mode}: {line}")
    r = result(text, "agent-drive")
    sub.check(r is not None and re.match(r"rc=0 seconds=\S+ allow=\[[^]]*\] ?$", r) is not None,
              f"agent (drive session) exited 0, nothing on stderr ({r})")
    try:
        d = json.load(open(os.path.join(W, "drive.json")))
    except (OSError, ValueError):
        d = None
    jd = block(text, "journal-drive")
    sub.check(d is not None and jd is not None and jd == journal_text(d["accepted"]),
              "agent journal (drive session): complete, exactly the writes drive-agent.py saw accepted")
    # In-guest baselines for the burst: the agent fed from a file (no transport), a C loop.
    n = d.get("count") if d else None
    fr = result(text, "agent-file") or ""
    m = re.match(r"rc=0 lines=(\d+) ok=(\d+) seconds=([0-9.]+)-([0-9.]+)", fr)
    sub.check(m is not None and n is not None and int(m.group(1)) == n + 1 and int(m.group(2)) == n,
              f"agent in the guest, the burst from a file: every PREAD answered OK ({fr})")
    b = result(text, "bench") or ""
    mb = re.search(r": (\d+) ops/s", b)
    sub.check(b.startswith("rc=0 ") and mb is not None, f"in-guest C loop (bench-loop, BAR4) ran ({b})")
    local = n / (float(m.group(4)) - float(m.group(3))) if m and n and float(m.group(4)) > float(m.group(3)) else None
    agent = d.get("agent_ops") if d else None
    loop = float(mb.group(1)) if mb else None
    parts = [f"agent over virtio-serial (pipelined, host-measured) {agent:.0f}" if agent else "agent over virtio-serial n/a",
             f"agent fed from a file in the guest {local:.0f}" if local else "agent from a file n/a",
             f"in-guest C loop {loop:.0f}" if loop else "C loop n/a"]
    ratio = f"; agent over virtio-serial / C loop = {agent / loop:.2f}" if agent and loop else ""
    agent_notes.append(f"{mode}: PREAD ops/s: " + ", ".join(parts) + ratio)
    hw_checks(sub, mode, text)


def hw_checks(sub, mode, text):
    """The optional `ismkit hw --connect` step of an agent boot; returns the report (or None)."""
    W = os.path.join(run, mode)
    skip = os.path.join(W, "hw.skip")
    if os.path.exists(skip):
        why = open(skip).read().strip()
        sub.skip("ismkit hw --connect through the agent", why)
        agent_notes.append(f"{mode}: ismkit hw --connect: SKIP ({why})")
        return None
    try:
        rc = int(open(os.path.join(W, "hw.rc")).read().strip())
    except (OSError, ValueError):
        rc = None
    try:
        rep = json.load(open(os.path.join(W, "hw.json")))
    except (OSError, ValueError):
        rep = None
    try:
        cmd = open(os.path.join(W, "hw.cmd")).read().strip()
    except OSError:
        cmd = "ismkit hw --connect"
    err = ""
    if rc not in (0, 1):
        try:
            err = open(os.path.join(W, "hw.stderr"), errors="replace").read().strip().splitlines()[-1]
        except (OSError, IndexError):
            pass
    sub.check(rc in (0, 1) and rep is not None,
              f"ismkit hw --connect ran to its verdict (exit {rc}; 0 conforming, 1 differences) {err}".rstrip())
    r = result(text, "agent-hw")
    sub.check(r is not None and re.match(r"rc=0 seconds=\S+ allow=\[[^]]*\] ?$", r) is not None,
              f"agent (ismkit hw session) exited 0 after QUIT, nothing on stderr ({r})")
    if rep is None:
        return None
    jh = result(text, "journal-hw") or ""
    try:
        host = open(os.path.join(W, "hw.journal"), "rb").read()
    except OSError:
        host = b""
    sha = hashlib.sha256(host).hexdigest()
    sub.check(f"sha256={sha}" in jh and f"last=E {rep.get('writesJournaled')}" in jh,
              f"the agent's journal and the host's --journal are the same text ({rep.get('writesJournaled')} writes) ({jh})")
    ag = rep.get("agent") or {}
    sub.check(ag.get("refusedWrites") == 0 and ag.get("writesJournaled") == rep.get("writesJournaled")
              and ag.get("byteOrder") == "big",
              f"agent counts: big-endian, {ag.get('writesJournaled')} writes journaled as the host saw, "
              f"{ag.get('refusedWrites')} refused by its guard (the host's guard sent only allowed writes)")
    agent_notes.append(f"{mode}: {cmd}: verdict {rep['verdict']}, {rep['operations']} operations in "
                       f"{rep['sequences']} sequences, {rep['operationsPerSecond']:.0f} operations/s through the agent, "
                       f"{rep['writesJournaled']} writes accepted ({rep['bytesWritten']} bytes), "
                       f"{len(rep['differences'])} differences")
    for diff in rep.get("differences", []):
        cls, why = classify(rep.get("profile"), diff, mode)
        f = diff.get("first", {})
        ops = "; ".join(f"{o.get('op')}({o.get('offset', o.get('index', ''))}, {o.get('count', '')})"
                        for o in (diff.get("shrunk") or []))
        desc = (f"ismkit hw [{diff['rule']}] {diff['aspect']} x{diff['occurrences']}: {ops}: "
                f"expected {f.get('expected')}, actual {f.get('actual')}")
        if cls:
            sub.check(False, desc, todo=f"{cls}: {why}")
        else:
            sub.check(False, desc + " (no classification explains it)")
        agent_notes.append(f"{mode}:   [{diff['rule']}] {diff['aspect']}: {cls or 'UNCLASSIFIED'}")
    return rep


def rule_set(rep):
    return {(d.get("rule"), d.get("aspect")) for d in (rep or {}).get("differences", [])}


def load_json(path):
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        return None


# v3 and v4 judged through the agent like merged: the driver's own bug must show, and nothing
# else may differ that merged (whose differences are all emulator or SPEC) does not also show.
DRIVER_BUG = {"v3": ("R-READ-3", "bytes", "sub-8-byte reads return zero bytes"),
              "v4": ("R-READ-2", "result", "sub-8-byte reads refused with EINVAL")}


def verdict_checks(sub, mode, rep):
    rule, aspect, what = DRIVER_BUG[mode]
    bug = [d for d in rep.get("differences", []) if (d.get("rule"), d.get("aspect")) == (rule, aspect)
           and classify(rep.get("profile"), d, mode)[0] == "driver"]
    sub.check(rep.get("verdict") != "conforming" and len(bug) > 0,
              f"ismkit hw finds {mode}'s bug: a {rule} {aspect} difference ({what}) "
              f"(verdict {rep.get('verdict')}, {len(bug)} such)")
    merged = load_json(os.path.join(run, "merged", "hw.json"))
    if merged is None:
        reason = "merged boot not in --modes" if "merged" not in modes else "merged's ismkit hw report is missing"
        if "merged" in modes:
            sub.check(False, f"{mode}'s differences compared with merged's ({reason})")
        else:
            sub.skip(f"{mode}'s differences compared with merged's", reason)
        return
    mine, theirs = rule_set(rep), rule_set(merged)
    extra = sorted(mine - theirs - {(rule, aspect)})
    sub.check(not extra, f"{mode} differs from the model only where merged does, or by its own {rule}: "
              f"rules {', '.join(sorted(r + ' ' + a for r, a in mine))}; not in merged: "
              f"{', '.join(r + ' ' + a for r, a in sorted(mine - theirs)) or 'none'}")
    shown = "; ".join(f"{d['rule']} {d['aspect']} x{d['occurrences']} ({classify(rep.get('profile'), d, mode)[0]})"
                      for d in rep.get("differences", []))
    agent_notes.append(f"{mode}: VERDICT {rep.get('verdict')}: {shown}; merged's rules: "
                       f"{', '.join(sorted(r + ' ' + a for r, a in theirs))}")


# The C programs `ismkit repro --emit-c` made (narrow-reads.json, and an earlier run's v3/v4
# reproducers from `ismkit hw`), run in the merged, v3 and v4 guests. Expected exit codes.
REPRO_EXPECT = {"narrow-reads": {"merged": 0, "v3": 1, "v4": 1},
                "prev-v3-R-READ-3": {"merged": 0, "v3": 1},
                "prev-v4-R-READ-2": {"merged": 0, "v4": 1}}
repro_notes = []


def repro_checks(sub, mode, text):
    skip = os.path.join(run, mode, "repro.skip")
    if os.path.exists(skip):
        why = open(skip).read().strip()
        sub.skip("C reproducers (ismkit repro --emit-c) in the guest", why)
        repro_notes.append(f"{mode}: SKIP ({why})")
        return
    try:
        progs = open(os.path.join(run, "repro", "programs")).read().split()
    except OSError:
        progs = []
    for name, want in REPRO_EXPECT.items():
        if mode not in want:
            continue
        if name not in progs:
            src = name[5:].split("-")[0] if name.startswith("prev-") else ""
            sub.skip(f"C reproducer {name}", f"no reproducer from an earlier run's {src} `ismkit hw` step yet "
                     "(this run's is kept for the next one)")
            repro_notes.append(f"{mode}: {name}: SKIP (none from an earlier run)")
            continue
        r = result(text, f"repro-{name}")
        k = block(text, f"repro-{name}") or ""
        rc = int(r[3:].split()[0]) if r and re.match(r"rc=\d+", r) else None
        nok = re.findall(r"^not ok \d+ .*\n# .*$", k, re.M)
        tot = re.search(r"^# Totals: .*$", k, re.M)
        good = rc == want[mode] and tot is not None and (bool(nok) == (want[mode] == 1))
        sub.check(good, f"C reproducer {name} (ismkit repro --emit-c, s390x-linux-gnu-gcc -static): "
                  f"exit {rc}, expected {want[mode]} ({len(nok)} not ok)")
        repro_notes.append(f"{mode}: {name}: exit {rc} (expected {want[mode]}); "
                           + (tot.group(0)[2:] if tot else "no KTAP totals"))
        for line in k.strip().splitlines():
            repro_notes.append(f"{mode}:     {line}")
    for name in progs:
        if name not in REPRO_EXPECT and result(text, f"repro-{name}") is not None:
            repro_notes.append(f"{mode}: {name}: {result(text, f'repro-{name}')} (not judged)")


def repro_emit_check(sub, mode):
    """This run's v3/v4 reproducer of the driver's bug, emitted as C and built on the host."""
    W = os.path.join(run, mode)
    try:
        t = open(os.path.join(W, "repro-emit.txt")).read().strip()
    except OSError:
        t = "missing (ismkit hw did not run to its end)"
    sub.check(t.startswith("ok:"), f"this run's {DRIVER_BUG[mode][0]} reproducer of ismkit hw -> "
              f"ismkit repro --emit-c -> s390x-linux-gnu-gcc -O2 -static: {t}")
    repro_notes.append(f"{mode}: emitted for the next run: {t}")


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
        if result(text, "agent-drive") is not None or os.path.exists(os.path.join(run, mode, "drive.txt")):
            agent_checks(sub, mode, text)
            r = result(text, "mac-restore") or ""
            sub.check(r.endswith(f"OK 6 {MAC_PCISTG.replace(':', '')} -|OK 0 - -|"),
                      f"after the agent sessions the guest restores the probe's MAC with 4+2-byte PCI stores ({r})")
            observations.append(f"generic: MAC after the agent sessions, before the restore: {result(text, 'mac-after-agents')}")
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
            if mode in ("merged", "v3", "v4"):
                repro_checks(sub, mode, text)
            if mode in ("v3", "v4"):
                r = result(text, "agent-hw")
                if r is not None or not os.path.exists(os.path.join(run, mode, "hw.skip")):
                    r = result(text, "ports")
                    sub.check(r is not None and "ismkit-hw" in r, f"virtio-serial-ccw port /dev/virtio-ports/ismkit-hw ({r})")
                rep = hw_checks(sub, mode, text)
                if rep is not None:
                    verdict_checks(sub, mode, rep)
                    repro_emit_check(sub, mode)
            if mode == "merged" and (result(text, "agent-drive") is not None
                                     or os.path.exists(os.path.join(run, mode, "drive.txt"))):
                agent_checks(sub, mode, text)
                r = result(text, "mac-after-agents") or ""
                sub.check(got is not None and f"OK 6 {got.replace(':', '')} -" in r,
                          f"the agent sessions left the MAC alone (6-byte list, every store block <= 8 bytes refused) ({r})")
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
print("# --- ismkit-agent on the s390x guest (operations/s measured on the host)")
for o in agent_notes:
    print(f"# {o}")
print("# --- C reproducers (ismkit repro --emit-c) in the guests")
for o in repro_notes:
    print(f"# {o}")
print("# --- observations")
for o in observations:
    print(f"# {o}")
print("# --- timings (guest CLOCK_MONOTONIC under TCG)")
for t in timings:
    print(f"# {t}")
open(os.path.join(run, "counts"), "w").write(f"{total_pass} {total_fail} {len(todos)} {total_skip}\n")
