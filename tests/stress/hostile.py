#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Hostile input to the pool and thin targets, from userspace.

  hostile.py tables --live-pool P --live-meta M --scratch-meta M2 --data D
                    [--count N] [--seed S]
      Random and malformed pool and thin table lines (argument counts,
      numbers, device paths that loop back into the pool, feature groups),
      random and malformed messages to a live pool, and raw DM ioctls with
      forged sizes and offsets. Each must succeed or fail cleanly; a refused
      pool table must leave its metadata device unchanged; the kernel log
      must stay free of oopses and warnings; the live pool must still work.

  hostile.py modload --load CMD --unload CMD --meta M --data D [--cycles N]
      N cycles of: load the module, activate a pool on existing metadata,
      a thin, write and read back, tear down, unload. Slab caches are
      compared between an early and the last cycle: growth of one object
      per cycle in any cache is a leak.
"""
import argparse
import collections
import errno
import mmap
import os
import random
import re
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dmioctl as dm  # noqa: E402

POOL_TARGET = os.environ.get("POOL_TARGET", "ctpool")
THIN_TARGET = os.environ.get("THIN_TARGET", "ctthin")
BAD = re.compile(r"(^|[^A-Za-z0-9_])(BUG|WARNING)([^A-Za-z0-9_]|$)|Oops|general protection|"
                 r"Call Trace|hung_task|blocked for more than|UBSAN|list_add corruption")
BLKFLSBUF = 0x1261


def kmsg_reader():
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    os.lseek(fd, 0, os.SEEK_END)

    def read():
        out = []
        while True:
            try:
                rec = os.read(fd, 8192)
            except BlockingIOError:
                return out
            except OSError as e:
                if e.errno == errno.EPIPE:
                    continue
                raise
            out.append(rec.decode(errors="replace").split(";", 1)[-1].split("\n")[0])
    return read


def md5_dev(path, n):
    import fcntl
    import hashlib
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.ioctl(fd, BLKFLSBUF)
        return hashlib.md5(os.pread(fd, n, 0)).hexdigest()
    finally:
        os.close(fd)


class Hostile:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.kmsg = kmsg_reader()
        self.failures = 0
        self.stats = collections.Counter()
        self.data_len = self.size(a.data) // 128 * 128

    @staticmethod
    def size(path):
        fd = os.open(path, os.O_RDONLY)
        try:
            return os.lseek(fd, 0, os.SEEK_END) // 512
        finally:
            os.close(fd)

    def fail(self, msg):
        self.failures += 1
        if self.failures <= 30:
            print("FAIL: " + msg, flush=True)

    # -- generators ---------------------------------------------------------
    def number(self):
        r = self.rng
        return r.choice([
            "0", "1", "127", "128", "129", "255", "256", "1024", "65536",
            "2097152", "2097280", "4194304", str(r.randrange(1 << 16)),
            str(1 << 24), str((1 << 24) - 1), str((1 << 32) - 1), str(1 << 32),
            str((1 << 63) - 1), str(1 << 63), str((1 << 64) - 1), str(1 << 64),
            "99999999999999999999999", "-1", "-0", "+128", "0x80", "1e3", "128k",
            " 128", "", "1.5", "０", "\\x31", "12\\ 8", "007", "128\n"])

    def devpath(self):
        r = self.rng
        a = self.a
        return r.choice([
            a.scratch_meta, a.data, a.live_meta, "/dev/mapper/" + a.live_pool,
            "/dev/mapper/hx-thin", "/dev/null", "/dev/zero", "/nonexistent",
            "253:0", "253:999", "0:0", "7:0", "", "/dev/mapper/control",
            "/dev/mapper/hx-pool", "/proc/self/fd/0", "x" * 300,
            a.scratch_meta + "/", "/dev/../dev/vda"])

    def feature(self):
        return self.rng.choice([
            "skip_block_zeroing", "ignore_discard", "no_discard_passdown",
            "read_only", "error_if_no_space", "SKIP_BLOCK_ZEROING", "Read_Only",
            "bogus", "", "skip_block_zeroing\0x", "error_if_no_space=1"])

    def pool_args(self):
        r = self.rng
        a = self.a
        meta = a.scratch_meta if r.random() < 0.7 else self.devpath()
        data = a.data if r.random() < 0.7 else self.devpath()
        bs = "128" if r.random() < 0.5 else self.number()
        lw = "0" if r.random() < 0.6 else self.number()
        args = [meta, data, bs, lw]
        nf = r.choice([0, 0, 1, 2, 3, 4, 5, 6])
        feats = [self.feature() for _ in range(nf)]
        cnt = str(nf) if r.random() < 0.7 else self.number()
        if r.random() < 0.85:
            args += [cnt] + feats
        # structural damage
        x = r.random()
        if x < 0.1:
            args = args[:r.randrange(len(args))]
        elif x < 0.2:
            args += [self.number() for _ in range(r.randint(1, 5))]
        elif x < 0.25:
            r.shuffle(args)
        return " ".join(args)

    def thin_args(self):
        r = self.rng
        pool = "/dev/mapper/" + self.a.live_pool if r.random() < 0.7 else self.devpath()
        dev = r.choice(["1", "2", "3"]) if r.random() < 0.5 else self.number()
        args = [pool, dev]
        if r.random() < 0.3:
            args.append(self.devpath())
        if r.random() < 0.1:
            args += [self.number() for _ in range(r.randint(1, 3))]
        if r.random() < 0.1:
            args = args[:r.randrange(len(args))]
        return " ".join(args)

    def message(self):
        r = self.rng
        words = ["create_thin", "create_snap", "delete", "set_transaction_id",
                 "reserve_metadata_snap", "release_metadata_snap", "Create_Thin",
                 "trim", "@cancel_deferred_messages", "", "x" * 5000, "\xff\xfe"]
        w = r.choice(words)
        n = r.choice([0, 1, 1, 2, 2, 3, 5])
        args = [self.number() if r.random() < 0.6 else r.choice(["1", "2", "3", "50"])
                for _ in range(n)]
        return " ".join([w] + args)

    def length(self):
        r = self.rng
        return r.choice([self.data_len, self.data_len, self.data_len + 128, 128, 1,
                         self.data_len - 1, (1 << 40), (1 << 63) - 1 - 0, 0])

    # -- runs ---------------------------------------------------------------
    def try_table(self, ttype, args, length, meta_guard):
        name = "hx-pool" if ttype == POOL_TARGET else "hx-thin"
        before = md5_dev(self.a.scratch_meta, 1 << 20) if meta_guard else None
        self.kmsg()
        try:
            dm.create(name, [(0, length, ttype, args)])
        except dm.DMError as e:
            self.stats[ttype + " refused"] += 1
            if meta_guard and md5_dev(self.a.scratch_meta, 1 << 20) != before:
                self.fail("refused %s table %r changed the metadata device" % (ttype, args))
        except (ValueError, OverflowError, struct.error):
            self.stats["unencodable"] += 1
        else:
            self.stats[ttype + " accepted"] += 1
            try:
                if ttype == POOL_TARGET:
                    dm.status(name)
                    for _ in range(3):
                        try:
                            dm.message(name, self.message())
                        except dm.DMError:
                            pass
                else:
                    fd = os.open("/dev/mapper/" + name, os.O_RDONLY | os.O_DIRECT)
                    buf = mmap.mmap(-1, 65536)
                    try:
                        os.preadv(fd, [buf], 0)
                    except OSError:
                        pass
                    os.close(fd)
            finally:
                try:
                    dm.remove(name)
                except dm.DMError as e:
                    self.fail("cannot remove accepted %s table %r: %s" % (ttype, args, e))
            if ttype == POOL_TARGET:
                # It may have formatted the scratch metadata: restore it.
                self.a.restore()
        bad = [l for l in self.kmsg() if BAD.search(l)]
        if bad:
            self.fail("%s table %r: kernel log: %s" % (ttype, args, " | ".join(bad[:4])))

    def try_message(self):
        msg = self.message()
        self.kmsg()
        try:
            dm.message(self.a.live_pool, msg)
            self.stats["message accepted"] += 1
        except dm.DMError:
            self.stats["message refused"] += 1
        except ValueError:
            return
        bad = [l for l in self.kmsg() if BAD.search(l)]
        if bad:
            self.fail("message %r: kernel log: %s" % (msg, " | ".join(bad[:4])))

    def try_raw_ioctl(self):
        """Forged dm_ioctl headers against the live pool: sizes, offsets,
        target counts that lie, unterminated strings, bad next pointers."""
        r = self.rng
        cmd = r.choice([dm.TABLE_LOAD, dm.TARGET_MSG, dm.TABLE_STATUS, dm.DEV_STATUS,
                        dm.TABLE_DEPS, dm.LIST_VERSIONS, dm.DEV_SUSPEND])
        name = r.choice([self.a.live_pool, "hx-raw", "", "x" * 127])
        payload = bytearray(r.randbytes(r.choice([0, 8, 40, 100, 1000])))
        if cmd == dm.TABLE_LOAD and r.random() < 0.7:
            spec = dm.SPEC.pack(0, self.length(), 0, r.choice([0, 8, 48, 1 << 31, 0xffffffff]),
                                r.choice([POOL_TARGET, THIN_TARGET]).encode())
            payload = bytearray(spec + self.pool_args().encode()[:r.randrange(1, 300)])
            if r.random() < 0.5:
                payload += b"\0"
        if cmd == dm.TARGET_MSG and r.random() < 0.7:
            payload = bytearray(struct.pack("<Q", r.choice([0, 1, 1 << 63])) +
                                self.message().encode()[:r.randrange(0, 200)])
        kw = {}
        x = r.random()
        if x < 0.3:
            # Never more than the buffer: the kernel would read past it.
            kw["data_size"] = r.choice([0, 100, 311, 312, 313, 4096, 16384])
        elif x < 0.6:
            kw["data_start"] = r.choice([0, 1, 311, 313, 4000, 16383, 16384, 0xffffffff])
        flags = r.choice([0, 0, dm.SUSPEND_FLAG, dm.NOFLUSH_FLAG, dm.STATUS_TABLE_FLAG,
                          0xffffffff & ~dm.SUSPEND_FLAG])
        if cmd == dm.DEV_SUSPEND:
            flags &= ~dm.SUSPEND_FLAG      # only ever resume the live pool
        tc = r.choice([0, 1, 1, 2, 1000, 0xffffffff])
        self.kmsg()
        try:
            dm.raw(cmd, name, flags, bytes(payload), tc, **kw)
            self.stats["raw ioctl accepted"] += 1
        except dm.DMError:
            self.stats["raw ioctl refused"] += 1
        except (ValueError, OverflowError, struct.error):
            return
        if cmd == dm.TABLE_LOAD:
            # Drop any inactive table left behind.
            try:
                dm.raw(dm.TABLE_CLEAR, name)
            except dm.DMError:
                pass
        bad = [l for l in self.kmsg() if BAD.search(l)]
        if bad:
            self.fail("raw ioctl %d on %r: kernel log: %s" % (cmd, name, " | ".join(bad[:4])))

    def run_tables(self):
        t0 = time.time()
        for i in range(self.a.count):
            x = self.rng.random()
            if x < 0.35:
                self.try_table(POOL_TARGET, self.pool_args(), self.length(), True)
            elif x < 0.6:
                self.try_table(THIN_TARGET, self.thin_args(), self.length(), False)
            elif x < 0.85:
                self.try_message()
            else:
                self.try_raw_ioctl()
            if self.a.budget and time.time() - t0 > self.a.budget:
                print("# time budget used up after %d inputs" % (i + 1))
                break
        print("# %s" % ", ".join("%s %d" % kv for kv in sorted(self.stats.items())))
        print("# hostile inputs: %d in %.0fs, failures %d"
              % (sum(self.stats.values()), time.time() - t0, self.failures))
        return 1 if self.failures else 0


def slabs():
    out = {}
    with open("/proc/slabinfo") as f:
        for line in f:
            p = line.split()
            if len(p) > 2 and not line.startswith(("slabinfo", "#")):
                out[p[0]] = int(p[1])
    return out


def modload(a):
    kmsg = kmsg_reader()
    meta, data = a.meta, a.data
    dlen = Hostile.size(data) // 128 * 128
    pat = mmap.mmap(-1, 1 << 20)
    pat[:] = random.Random(7).randbytes(1 << 20)
    buf = mmap.mmap(-1, 1 << 20)
    failures = 0
    early = None
    t0 = time.time()
    # Control: load/unload alone. Loading a module leaves kernfs/sysfs
    # objects behind in kmalloc caches by itself (dm-thin-pool too); that
    # rate is subtracted from the one measured with a pool in use.
    ctl_early = ctl_late = {}
    for c in range(1, a.control + 1):
        for cmd in (a.load, a.unload):
            r = subprocess.run(cmd, shell=True, stderr=subprocess.PIPE, text=True)
            if r.returncode:
                print("FAIL: control cycle %d: %s: %s" % (c, cmd, r.stderr.strip()))
                return 1
        if c == a.control // 5 or c == a.control:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3")
            if c == a.control:
                ctl_late = slabs()
            else:
                ctl_early = slabs()
    ctl_n = a.control - a.control // 5
    for c in range(1, a.cycles + 1):
        r = subprocess.run(a.load, shell=True, stderr=subprocess.PIPE, text=True)
        if r.returncode:
            print("FAIL: cycle %d: load: %s" % (c, r.stderr.strip()))
            return 1
        try:
            dm.create("hm-pool", "0 %d %s %s %s 128 0 0" % (dlen, POOL_TARGET, meta, data))
            if c == 1:
                dm.message("hm-pool", "create_thin 1")
            dm.create("hm-thin", "0 65536 %s /dev/mapper/hm-pool 1" % THIN_TARGET)
            fd = os.open("/dev/mapper/hm-thin", os.O_RDWR | os.O_DIRECT)
            off = (c % 16) << 20
            os.pwritev(fd, [pat], off)
            os.fsync(fd)
            os.preadv(fd, [buf], off)
            os.close(fd)
            if buf[:] != pat[:]:
                print("FAIL: cycle %d: data read back differs" % c)
                failures += 1
            if c % 10 == 0:
                dm.message("hm-pool", "create_snap %d 1" % (100 + c))
                dm.message("hm-pool", "delete %d" % (100 + c))
            dm.status("hm-pool")
        except (dm.DMError, OSError) as e:
            print("FAIL: cycle %d: %s" % (c, e))
            failures += 1
        finally:
            for n in ("hm-thin", "hm-pool"):
                if dm.exists(n):
                    try:
                        dm.remove(n)
                    except dm.DMError as e:
                        print("FAIL: cycle %d: remove %s: %s" % (c, n, e))
                        failures += 1
        r = subprocess.run(a.unload, shell=True, stderr=subprocess.PIPE, text=True)
        if r.returncode:
            print("FAIL: cycle %d: unload: %s" % (c, r.stderr.strip()))
            return 1
        bad = [l for l in kmsg() if BAD.search(l) or "still has objects" in l]
        if bad:
            print("FAIL: cycle %d: kernel log: %s" % (c, " | ".join(bad[:4])))
            failures += 1
        if c == a.warmup:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3")
            early = slabs()
        if failures:
            break
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3")
    late = slabs()
    n = a.cycles - a.warmup
    # Only caches where a block-layer module's objects can land: kmalloc,
    # bio/biovec, dm and bufio, and the module's own. VFS caches (dentry,
    # kernfs_*) and ACPI's grow by themselves in this guest, with dm-thin too.
    mine = re.compile(r"^(kmalloc-|kmalloc-rcl-|bio|biovec|dm|bufio|ctpool|thin|blkdev|"
                      r"request|kcopyd|io$|pd_)")
    def excess(k, v):
        """Growth over the n test cycles beyond the control's rate."""
        rate = (ctl_late.get(k, 0) - ctl_early.get(k, 0)) / ctl_n if ctl_n > 0 else 0
        return late.get(k, 0) - v - max(rate, 0) * n
    # Half an object per cycle beyond the control, in a cache a block
    # driver's objects can be in, is a leak.
    grew = sorted(((excess(k, v), k) for k, v in (early or {}).items()
                   if mine.search(k) and excess(k, v) >= n / 2), reverse=True)
    noise = sorted(((late.get(k, 0) - v, k) for k, v in (early or {}).items()
                    if not mine.search(k) and late.get(k, 0) - v >= n), reverse=True)
    top = sorted(((excess(k, v), k) for k, v in (early or {}).items()
                  if mine.search(k)), reverse=True)[:4]
    print("# largest growth beyond the %d control cycles: %s"
          % (a.control, ", ".join("%s %+.0f" % (k, d) for d, k in top)))
    for d, k in noise[:5]:
        print("# (not counted) slab %s grew by %d" % (k, d))
    print("# %d load/unload cycles in %.0fs; slab caches compared over the last %d"
          % (a.cycles, time.time() - t0, n))
    for d, k in grew[:10]:
        print("# slab %s grew by %d objects (%d -> %d), %.0f beyond the control's rate"
              % (k, late.get(k, 0) - early[k], early[k], late.get(k, 0), d))
    if grew:
        print("FAIL: slab caches grew by half an object per cycle or more: %s"
              % ", ".join(k for _, k in grew[:10]))
        failures += 1
    return 1 if failures else 0


