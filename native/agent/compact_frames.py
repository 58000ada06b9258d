"""Compact frames of ismkit-agent (native/agent/README.md, "Compact frames"), for the Python tests and
the VM job's host client: request encoders and an answer reader."""
import struct

END, PREAD, PWRITE, READ, WRITE, SEEK, INFO, REOPEN, CARRY = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
INIT, FROM = 0x80, 0x40
OK, ERR, BAD = 0, 1, 2


def pread(offset, count, init=None, carry=False):
    if carry:
        return struct.pack("<BQI", PREAD | FROM, offset, count)
    if init is None:
        return struct.pack("<BQI", PREAD, offset, count)
    assert len(init) == count
    return struct.pack("<BQI", PREAD | INIT, offset, count) + init


def read(count, init=None, carry=False):
    if carry:
        return struct.pack("<BI", READ | FROM, count)
    if init is None:
        return struct.pack("<BI", READ, count)
    return struct.pack("<BI", READ | INIT, count) + init


def pwrite(offset, data):
    return struct.pack("<BQI", PWRITE, offset, len(data)) + data


def write(data):
    return struct.pack("<BI", WRITE, len(data)) + data


def seek(offset, cur=False):
    return struct.pack("<BqB", SEEK, offset, 1 if cur else 0)


def info(index, argsz):
    return struct.pack("<BII", INFO, index, argsz)


def carry(data):
    return struct.pack("<BI", CARRY, len(data)) + data


def reopen():
    return bytes([REOPEN])


def end():
    return bytes([END])


def answer(take, frame):
    """Reads the answer to `frame` with take(n) -> exactly n bytes. Returns (status, value, data):
    data is the buffer for PREAD/READ, (offset, size, flags) for INFO, the reason line for BAD."""
    status = take(1)[0]
    if status == BAD:
        line = b""
        while not line.endswith(b"\n"):
            line += take(1)
        return BAD, 0, line[:-1].decode("ascii", "replace")
    op = frame[0] & ~(INIT | FROM) & 0xFF
    if op == SEEK:
        return status, struct.unpack("<Q", take(8))[0], None
    value = struct.unpack("<I", take(4))[0]
    if op in (PREAD, READ):
        count = struct.unpack("<I", frame[9:13] if op == PREAD else frame[1:5])[0]
        return status, value, take(count)
    if op == INFO:
        return status, value, struct.unpack("<QQI", take(20))
    return status, value, None
