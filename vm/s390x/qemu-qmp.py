#!/usr/bin/env python3
"""Waits for a guest of the s390x VM job to finish, then asks QEMU (over QMP) what it knows.

usage: qemu-qmp.py CONSOLE_FILE QMP_SOCKET QEMU_PID TIMEOUT_S OUT_FILE

Returns when the console shows "RESULT done" and the guest has powered off (QEMU runs with
-no-shutdown, so it stays paused), when QEMU exits, or after TIMEOUT_S. If QEMU is still there
it writes `info status` and `info network` (the NIC's current MAC) to OUT_FILE and quits QEMU.
Exit 0 when the guest finished, 1 on a time-out or when QEMU died early.
"""
import json
import os
import socket
import sys
import time

console, sock_path, pid, timeout, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]


def alive():
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def done():
    try:
        with open(console, "rb") as f:
            return b"RESULT done" in f.read()
    except OSError:
        return False


def qmp():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sock_path)
    f = s.makefile("rwb")
    f.readline()  # greeting

    def cmd(obj):
        f.write((json.dumps(obj) + "\n").encode())
        f.flush()
        while True:
            line = json.loads(f.readline())
            if "return" in line or "error" in line:
                return line

    cmd({"execute": "qmp_capabilities"})
    return s, f, cmd


deadline = time.time() + timeout
finished = False
while time.time() < deadline and alive():
    if done():
        finished = True
        break
    time.sleep(0.5)
status = "unknown"
with open(out, "w") as o:
    if alive() and os.path.exists(sock_path):
        try:
            s, f, cmd = qmp()
            # Wait (briefly) for the guest's power-off to pause the VM.
            for _ in range(20):
                st = cmd({"execute": "query-status"}).get("return", {})
                status = st.get("status", "unknown")
                if not finished or status != "running":
                    break
                time.sleep(0.5)
            o.write(f"status {status}\n")
            net = cmd({"execute": "human-monitor-command", "arguments": {"command-line": "info network"}})
            o.write(net.get("return", "") if isinstance(net.get("return"), str) else json.dumps(net))
            try:
                cmd({"execute": "quit"})
            except Exception:
                pass
        except Exception as e:  # QEMU went away meanwhile
            o.write(f"qmp error {e}\n")
if not finished:
    # Time-out: make sure QEMU goes away.
    try:
        os.kill(pid, 9)
    except OSError:
        pass
sys.exit(0 if finished else 1)
