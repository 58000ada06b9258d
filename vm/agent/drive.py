#!/usr/bin/env python3
"""Drives ismkit-agent in the VM over its virtio-serial port (a unix socket on the host) and checks
every answer against the host file that backs the device's BAR2.

usage: drive.py SOCKET BAR2_FILE COUNT RESULT_JSON [GREETING_TIMEOUT_S [CONSOLE_FILE]]
Prints one `ok - ...` / `not ok - ...` line per check and writes RESULT_JSON
(agent ops/s, journal counts) for the calling script. With CONSOLE_FILE given, QUIT waits until the
guest's console shows its busy check (a second agent run while this one serves) has finished.
"""
import json
import os
import socket
import sys
import threading
import time

BAR2 = 2 << 40
CONFIG = 7 << 40
ALLOWED_END = 0xfff  # --allow-write 2:0x0-0xfff in the guest

results = {"passed": 0, "failed": 0}


def check(ok, name, detail=""):
    print(("ok - " if ok else "not ok - ") + name + ("" if ok or not detail else f"  # {detail}"), flush=True)
    results["passed" if ok else "failed"] += 1
    return ok


def pattern(p, n):
    return bytes((((p + i * 37) & 0xFF) ^ ((i >> 8) & 0xFF)) for i in range(n))


class Agent:
    def __init__(self, path, greeting_timeout):
        deadline = time.time() + greeting_timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise SystemExit(f"drive.py: cannot connect to {path}")
                time.sleep(0.2)
        self.sock.settimeout(greeting_timeout)
        self.rfile = self.sock.makefile("rb", buffering=1 << 20)
        self.greeting = self.line()
        self.sock.settimeout(60)

    def line(self):
        b = self.rfile.readline()
        if not b:
            raise EOFError("agent closed the connection")
        return b.decode("ascii", "replace").rstrip("\r\n")

    def ask(self, request):
        self.sock.sendall((request + "\n").encode())
        return self.line()


def file_bytes(path, pos, n):
    with open(path, "rb") as f:
        f.seek(pos)
        return f.read(n)


