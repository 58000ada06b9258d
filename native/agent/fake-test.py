#!/usr/bin/env python3
"""Checks ismkit-agent's protocol loop on a fake device (the test build's ISMKIT_AGENT_FAKE_DEVICE:
a regular file, region i at i * 0x10000, BAR2 0x4000 bytes, config 0x100), without VFIO.

usage: fake-test.py AGENT_FAKE_BINARY [RUNNER...]     (RUNNER: e.g. qemu-s390x-static)
Prints one `ok - ...` / `not ok - ...` line per check and `fake: N passed, M failed`.
"""
import os
import pty
import random
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compact_frames as cf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK_BACKING = os.path.join(HERE, "..", "..", "vm", "check-backing.py")
BAR2, CONFIG, BAR2_SIZE, FILE_SIZE = 0x20000, 0x70000, 0x4000, 9 * 0x10000
ALLOW = ["--allow-write", "2:0x0-0xfff", "--allow-write", "config:0x40-0x4f"]
results = {"passed": 0, "failed": 0}


def check(ok, name, detail=""):
    print(("ok - " if ok else "not ok - ") + name + ("" if ok or not detail else f"  # {detail}"), flush=True)
    results["passed" if ok else "failed"] += 1


class Session:
    """One agent process on a fresh fake device, talking over pipes (or a pty with --port)."""

    def __init__(self, cmd, tmp, extra=(), use_port=False, allow=ALLOW, env=None):
        self.tmp = tmp
        self.dev = os.path.join(tmp, "device.bin")
        self.journal = os.path.join(tmp, "journal")
        self.initial = random.Random(7).randbytes(FILE_SIZE)
        open(self.dev, "wb").write(self.initial)
        if os.path.exists(self.journal):
            os.unlink(self.journal)
        env = dict(os.environ, ISMKIT_AGENT_FAKE_DEVICE=self.dev, **(env or {}))
        args = cmd + list(allow) + ["--journal", self.journal] + list(extra)
        if use_port:
            master, slave = pty.openpty()
            tty.setraw(slave)
            args += ["--port", os.ttyname(slave)]
            self.p = subprocess.Popen(args + ["0000:00:01.0"], env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.slave = slave
            self.wfd, self.rfd = master, master
        else:
            self.p = subprocess.Popen(args + ["0000:00:01.0"], env=env, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.wfd, self.rfd = self.p.stdin.fileno(), self.p.stdout.fileno()
        self.buf = b""
        self.greeting = self.line()

    def send(self, text):
        data = text.encode()
        while data:
            n = os.write(self.wfd, data)
            data = data[n:]

    def line(self, timeout=30):
        deadline = time.time() + timeout
        while b"\n" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("no answer")
            r, _, _ = select.select([self.rfd], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(self.rfd, 1 << 16)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise EOFError("agent closed its output")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("ascii", "replace").rstrip("\r")

    def ask(self, request):
        self.send(request + "\n")
        return self.line()

    def take(self, n, timeout=30):
        """Exactly n raw bytes of answers (compact frames)."""
        deadline = time.time() + timeout
        while len(self.buf) < n:
            if time.time() > deadline:
                raise TimeoutError("no answer")
            r, _, _ = select.select([self.rfd], [], [], 0.5)
            if r:
                chunk = os.read(self.rfd, 1 << 16)
                if not chunk:
                    raise EOFError("agent closed its output")
                self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_bytes(self, data):
        while data:
            n = os.write(self.wfd, data)
            data = data[n:]

    def device(self, pos, n):
        with open(self.dev, "rb") as f:
            f.seek(pos)
            return f.read(n)

    def close_input(self):
        if self.wfd == self.rfd:
            os.close(self.wfd)
            os.close(self.slave)
        else:
            self.p.stdin.close()

    def wait(self, timeout=30):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None

    def journal_text(self):
        return open(self.journal).read() if os.path.exists(self.journal) else ""

    def backing_ok(self):
        """vm/check-backing.py over the BAR2 slice of the device file (and the journal's BAR2 lines)."""
        a, b = os.path.join(self.tmp, "bar2.initial"), os.path.join(self.tmp, "bar2.final")
        lines = self.journal_text().splitlines()
        body = [l for l in lines[1:-1] if l.split(" ")[1] == "2"]
        j2 = os.path.join(self.tmp, "journal.bar2")
        open(j2, "w").write("\n".join(lines[:1] + body + [f"E {len(body)}"]) + "\n")
        open(a, "wb").write(self.initial[BAR2:BAR2 + BAR2_SIZE])
        open(b, "wb").write(self.device(BAR2, BAR2_SIZE))
        r = subprocess.run([sys.executable, CHECK_BACKING, a, b, "2", j2], capture_output=True, text=True)
        return r.returncode == 0, (r.stdout + r.stderr).strip()


def pattern(p, n):
    return bytes((((p + i * 37) & 0xFF) ^ ((i >> 8) & 0xFF)) for i in range(n))


def main():
    cmd = sys.argv[2:] + [sys.argv[1]]
    big = any("s390x" in c for c in cmd)
    order = "big" if big else "little"
    tmp = tempfile.mkdtemp(prefix="ismkit-agent-fake.")

    # A full session over pipes.
    s = Session(cmd, tmp)
    check(s.greeting == f"ISMKIT-WIRE 1 {order} 16 vfio-agent", f"greeting: {order}, seek capability (regular file)",
          s.greeting)
    check(s.ask("DEVICE") == "OK 0 1af4.1110.9.2 -", "DEVICE: vendor.device.num_regions.flags")
    r = s.ask("REGIONS")
    want = ",".join(f"{i}.{i * 0x10000}.{[0x100, 0, 0x4000, 0, 0, 0, 0, 0x100, 0][i]}.3" for i in range(9))
    check(r == f"OK 9 {want} -", "REGIONS: every recorded region", r)
    # A regular file answers ENOTTY; qemu-user does not forward unknown ioctls and answers ENOSYS.
    r = s.ask("INFO 2 32")
    check(r in ("ERR 25 0.0.0 -", "ERR 38 0.0.0 -"), "INFO on a non-VFIO fd: the ioctl's errno, the zeroed answer", r)
    r = s.ask(f"PREAD {BAR2 + 5} 8 - -")
    check(r == f"OK 8 {s.device(BAR2 + 5, 8).hex()} -", "PREAD", r)
    r = s.ask(f"PREAD {BAR2 + 5} 3 - 0102ff")
    check(r == f"OK 3 {s.device(BAR2 + 5, 3).hex()} -", "PREAD with an init buffer", r)
    r = s.ask(f"PREAD {FILE_SIZE + 10} 4 - a0a1a2a3")
    check(r == "OK 0 a0a1a2a3 -", "PREAD past the end: 0 bytes, the buffer as it was", r)
    r = s.ask(f"PREAD {1 << 63} 2 - -")
    check(r == "ERR 22 0000 -", "PREAD at a negative offset: EINVAL, the buffer", r)

    # Pipelined: everything at once, then the answers in order.
    reqs, wants = [], []
    accepted = []
    for i in range(300):
        pos, n = (i * 13) % 0xff0, 1 + i % 16
        pos = min(pos, 0x1000 - n)
        data = bytes((i + k) & 0xFF for k in range(n))
        reqs.append(f"PWRITE {BAR2 + pos} - {data.hex()}")
        wants.append(f"OK {n} - -")
        accepted.append((pos, data))
    reqs += [f"PWRITE {BAR2 + 0x1000} - 01", f"PWRITE {BAR2 + 0xffe} - 010203", f"PWRITE {CONFIG + 4} - 0700",
             f"PWRITE {CONFIG + 0x4f} - 0102", f"PWRITE 0 - 00", f"PWRITE {(1 << 63) | BAR2} - 01",
             f"PWRITE {9 * 0x10000} - 01", f"PWRITE {BAR2 + 0x10} D0:5 ff", f"PWRITE {BAR2 + 0x10} - -"]
    wants += ["ERR 1 - -"] * 7 + ["ERR 95 - -", "OK 0 - -"]
    reqs += [f"PWRITE {CONFIG + 0x40} - {pattern(3, 16).hex()}"]
    wants += ["OK 16 - -"]
    before = s.device(0, FILE_SIZE)
    s.send("".join(r + "\n" for r in reqs))
    got = [s.line() for _ in reqs]
    bad = [(q, g, w) for q, g, w in zip(reqs, got, wants) if g != w]
    check(not bad, "pipelined writes: 300 accepted, 7 refused by the guard, fault ERR 95, zero-byte OK",
          "; ".join(f"{q} -> {g} (want {w})" for q, g, w in bad[:3]))
    after = s.device(0, FILE_SIZE)
    expect = bytearray(before)
    for pos, data in accepted:
        expect[BAR2 + pos:BAR2 + pos + len(data)] = data
    expect[CONFIG + 0x40:CONFIG + 0x50] = pattern(3, 16)
    check(after == bytes(expect), "the device holds exactly the accepted writes (refused ones never reached it)")

    # READ/WRITE at the tracked position, SEEK.
    check(s.ask(f"SEEK {BAR2 + 0xffc} set") == f"OK {BAR2 + 0xffc} - -", "SEEK set")
    check(s.ask("WRITE - a1a2") == "OK 2 - -" and s.device(BAR2 + 0xffc, 2) == b"\xa1\xa2", "WRITE at the position")
    check(s.ask("WRITE - b1b2b3") == "ERR 1 - -", "WRITE crossing the allowed end at the tracked position: refused")
    r = s.ask("READ 2 - -")
    check(r == f"OK 2 {s.device(BAR2 + 0xffe, 2).hex()} -", "READ continues at the tracked position", r)
    check(s.ask("SEEK -4 cur") == f"OK {BAR2 + 0xffc} - -", "SEEK cur (negative)")
    check(s.ask("WRITE - c1c2c3c4") == "OK 4 - -", "WRITE ending on the last allowed byte")
    check(s.ask("WRITE - d1") == "ERR 1 - -", "WRITE just past the allowed range: refused")
    check(s.ask("SEEK -1 set").startswith("ERR 22 "), "SEEK to a negative position: EINVAL")
    r = s.ask("REOPEN")
    check(r == "OK 0 - -" and s.ask("SEEK 0 cur") == "OK 0 - -", "REOPEN: a fresh device fd, position 0", r)
    for req in ("RECOVER", "ATTACH 1", "DETACH", "RESOURCES", "RESET", "CONFIG 0 0 16384 0 0 0 256 4096 4096 1 0"):
        check(s.ask(req) == "ERR 95 - -", f"{req.split(' ')[0]}: ERR 95")
    check(s.ask(f"PREAD {BAR2} 2 A -") == "ERR 95 0000 -", "PREAD with a fault: ERR 95")
    for req in ("NOPE", "PREAD", "PREAD 1 2 -", "PREAD -1 2 - -", "PREAD 1 2 - 00", "PWRITE 1 - 0", "PWRITE 1 - zz",
                "SEEK 1 end", "INFO x 32", "INFO 1 4294967296", f"PREAD 0 {1 << 40} - -", "WRITE -"):
        check(s.ask(req).startswith("BAD "), f"malformed '{req}': BAD")
    s.send("\n\r\n")
    n_entries = 300 + 1 + 2  # the PWRITEs, the config write, two WRITEs
    n_bytes = sum(len(d) for _, d in accepted) + 16 + 2 + 4
    r = s.ask("JOURNAL")
    check(r == f"OK {n_entries} {n_bytes} -", "JOURNAL: entries and bytes (the empty lines got no answer)", r)
    check(s.ask("REFUSED") == "OK 9 - -", "REFUSED: 7 refused PWRITEs + 2 refused WRITEs")

    # A long line (grows the input buffer) and a last line without a newline at end of input.
    big_data = bytes(random.Random(3).randbytes(0x1000))
    r = s.ask(f"PWRITE {BAR2} - {big_data.hex()}")
    check(r == "OK 4096 - -" and s.device(BAR2, 0x1000) == big_data, "a 4 KiB PWRITE (8 KiB line)", r)
    r = s.ask(f"PWRITE {BAR2} - {'ab' * (3 << 20)}")
    check(r == "ERR 1 - -", "a 3 MiB PWRITE (6 MiB line: the input buffer grows) clamped to BAR2: refused", r[:40])
    r = s.ask(f"PREAD {BAR2} {1 << 20} - -")
    tail = s.device(BAR2, FILE_SIZE - BAR2)
    check(r == f"OK {len(tail)} {(tail + bytes((1 << 20) - len(tail))).hex()} -", "a 1 MiB PREAD up to the end of the file",
          r[:40])
    burst = 20000
    t0 = time.time()
    threading.Thread(target=s.send, args=("".join(f"PREAD {BAR2 + (i * 8) % 4096} {(1, 2, 4, 8)[i % 4]} - -\n"
                                                  for i in range(burst)),)).start()
    answers = [s.line() for _ in range(burst)]
    dt = time.time() - t0
    image = s.device(BAR2, 4096)
    wrong = sum(1 for i, a in enumerate(answers)
                if a != f"OK {(1, 2, 4, 8)[i % 4]} {image[(i * 8) % 4096:(i * 8) % 4096 + (1, 2, 4, 8)[i % 4]].hex()} -")
    check(wrong == 0, f"pipelined burst of {burst} PREADs: all in order and correct", f"{wrong} wrong")
    print(f"# fake device: {burst} pipelined preads in {dt:.3f} s: {burst / dt:.0f} ops/s")
    s.send(f"PWRITE {BAR2 + 0x800} - 5a5b")
    s.close_input()
    rc = s.wait()
    check(rc == 0, "end of input: exit 0", f"exit {rc}")
    check(s.device(BAR2 + 0x800, 2) == b"\x5a\x5b", "a last line without a newline is still served")
    j = s.journal_text().splitlines()
    check(j[:1] == ["ismkit-write-journal 1"] and j[-1:] == [f"E {n_entries + 2}"] and len(j) == n_entries + 4,
          "journal written at end of input, with the trailer", f"{j[:1]} ... {j[-1:]}, {len(j)} lines")
    check(any(l.startswith("P 7 40 16 3") for l in j), "journal: a pattern write becomes a P line")
    ok, out = s.backing_ok()
    check(ok, "check-backing.py: the journal applied over the initial BAR2 gives the final BAR2", out)
    check(s.p.stderr.read() == b"", "nothing on stderr")

    # SIGTERM while waiting for input: journal complete, exit 0.
    s = Session(cmd, tmp)
    check(s.ask(f"PWRITE {BAR2 + 1} - 0102") == "OK 2 - -", "second session: a write")
    s.p.send_signal(signal.SIGTERM)
    rc = s.wait()
    check(rc == 0 and s.journal_text().endswith("\nE 1\n"), "SIGTERM: exit 0, journal written with its trailer",
          f"exit {rc}, journal {s.journal_text()!r}")
    s.p.stdin.close()

    # QUIT, and SIGINT.
    s = Session(cmd, tmp)
    check(s.ask("QUIT") == "OK 0 - -" and s.wait() == 0, "QUIT: OK 0 - -, exit 0")
    check(s.journal_text() == "ismkit-write-journal 1\nE 0\n", "an empty journal after QUIT")
    s = Session(cmd, tmp)
    s.p.send_signal(signal.SIGINT)
    check(s.wait() == 0 and s.journal_text().endswith("E 0\n"), "SIGINT: exit 0, journal written")

    # The answers' reader gone (SIGPIPE): exit 0, journal written.
    s = Session(cmd, tmp)
    check(s.ask(f"PWRITE {BAR2 + 2} - 03") == "OK 1 - -", "third session: a write")
    s.p.stdout.close()
    try:
        s.send("".join(f"PREAD {BAR2} 8 - -\n" for _ in range(200000)))
        s.p.stdin.close()
    except BrokenPipeError:
        pass
    rc = s.wait()
    check(rc == 0 and s.journal_text().endswith("\nE 1\n"), "reader gone (EPIPE): exit 0, journal written",
          f"exit {rc}")

    # Read-only: no --allow-write, every write refused.
    s = Session(cmd, tmp, allow=())
    check(s.ask(f"PWRITE {BAR2} - 01") == "ERR 1 - -" and s.ask("WRITE - 01") == "ERR 1 - -"
          and s.device(0, FILE_SIZE) == s.initial, "read-only by default: every write ERR 1, device unchanged")
    check(s.ask("QUIT") == "OK 0 - -" and s.wait() == 0 and s.journal_text().endswith("E 0\n"), "read-only: empty journal")

    # --port: a serial-like device (a pty in raw mode) instead of stdin/stdout.
    s = Session(cmd, tmp, use_port=True)
    check(s.greeting == f"ISMKIT-WIRE 1 {order} 16 vfio-agent", "--port: greeting on the port", s.greeting)
    check(s.ask(f"PWRITE {BAR2 + 3} - 0f") == "OK 1 - -" and s.ask("QUIT") == "OK 0 - -", "--port: requests")
    check(s.wait() == 0 and s.journal_text().endswith("\nE 1\n"), "--port: exit 0 after QUIT, journal written")

    compact_checks(cmd, tmp)
    from_file_checks(cmd, tmp)
    hang_checks(cmd, tmp)

    # Setup failures after the device is open: one line, exit 2.
    env = dict(os.environ, ISMKIT_AGENT_FAKE_DEVICE=os.path.join(tmp, "device.bin"))
    for name, extra, want in [
        ("an unopenable --port", ["--port", os.path.join(tmp, "no", "port")], "ismkit-agent: cannot open the port "),
        ("an unwritable --journal", ["--journal", os.path.join(tmp, "no", "journal")],
         "ismkit-agent: cannot open the journal "),
    ]:
        r = subprocess.run(cmd + extra + ["0000:00:01.0"], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True)
        check(r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1 and r.stderr.startswith(want)
              and "ENOENT" in r.stderr, f"{name}: exit 2, one line", f"exit {r.returncode}: {r.stderr!r}")

    print(f"fake: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


def hang_checks(cmd, tmp):
    """A pread that hangs in the middle of a pipelined window: the answers before it still come (the
    watchdog writes them out), so the host sees which request hangs: the first one without an answer."""
    for mode in ("text", "compact"):
        hang = BAR2 + 0x30
        s = Session(cmd, tmp, env={"ISMKIT_AGENT_FAKE_HANG": str(hang)})
        offsets = [BAR2 + 8 * i for i in range(10)]  # the 7th (index 6) is the hanging one
        if mode == "text":
            s.send("".join(f"PREAD {o} 4 - -\n" for o in offsets))
            take = lambda: s.line(timeout=3)  # noqa: E731
        else:
            s.ask("COMPACT 1")
            frames = [cf.pread(o, 4) for o in offsets]
            s.send_bytes(b"".join(frames))
            take = lambda: cf.answer(lambda n: s.take(n, timeout=3), frames[0])  # noqa: E731
        got = []
        try:
            while len(got) < 10:
                got.append(take())
        except TimeoutError:
            pass
        s.p.kill()
        s.wait()
        check(len(got) == 6, f"a hanging pread, {mode} window of 10: the 6 answers before it come, none after",
              f"{len(got)} answers")


def from_file_checks(cmd, tmp):
    """Requests from a file on stdin, answers to a file: every answer is written by the end of input."""
    dev = os.path.join(tmp, "device.bin")
    n = 30000
    lines = "".join(f"PREAD {BAR2 + (i * 8) % 4096} {(1, 2, 4, 8)[i % 4]} - -\n" for i in range(n))
    frames = b"COMPACT 1\n" + b"".join(cf.pread(BAR2 + (i * 8) % 4096, (1, 2, 4, 8)[i % 4]) for i in range(n))
    for name, data, want in [("text lines", lines.encode(), None), ("compact frames", frames, None)]:
        src, out = os.path.join(tmp, "requests"), os.path.join(tmp, "answers")
        open(src, "wb").write(data)
        with open(src, "rb") as i, open(out, "wb") as o:
            rc = subprocess.run(cmd + ["0000:00:01.0"], env=dict(os.environ, ISMKIT_AGENT_FAKE_DEVICE=dev), stdin=i, stdout=o,
                                stderr=subprocess.DEVNULL).returncode
        got = open(out, "rb").read()
        image = open(dev, "rb").read()[BAR2:BAR2 + 4096]
        seq = [((i * 8) % 4096, (1, 2, 4, 8)[i % 4]) for i in range(n)]
        if name == "text lines":
            want = "".join(f"OK {w} {image[p:p + w].hex()} -\n" for p, w in seq).encode()
        else:
            want = b"OK 1 - -\n" + b"".join(bytes([cf.OK]) + w.to_bytes(4, "little") + image[p:p + w] for p, w in seq)
        body = got.split(b"\n", 1)[1] if b"\n" in got else b""
        check(rc == 0 and body == want, f"{n} {name} from a file: every answer written by the end of input",
              f"exit {rc}, {len(body)} of {len(want)} bytes")


def compact_checks(cmd, tmp):
    """Compact frames: the same calls, the guard and the journal as text requests; answers in order."""
    s = Session(cmd, tmp)
    check(s.ask("COMPACT 2").startswith("BAD "), "COMPACT 2 (an unknown framing version): BAD, text goes on")
    check(s.ask("COMPACT 1") == "OK 1 - -", "COMPACT 1: OK 1 - -")

    def ask(frame):
        s.send_bytes(frame)
        return cf.answer(s.take, frame)

    want = s.device(BAR2 + 0x10, 8)
    check(ask(cf.pread(BAR2 + 0x10, 8)) == (cf.OK, 8, want), "compact PREAD: the device's bytes")
    check(ask(cf.pread(FILE_SIZE - 2, 4, b"\xaa\xbb\xcc\xdd")) == (cf.OK, 2, s.device(FILE_SIZE - 2, 2) + b"\xcc\xdd"),
          "compact PREAD with an initial buffer, short at the end of the file: the rest of the buffer stays")
    check(ask(cf.pwrite(BAR2 + 0x20, b"\x01\x02\x03")) == (cf.OK, 3, None) and s.device(BAR2 + 0x20, 3) == b"\x01\x02\x03",
          "compact PWRITE inside the list lands")
    before = s.device(BAR2 + 0x1000, 2)
    check(ask(cf.pwrite(BAR2 + 0xfff, b"\x05\x06")) == (cf.ERR, 1, None) and s.device(BAR2 + 0x1000, 2) == before,
          "compact PWRITE straddling the end of the list: ERR EPERM, nothing written")
    check(ask(cf.seek(BAR2 + 0x40)) == (cf.OK, BAR2 + 0x40, None), "compact SEEK set")
    check(ask(cf.read(2)) == (cf.OK, 2, s.device(BAR2 + 0x40, 2)), "compact READ at the position")
    check(ask(cf.write(b"\x77")) == (cf.OK, 1, None) and s.device(BAR2 + 0x42, 1) == b"\x77",
          "compact WRITE at the tracked position lands")
    check(ask(cf.seek(-1, cur=True)) == (cf.OK, BAR2 + 0x42, None), "compact SEEK cur, negative")
    r = ask(cf.info(2, 32))
    check(r[0] == cf.ERR and r[1] in (25, 38) and r[2] == (0, 0, 0), "compact INFO on a non-VFIO fd: the ioctl's errno, zeros",
          f"{r}")
    check(ask(cf.reopen()) == (cf.OK, 0, None) and ask(cf.read(1))[2] == s.device(0, 1), "compact REOPEN: position 0 again")

    # A window of mixed frames in one write, refused writes in the middle: every answer, in order.
    frames, expect = [], []
    image = bytearray(s.device(BAR2, 0x2000))
    rng = random.Random(11)
    for i in range(3000):
        pos = rng.randrange(0, 0x1ff8)
        if i % 3 == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.choice((1, 2, 4, 8))))
            frames.append(cf.pwrite(BAR2 + pos, data))
            ok = pos + len(data) <= 0x1000
            expect.append((cf.OK, len(data), None) if ok else (cf.ERR, 1, None))
            if ok:
                image[pos:pos + len(data)] = data
        else:
            w = rng.choice((1, 2, 4, 8))
            frames.append(cf.pread(BAR2 + pos, w))
            expect.append((cf.OK, w, bytes(image[pos:pos + w])))
    threading.Thread(target=s.send_bytes, args=(b"".join(frames),)).start()
    got = [cf.answer(s.take, f) for f in frames]
    wrong = [i for i in range(len(frames)) if got[i] != expect[i]]
    check(not wrong, "a compact window of 3000 PREAD/PWRITE frames, writes refused mid-window: answers in order",
          f"{len(wrong)} wrong, first #{wrong[0]}: {got[wrong[0]]} != {expect[wrong[0]]}" if wrong else "")
    # Reads from the carry buffer: each starts from what the earlier ones left (and the guard bytes
    # a client arms after its buffer), as one reused client buffer would.
    rng = random.Random(5)
    client = bytearray(rng.randbytes(40))
    frames = [cf.carry(bytes(client))]
    reads = []
    for i in range(400):
        c = rng.choice((1, 2, 4, 8, 13, 24, 40))
        # Some reads run into the end of the file (short: the rest of the buffer stays as it was).
        off = FILE_SIZE - rng.randrange(0, 30) if i % 5 == 0 else BAR2 + rng.randrange(0, 0x100)
        reads.append((off, c))
        frames.append(cf.pread(off, c, carry=True))
    threading.Thread(target=s.send_bytes, args=(b"".join(frames),)).start()
    ok = cf.answer(s.take, frames[0]) == (cf.OK, 0, None)
    wrong = 0
    for (off, c), f in zip(reads, frames[1:]):
        if len(client) < c + 16:
            client.extend(bytes(c + 16 - len(client)))
        client[c:c + 16] = b"\xe7" * 16
        dev = s.device(off, c) if off < FILE_SIZE else b""
        want = dev + bytes(client[len(dev):c])
        got = cf.answer(s.take, f)
        wrong += got != (cf.OK, len(dev), want)
        client[:c] = got[2]
    check(ok and wrong == 0, "compact CARRY and 400 reads from the carry buffer (some short): each starts where the last left off",
          f"{wrong} wrong")
    # A frame that arrives a byte at a time.
    frame = cf.pread(BAR2 + 0x100, 4)
    for b in frame:
        s.send_bytes(bytes([b]))
        time.sleep(0.01)
    check(cf.answer(s.take, frame) == (cf.OK, 4, bytes(image[0x100:0x104])), "a compact frame split over 13 writes")
    s.send_bytes(cf.end())
    check(s.line() == "OK 0 - -", "END: OK 0 - - as text, back to text requests")
    accepted = 1 + 1 + sum(1 for e in expect if e[0] == cf.OK and e[2] is None)
    check(s.ask("REFUSED") == f"OK {1 + sum(1 for e in expect if e[0] == cf.ERR)} - -", "REFUSED counts compact refusals")
    check(s.ask("JOURNAL").startswith(f"OK {accepted} "), "JOURNAL counts compact writes")
    check(s.ask("COMPACT 1") == "OK 1 - -", "COMPACT again")
    s.send_bytes(b"\x42\x00")
    st, _, reason = cf.answer(s.take, b"\x42")
    check(st == cf.BAD and reason == "unknown compact frame", "an unknown frame: BAD and a reason line", reason)
    check(s.ask("REFUSED").startswith("OK "), "after a BAD frame: text requests again")

    # The burst of the VM benchmark, as compact frames.
    burst = 20000
    frames = [cf.pread(BAR2 + (i * 8) % 4096, (1, 2, 4, 8)[i % 4]) for i in range(burst)]
    s.ask("COMPACT 1")
    t0 = time.time()
    threading.Thread(target=s.send_bytes, args=(b"".join(frames),)).start()
    got = [cf.answer(s.take, f) for f in frames]
    dt = time.time() - t0
    img = s.device(BAR2, 4096)
    wrong = sum(1 for i, g in enumerate(got) if g != (cf.OK, (1, 2, 4, 8)[i % 4], img[(i * 8) % 4096:(i * 8) % 4096 + (1, 2, 4, 8)[i % 4]]))
    check(wrong == 0, f"compact burst of {burst} PREADs: all in order and correct", f"{wrong} wrong")
    print(f"# fake device: {burst} compact preads in {dt:.3f} s: {burst / dt:.0f} ops/s")
    s.send_bytes(cf.end())
    check(s.line() == "OK 0 - -" and s.ask("QUIT") == "OK 0 - -" and s.wait() == 0, "compact session: END, QUIT, exit 0")
    j = s.journal_text().splitlines()
    check(j[-1:] == [f"E {accepted}"], "compact session: the journal has every accepted write", f"{j[-1:]}")
    ok, out = s.backing_ok()
    check(ok, "compact session: check-backing.py over the journal", out)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (EOFError, TimeoutError, OSError) as e:
        check(False, f"the agent answered every request ({e!r})")
        print(f"fake: {results['passed']} passed, {results['failed']} failed")
        sys.exit(1)
