#!/usr/bin/env python3
"""Drives ismkit-agent in the VM over its virtio-serial port (a unix socket on the host) and checks
every answer against the host file that backs the device's BAR2.

usage: drive.py SOCKET BAR2_FILE COUNT RESULT_JSON [GREETING_TIMEOUT_S [CONSOLE_FILE [ROUNDS]]]
Prints one `ok - ...` / `not ok - ...` line per check and writes RESULT_JSON
(agent ops/s, journal counts) for the calling script. With CONSOLE_FILE given, QUIT waits until the
guest's console shows its busy check (a second agent run while this one serves) has finished.

Then the benchmark: the guest starts ROUNDS more agents on the same port, one after the other, with
a C loop of COUNT preads before and after each. On this same connection (the port's host end stays
connected, so no agent starts without it) each round reads the new agent's greeting, sends the C
loop's preads as one burst of compact frames, reads every answer, compares them all with the
backing file, and QUITs. A round's time runs from the first byte sent to the last answer byte
received, the comparison included; RESULT_JSON gets them as "rounds" (ops/s).
"""
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "native", "agent"))
import compact_frames as cf  # noqa: E402

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

    # The same burst as compact frames: one write of every frame, the answers read as they come.
    r = a.ask("COMPACT 1")
    check(r == "OK 1 - -", "COMPACT 1: OK 1 - -", r)
    frames = b"".join(cf.pread(BAR2 + pos, w) for w, pos in seq)
    total = sum(5 + w for w, _ in seq)
    t0 = time.time()
    sender = threading.Thread(target=a.sock.sendall, args=(frames,))
    sender.start()
    got = a.rfile.read(total)
    compact_elapsed = time.time() - t0
    sender.join()
    wrong, at = [], 0
    for i, (w, pos) in enumerate(seq):
        if got[at:at + 5 + w] != bytes([cf.OK]) + w.to_bytes(4, "little") + image[pos:pos + w]:
            wrong.append(i)
        at += 5 + w
    check(len(got) == total and not wrong, f"compact burst: {count} PREAD answers, in order and correct",
          f"{len(got)} of {total} bytes, {len(wrong)} wrong" + (f", first #{wrong[0]}" if wrong else ""))
    compact_ops = count / compact_elapsed if compact_elapsed > 0 else 0.0
    print(f"# agent: {count} compact preads in {compact_elapsed:.3f} s: {compact_ops:.0f} ops/s")
    # Compact frames of every kind, against the backing file; writes refused mid-window.
    window = [cf.info(2, 32), cf.pread(BAR2 + 0x11, 2), cf.pwrite(BAR2 + 0x400, b"\x10\x20"), cf.pwrite(BAR2 + 0x1000, b"\x01"),
              cf.pread(BAR2 + 0x400, 2), cf.pwrite(CONFIG + 4, b"\x07\x00"), cf.seek(BAR2 + 0x10)]
    a.sock.sendall(b"".join(window))
    answers = [cf.answer(a.rfile.read, f) for f in window]
    want = [(cf.OK, 0, (BAR2, 1 << 20)), (cf.OK, 2, file_bytes(bar2_file, 0x11, 2)), (cf.OK, 2, None), (cf.ERR, 1, None),
            (cf.OK, 2, b"\x10\x20"), (cf.ERR, 1, None), (cf.ERR, 29, None) if not caps & 16 else (cf.OK, BAR2 + 0x10, None)]
    got_ = [answers[0][:2] + (answers[0][2][:2],)] + answers[1:]
    check(got_ == want and file_bytes(bar2_file, 0x400, 2) == b"\x10\x20",
          "compact window: INFO, PREAD, PWRITE, refused PWRITEs (BAR2 past the list, config), SEEK in order", f"{answers}")
    accepted.append((0x400, b"\x10\x20"))
    refused += 2
    a.sock.sendall(cf.end())
    check(a.line() == "OK 0 - -", "END: back to text requests")
    r = a.ask("REFUSED")
    check(r == f"OK {refused} - -", "REFUSED after the compact window", r)

    if len(sys.argv) > 6:
        deadline = time.time() + 60
        while time.time() < deadline and "RESULT preflight-busy" not in open(sys.argv[6], errors="replace").read():
            time.sleep(0.2)
    nbytes = sum(len(d) for _, d in accepted)
    r = a.ask("QUIT")
    check(r == "OK 0 - -", "QUIT: OK 0 - -", r)
    rounds = bench_rounds(a, seq, bar2_file, int(sys.argv[7]) if len(sys.argv) > 7 else 0, greeting_timeout)
    json.dump({"agent_ops": ops, "compact_ops": compact_ops, "lockstep_ops": lockstep, "rounds": rounds, "entries": len(accepted),
               "bytes": nbytes, "refused": refused, **results}, open(out_json, "w"))
    return 0


def bench_rounds(a, seq, bar2_file, rounds, greeting_timeout):
    image = file_bytes(bar2_file, 0, 4096)
    frames = b"COMPACT 1\n" + b"".join(cf.pread(BAR2 + pos, w) for w, pos in seq)
    want = b"OK 1 - -\n" + b"".join(bytes([cf.OK]) + w.to_bytes(4, "little") + image[pos:pos + w] for w, pos in seq)
    ops = []
    for r in range(1, rounds + 1):
        a.sock.settimeout(greeting_timeout)
        greeting = a.line()
        a.sock.settimeout(60)
        t0 = time.time()
        sender = threading.Thread(target=a.sock.sendall, args=(frames,))
        sender.start()
        got = a.rfile.read(len(want))
        ok = got == want
        elapsed = time.time() - t0
        sender.join()
        a.sock.sendall(cf.end() + b"QUIT\n")
        tail = [a.line(), a.line()]
        ops.append(len(seq) / elapsed)
        check(ok and greeting.startswith("ISMKIT-WIRE 1 ") and tail == ["OK 0 - -", "OK 0 - -"],
              f"bench round {r}: {len(seq)} compact preads, every answer right, {ops[-1]:.0f} ops/s",
              f"{len(got)} of {len(want)} bytes, greeting {greeting!r}, tail {tail}")
    return ops


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (EOFError, OSError, socket.timeout) as e:
        check(False, f"the agent answered every request ({e})")
        sys.exit(1)
