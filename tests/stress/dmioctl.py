# SPDX-License-Identifier: GPL-2.0-only
"""Device-mapper ioctls from Python (include/uapi/linux/dm-ioctl.h), without
dmsetup: a process per table load is far too slow in a TCG guest, and the
hostile tests need to send malformed ioctls that libdevmapper never would.

Device nodes are made in /dev/mapper as libdevmapper does without udev
(DM_DISABLE_UDEV=1), so dmsetup and these helpers can be mixed.
"""
import errno
import fcntl
import os
import stat
import struct

DM_NAME_LEN = 128
DM_UUID_LEN = 129
HDR = struct.Struct("<3I I I I i I I I Q 128s 129s 7s")   # struct dm_ioctl, 312 bytes
SPEC = struct.Struct("<Q Q i I 16s")                       # struct dm_target_spec, 40
assert HDR.size == 312 and SPEC.size == 40

VERSION, REMOVE_ALL, LIST_DEVICES, DEV_CREATE, DEV_REMOVE, DEV_RENAME, \
    DEV_SUSPEND, DEV_STATUS, DEV_WAIT, TABLE_LOAD, TABLE_CLEAR, TABLE_DEPS, \
    TABLE_STATUS, LIST_VERSIONS, TARGET_MSG, DEV_SET_GEOMETRY = range(16)

READONLY_FLAG = 1 << 0
SUSPEND_FLAG = 1 << 1
STATUS_TABLE_FLAG = 1 << 4
BUFFER_FULL_FLAG = 1 << 8
NOFLUSH_FLAG = 1 << 11
DATA_OUT_FLAG = 1 << 16


def ioc(nr):
    return (3 << 30) | (HDR.size << 16) | (0xfd << 8) | nr


class DMError(OSError):
    pass


_fd = None


def control():
    global _fd
    if _fd is None:
        _fd = os.open("/dev/mapper/control", os.O_RDWR)
    return _fd


def raw(cmd, name="", flags=0, payload=b"", target_count=0, size=16384,
        dev=0, version=(4, 0, 0), data_size=None, data_start=None, uuid=""):
    """One ioctl; returns (header fields dict, output data bytes). Raises
    DMError with the errno. data_size/data_start may be forged."""
    start = HDR.size if data_start is None else data_start
    total = max(size, HDR.size + len(payload))
    ds = total if data_size is None else data_size
    hdr = HDR.pack(version[0], version[1], version[2], ds, start, target_count,
                   0, flags, 0, 0, dev, name.encode()[:DM_NAME_LEN - 1],
                   uuid.encode()[:DM_UUID_LEN - 1], b"")
    buf = bytearray(total)
    buf[:HDR.size] = hdr
    buf[HDR.size:HDR.size + len(payload)] = payload
    try:
        fcntl.ioctl(control(), ioc(cmd), buf, True)
    except OSError as e:
        raise DMError(e.errno, "dm ioctl %d on %r: %s" % (cmd, name, os.strerror(e.errno)))
    f = HDR.unpack_from(buf)
    out = {"version": f[0:3], "data_size": f[3], "data_start": f[4],
           "target_count": f[5], "open_count": f[6], "flags": f[7],
           "event_nr": f[8], "dev": f[10]}
    return out, bytes(buf[out["data_start"]:out["data_size"]])


def decode_dev(dev):
    return (dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00)


def table_payload(targets):
    """targets: [(start, length, type, params)] -> bytes for TABLE_LOAD."""
    out = b""
    for start, length, ttype, params in targets:
        p = params.encode() + b"\0"
        ln = SPEC.size + len(p)
        ln = (ln + 7) & ~7
        spec = SPEC.pack(start, length, 0, ln, ttype.encode()[:15])
        out += (spec + p).ljust(ln, b"\0")
    return out


def mknode(name, dev):
    path = "/dev/mapper/" + name
    major, minor = decode_dev(dev)
    try:
        st = os.stat(path)
        if stat.S_ISBLK(st.st_mode) and st.st_rdev == os.makedev(major, minor):
            return path
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.mknod(path, 0o600 | stat.S_IFBLK, os.makedev(major, minor))
    return path


def rmnode(name):
    try:
        os.unlink("/dev/mapper/" + name)
    except FileNotFoundError:
        pass


def create(name, targets, readonly=False):
    """Create NAME with TARGETS (list of tuples, or one table line string
    'start len type params') and resume it. On failure nothing is left."""
    if isinstance(targets, str):
        targets = [parse_line(targets)]
    h, _ = raw(DEV_CREATE, name)
    try:
        raw(TABLE_LOAD, name, READONLY_FLAG if readonly else 0,
            table_payload(targets), len(targets))
        h, _ = raw(DEV_SUSPEND, name)      # no SUSPEND_FLAG: resume
    except DMError:
        try:
            raw(DEV_REMOVE, name)
        except DMError:
            pass
        raise
    return mknode(name, h["dev"])


def parse_line(line):
    parts = line.split(None, 3)
    return (int(parts[0]), int(parts[1]), parts[2], parts[3] if len(parts) > 3 else "")


def load(name, targets, readonly=False):
    if isinstance(targets, str):
        targets = [parse_line(targets)]
    raw(TABLE_LOAD, name, READONLY_FLAG if readonly else 0,
        table_payload(targets), len(targets))


def suspend(name, noflush=False):
    raw(DEV_SUSPEND, name, SUSPEND_FLAG | (NOFLUSH_FLAG if noflush else 0))


def resume(name):
    raw(DEV_SUSPEND, name)


def remove(name, missing_ok=False):
    try:
        raw(DEV_REMOVE, name)
    except DMError as e:
        if not (missing_ok and e.errno == errno.ENXIO):
            raise
    rmnode(name)


def exists(name):
    try:
        raw(DEV_STATUS, name)
        return True
    except DMError:
        return False


def _specs(h, data):
    out = []
    off = 0
    for _ in range(h["target_count"]):
        start, length, status, nxt, ttype = SPEC.unpack_from(data, off)
        s = data[off + SPEC.size:].split(b"\0", 1)[0].decode(errors="replace")
        out.append((start, length, ttype.split(b"\0")[0].decode(), s))
        if not nxt:
            break
        off = nxt if nxt > off else off + nxt
    return out


def status(name, table=False, noflush=False):
    """The status (or table) line of the first target, as dmsetup prints
    it without the start/length/type prefix."""
    flags = (STATUS_TABLE_FLAG if table else 0) | (NOFLUSH_FLAG if noflush else 0)
    h, data = raw(TABLE_STATUS, name, flags)
    specs = _specs(h, data)
    return specs[0][3] if specs else ""


def message(name, msg, sector=0):
    """Send a target message; returns the reply text (may be empty)."""
    payload = struct.pack("<Q", sector) + msg.encode() + b"\0"
    h, data = raw(TARGET_MSG, name, 0, payload)
    if h["flags"] & DATA_OUT_FLAG:
        return data.split(b"\0", 1)[0].decode(errors="replace")
    return ""


def list_devices():
    h, data = raw(LIST_DEVICES, "", size=65536)
    names = []
    off = 0
    while off + 12 <= len(data):
        dev, nxt = struct.unpack_from("<QI", data, off)
        name = data[off + 12:].split(b"\0", 1)[0].decode()
        if name:
            names.append(name)
        if not nxt:
            break
        off += nxt
    return names
