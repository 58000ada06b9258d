#!/usr/bin/env python3
"""Splits a VM job's data channel into files: the guest sends each file as
`=== BEGIN NAME` ... `=== END NAME` on a serial port; NAME may contain folders.

usage: vm/split-data.py DATA.txt OUT-FOLDER
"""
import os
import sys

out_dir = sys.argv[2]
cur = None
buf = []
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("=== BEGIN "):
        cur = line[len("=== BEGIN "):].strip()
        buf = []
    elif line.startswith("=== END ") and cur:
        p = os.path.join(out_dir, cur)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, "w").write("".join(buf))
        cur = None
    elif cur is not None:
        buf.append(line)
