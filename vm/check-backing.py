#!/usr/bin/env python3
"""Checks, from the host file that backs the guest's BAR2, that every byte ismkit's runs wrote
landed where their write journals say, and that nothing else changed.

usage: check-backing.py INITIAL FINAL REGION JOURNAL...
Journals are applied in order over INITIAL; the result must equal FINAL byte for byte.
Prints one summary line; exit 0 when equal, 1 otherwise.
"""
import sys


def journal_entries(path):
    lines = [l.rstrip("\r\n") for l in open(path, encoding="ascii", errors="replace")]
    lines = [l for l in lines if l.strip()]
    if not lines or lines[0].strip() != "ismkit-write-journal 1":
        raise SystemExit(f"{path}: not a write journal (first line {lines[:1]})")
    if not lines[-1].startswith("E "):
        raise SystemExit(f"{path}: journal has no trailer (the run did not finish)")
    entries = []
    for l in lines[1:-1]:
        f = l.split(" ")
        if f[0] == "W" and len(f) == 4:
            entries.append((int(f[1]), int(f[2], 16), bytes.fromhex(f[3])))
        elif f[0] == "P" and len(f) == 5:
            # The harness's write pattern (DeviceContents.patternByte), computed independently here.
            count, p = int(f[3]), int(f[4])
            data = bytes((((p + (i * 37)) & 0xFF) ^ ((i >> 8) & 0xFF)) for i in range(count))
            entries.append((int(f[1]), int(f[2], 16), data))
        else:
            raise SystemExit(f"{path}: bad line {l!r}")
    if int(lines[-1].split()[1]) != len(entries):
        raise SystemExit(f"{path}: trailer says {lines[-1]} but {len(entries)} entries")
    return entries


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    initial = bytearray(open(sys.argv[1], "rb").read())
    final = open(sys.argv[2], "rb").read()
    region = int(sys.argv[3])
    expected = bytearray(initial)
    written = bytearray(len(initial))  # 1 where some write landed
    entries = 0
    for path in sys.argv[4:]:
        for r, pos, data in journal_entries(path):
            entries += 1
            if r != region:
                print(f"FAIL: {path}: a write landed in region {r}, not the shared-memory region {region}")
                return 1
            if pos + len(data) > len(expected):
                print(f"FAIL: {path}: write at 0x{pos:x}+{len(data)} is past the end of the backing file")
                return 1
            expected[pos:pos + len(data)] = data
            for i in range(pos, pos + len(data)):
                written[i] = 1
    if len(final) != len(expected):
        print(f"FAIL: the backing file changed size: {len(initial)} -> {len(final)}")
        return 1
    bad = [i for i in range(len(final)) if final[i] != expected[i]]
    touched = sum(written)
    changed = sum(1 for i in range(len(final)) if final[i] != initial[i])
    if bad:
        first = bad[0]
        kind = "written" if written[first] else "never written"
        print(f"FAIL: {len(bad)} byte(s) differ from the journals' prediction; first at 0x{first:x} ({kind}): "
              f"expected 0x{expected[first]:02x}, found 0x{final[first]:02x}")
        return 1
    print(f"ok: {entries} journaled writes covering {touched} byte(s) all landed where the model says; "
          f"{changed} byte(s) differ from the initial contents, {len(final) - touched} never-written byte(s) unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