def main():
    p = argparse.ArgumentParser()
    sp = p.add_subparsers(dest="cmd", required=True)
    t = sp.add_parser("tables")
    t.add_argument("--live-pool", required=True)
    t.add_argument("--live-meta", required=True)
    t.add_argument("--scratch-meta", required=True)
    t.add_argument("--image", required=True, help="valid metadata to keep on scratch-meta")
    t.add_argument("--data", required=True)
    t.add_argument("--count", type=int, default=400)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--budget", type=float, default=0)
    m = sp.add_parser("modload")
    m.add_argument("--load", required=True)
    m.add_argument("--unload", required=True)
    m.add_argument("--meta", required=True)
    m.add_argument("--data", required=True)
    m.add_argument("--cycles", type=int, default=100)
    m.add_argument("--warmup", type=int, default=20)
    m.add_argument("--control", type=int, default=50)
    a = p.parse_args()
    if a.cmd == "modload":
        return modload(a)
    image = open(a.image, "rb").read()

    def restore():
        fd = os.open(a.scratch_meta, os.O_RDWR)
        os.pwrite(fd, image, 0)
        os.fsync(fd)
        os.close(fd)
    a.restore = restore
    restore()
    return Hostile(a).run_tables()


if __name__ == "__main__":
    sys.exit(main())