def main():
    sock_path, bar2_file, count, out_json = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    greeting_timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 300
    a = Agent(sock_path, greeting_timeout)
    accepted = []  # (position, bytes) of writes that must have landed

    # Greeting.
    g = a.greeting.split(" ")
    check(len(g) == 5 and g[:2] == ["ISMKIT-WIRE", "1"] and g[2] == "little" and g[4] == "vfio-agent"
          and g[3].isdigit() and int(g[3]) & ~16 == 0, "greeting: ISMKIT-WIRE 1 little <seek only> vfio-agent", a.greeting)
    caps = int(g[3]) if len(g) > 3 and g[3].isdigit() else 0

    # DEVICE, REGIONS, INFO.
    r = a.ask("DEVICE")
    f = r.split(" ")
    dev = f[2].split(".") if len(f) == 4 else []
    check(len(dev) == 4 and f[0] == "OK" and dev[:2] == ["1af4", "1110"] and int(dev[2]) >= 9 and int(dev[3]) & 2,
          "DEVICE: ivshmem 1af4.1110, at least 9 regions, PCI flag", r)
    r = a.ask("REGIONS")
    f = r.split(" ")
    regions = {}
    if len(f) == 4 and f[0] == "OK" and f[2] != "-":
        for item in f[2].split(","):
            i, off, size, flags = (int(x) for x in item.split("."))
            regions[i] = (off, size, flags)
    check(len(f) == 4 and int(f[1]) == len(regions) and regions.get(2, (0, 0))[:2] == (BAR2, 1 << 20)
          and regions.get(7, (0,))[0] == CONFIG and all(regions[i][0] == i << 40 for i in regions),
          "REGIONS: region i at i<<40, BAR2 1 MiB", r)
    r = a.ask("INFO 2 32")
    check(r.startswith(f"OK 0 {BAR2}.{1 << 20}.") and r.endswith(" -") and int(r.split(" ")[2].split(".")[2]) & 3 == 3,
          "INFO 2 32: BAR2 offset, size, read+write flags", r)
    r = a.ask("INFO 7 32")
    check(r.startswith(f"OK 0 {CONFIG}."), "INFO 7 32: config space at 7<<40", r)
    r = a.ask("INFO 2 8")
    check(r.startswith("ERR 22 "), "INFO 2 8 (short argsz): EINVAL", r)
    r = a.ask("INFO 40 32")
    check(r.startswith("ERR 22 "), "INFO 40 32 (no such region): EINVAL", r)

    # Reads of every width at every alignment, against the backing file.
    bad = []
    for width in (1, 2, 3, 4, 8, 16, 100):
        for align in range(8):
            pos = 0x200 + 0x40 * width + align
            r = a.ask(f"PREAD {BAR2 + pos} {width} - -")
            want = f"OK {width} {file_bytes(bar2_file, pos, width).hex()} -"
            if r != want:
                bad.append(f"{width}@{pos:#x}: {r} != {want}")
    check(not bad, "PREAD widths 1,2,3,4,8,16,100 at alignments 0..7 match the backing file", "; ".join(bad[:3]))
    r = a.ask(f"PREAD {BAR2 + 0x10} 4 - aabbccdd")
    check(r == f"OK 4 {file_bytes(bar2_file, 0x10, 4).hex()} -", "PREAD with an init buffer", r)
    r = a.ask(f"PREAD {BAR2 + 0x10} 0 - -")
    check(r == "OK 0 - -", "PREAD of zero bytes", r)

    # Writes inside the allow-list land in the backing file.
    bad = []
    writes = [(0x0, bytes([0x5a])), (0x11, bytes.fromhex("a1b2")), (0x22, bytes.fromhex("01020304")),
              (0x33, bytes.fromhex("1122334455667788")), (0x40, bytes.fromhex("cafebabedeadbeef")),
              (0x101, bytes(range(64))), (0x300, pattern(77, 200)), (0xff8, bytes.fromhex("f0e1d2c3b4a59687")),
              (0xfff, bytes([0xee]))]
    for pos, data in writes:
        r = a.ask(f"PWRITE {BAR2 + pos} - {data.hex()}")
        got = file_bytes(bar2_file, pos, len(data))
        if r != f"OK {len(data)} - -" or got != data:
            bad.append(f"{len(data)}@{pos:#x}: {r}, file has {got.hex()}")
        else:
            accepted.append((pos, data))
    check(not bad, "PWRITE inside 2:0x0-0xfff (widths 1..200, unaligned, last byte) lands in the backing file",
          "; ".join(bad[:3]))
    r = a.ask(f"PWRITE {BAR2 + 0x50} - -")
    check(r == "OK 0 - -", "PWRITE of zero bytes is not refused", r)

    # Writes the guard must refuse before any system call: the file must not change there.
    refused = 0
    for name, off, data, pos in [
        ("just past the allowed range", BAR2 + 0x1000, "01020304", 0x1000),
        ("straddling the end of the range", BAR2 + 0xffc, "0102030405060708", 0xffc),
        ("far into BAR2", BAR2 + 0x80000, "ff", 0x80000),
    ]:
        before = file_bytes(bar2_file, pos, len(data) // 2)
        r = a.ask(f"PWRITE {off} - {data}")
        after = file_bytes(bar2_file, pos, len(data) // 2)
        refused += r.startswith("ERR 1 ")
        check(r == "ERR 1 - -" and before == after, f"PWRITE {name}: ERR 1 (EPERM), backing file unchanged",
              f"{r}; file {before.hex()} -> {after.hex()}")
    r = a.ask(f"PWRITE {CONFIG + 4} - 0700")
    refused += r.startswith("ERR 1 ")
    check(r == "ERR 1 - -", "PWRITE to config space (command register): refused", r)
    r = a.ask(f"PREAD {CONFIG} 4 - -")
    check(r == "OK 4 f41a1011 -", "config space reads back vendor/device 1af4:1110", r)
    r = a.ask("PWRITE 0 - 00000000")
    refused += r.startswith("ERR 1 ")
    check(r == "ERR 1 - -", "PWRITE to BAR0 (ivshmem registers): refused", r)
    r = a.ask(f"PWRITE {(1 << 63) | BAR2} - 01")
    refused += r.startswith("ERR 1 ")
    check(r == "ERR 1 - -", "PWRITE at a negative offset: refused", r)

    # READ/WRITE at the tracked file position (0 at start: BAR0), SEEK as the kernel answers.
    r = a.ask("READ 4 - -")
    check(r.startswith("OK 4 ") and len(r.split(" ")[2]) == 8, "READ 4 at position 0 (BAR0)", r)
    r = a.ask("WRITE - 01020304")
    refused += r.startswith("ERR 1 ")
    check(r == "ERR 1 - -", "WRITE at the tracked position (BAR0 + 4): refused", r)
    r = a.ask("SEEK 0 set")
    check((r == "OK 0 - -") if caps & 16 else r.startswith("ERR 29 "), "SEEK as the greeting's seek bit says", r)

    # Faults and requests a real device cannot honour: EOPNOTSUPP, no system call.
    r = a.ask(f"PREAD {BAR2} 4 D0:5 -")
    check(r == "ERR 95 00000000 -", "PREAD with an injected fault: ERR 95, buffer untouched", r)
    before = file_bytes(bar2_file, 0x60, 1)
    r = a.ask(f"PWRITE {BAR2 + 0x60} A 99")
    check(r == "ERR 95 - -" and file_bytes(bar2_file, 0x60, 1) == before, "PWRITE with a fault: ERR 95, not written", r)
    for req in ("RECOVER", "ATTACH 0", "DETACH", "RESOURCES", "RESET", "CONFIG 0 0 1048576 0 0 0 256 4096 4096 1 0"):
        r = a.ask(req)
        check(r == "ERR 95 - -", f"{req.split(' ')[0]}: ERR 95", r)
    for req in ("FROB", "PREAD 1", f"PREAD {BAR2} x - -", f"PWRITE {BAR2} - abc", f"PREAD {BAR2} 2 - 0g00", "INFO 2"):
        r = a.ask(req)
        check(r.startswith("BAD "), f"malformed '{req}': BAD", r)

    r = a.ask("JOURNAL")
    nbytes = sum(len(d) for _, d in accepted)
    check(r == f"OK {len(accepted)} {nbytes} -", "JOURNAL: entries and bytes of the accepted writes", r)
    r = a.ask("REFUSED")
    check(r == f"OK {refused} - -", "REFUSED: the guard's refusals", r)

    # The pipelined burst: every request written at once, answers read as they come.
    seq = [((1, 2, 4, 8)[i % 4], (i * 8) % 4096) for i in range(count)]
    burst = "".join(f"PREAD {BAR2 + pos} {w} - -\n" for w, pos in seq).encode()
    image = file_bytes(bar2_file, 0, 4096)
    t0 = time.time()
    sender = threading.Thread(target=a.sock.sendall, args=(burst,))
    sender.start()
    answers = [a.line() for _ in range(count)]
    elapsed = time.time() - t0
    sender.join()
    wrong = [i for i, (w, pos) in enumerate(seq) if answers[i] != f"OK {w} {image[pos:pos + w].hex()} -"]
    check(not wrong, f"pipelined burst: {count} PREAD answers, in order and correct",
          f"{len(wrong)} wrong, first #{wrong[0]}: {answers[wrong[0]]}" if wrong else "")
    ops = count / elapsed if elapsed > 0 else 0.0
    print(f"# agent: {count} pipelined preads in {elapsed:.3f} s: {ops:.0f} ops/s")
    t0 = time.time()
    for i in range(200):
        w, pos = seq[i]
        a.ask(f"PREAD {BAR2 + pos} {w} - -")
    lockstep = 200 / (time.time() - t0)
    print(f"# agent, one request at a time (200): {lockstep:.0f} ops/s")

    if len(sys.argv) > 6:
        deadline = time.time() + 60
        while time.time() < deadline and "RESULT preflight-busy" not in open(sys.argv[6], errors="replace").read():
            time.sleep(0.2)
    r = a.ask("QUIT")
    check(r == "OK 0 - -", "QUIT: OK 0 - -", r)
    json.dump({"agent_ops": ops, "lockstep_ops": lockstep, "entries": len(accepted), "bytes": nbytes,
               "refused": refused, **results}, open(out_json, "w"))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (EOFError, OSError, socket.timeout) as e:
        check(False, f"the agent answered every request ({e})")
        sys.exit(1)
