#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Open corrupted metadata images with the pool target, many in one boot.

  corrupt-probe.py --meta DEV --data DEV --base IMG [--base IMG2...]
                   --count N [--seed S]

For each image (scripts/corrupt-meta.py damages one of the bases) the image
is written to META and a pool table is loaded on it. Passing outcomes:
  refused   the table load fails, the kernel log says why, and the metadata
            device is byte-for-byte unchanged;
  ro        the pool comes up read-only / needs_check (or in fail mode);
  rw        the pool comes up read-write (the damage was not visible yet).
The opened pools are then used: thins activated, read, written and flushed,
messages sent, everything removed. At no point may the kernel log show an
oops, a BUG, a WARNING or a hung task, and no probe may take more than
--slow seconds. Some damage has a fixed expected outcome (e.g. an incompat
flag or a bad magic must be refused; needs_check must come up read-only).
"""
import argparse
import collections
import errno
import importlib.util
import mmap
import os
import random
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dmioctl as dm  # noqa: E402

spec = importlib.util.spec_from_file_location(
    "corrupt_meta", os.path.join(HERE, "..", "..", "scripts", "corrupt-meta.py"))
cm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cm)

POOL_TARGET = os.environ.get("POOL_TARGET", "ctpool")
THIN_TARGET = os.environ.get("THIN_TARGET", "ctthin")
BLKFLSBUF = 0x1261
BAD = re.compile(r"(^|[^A-Za-z0-9_])(BUG|WARNING)([^A-Za-z0-9_]|$)|Oops|general protection|"
                 r"Call Trace|hung_task|blocked for more than|UBSAN|KASAN|list_add corruption")


# Messages sent to every pool that comes up. CORRUPT_SKIP_MSGS drops some:
# the kernel's own dm-thin hits BUG_ON(!inc) in __reserve_metadata_snap on
# metadata with damaged reference counts, so its reference run skips that one.
MESSAGES = [m for m in ("create_thin 99", "create_snap 100 1", "delete 99",
                        "set_transaction_id 5 6", "reserve_metadata_snap",
                        "release_metadata_snap")
            if m.split()[0] not in os.environ.get("CORRUPT_SKIP_MSGS", "").split(",")]


class Kmsg:
    """New kernel log lines since the last call."""

    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)

    def read(self):
        out = []
        while True:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.EPIPE:      # overwritten records
                    continue
                raise
            if not rec:
                break
            line = rec.decode(errors="replace").split(";", 1)[-1].split("\n", 1)[0]
            out.append(line)
        return out


def expected(kind, what):
    """'refused', 'ro', or None (any passing outcome)."""
    if kind == "needs-check":
        return "ro"
    if kind == "sb-field":
        if re.search(r"superblock (magic|incompat_flags|compat_ro_flags|data_block_size) set", what):
            return "refused"
    # (A zeroed superblock is an unformatted device: the pool formats it.)
    # Match the damaged block only, not "claims to be block 0" in the text.
    if kind in ("csum", "flip", "blocknr") and re.search(r"(^|\bin |\bon )block 0 ", what):
        return "refused"          # the superblock itself is unreadable
    return None


class Prober:
    def __init__(self, a):
        self.a = a
        self.meta_len = os.open(a.meta, os.O_RDONLY)
        self.meta_size = os.lseek(self.meta_len, 0, os.SEEK_END)
        os.close(self.meta_len)
        fd = os.open(a.data, os.O_RDONLY)
        self.data_sectors = os.lseek(fd, 0, os.SEEK_END) // 512 // 128 * 128
        os.close(fd)
        self.k = Kmsg()
        self.buf = mmap.mmap(-1, 1 << 20)
        self.wbuf = mmap.mmap(-1, 65536)
        self.wbuf[:] = b"\xa5" * 65536
        self.failures = 0
        self.outcomes = collections.Counter()
        self.by_kind = collections.defaultdict(collections.Counter)
        self.slowest = (0, "")

    def fail(self, name, what, msg):
        self.failures += 1
        if self.failures <= 40:
            print("FAIL %s (%s): %s" % (name, what, msg), flush=True)

    def write_meta(self, img):
        fd = os.open(self.a.meta, os.O_RDWR)
        try:
            data = img.ljust(self.meta_size, b"\0")[:self.meta_size]
            os.pwrite(fd, data, 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        return data

    def read_meta(self):
        fd = os.open(self.a.meta, os.O_RDONLY)
        try:
            import fcntl
            fcntl.ioctl(fd, BLKFLSBUF)
            return os.pread(fd, self.meta_size, 0)
        finally:
            os.close(fd)

    def use_pool(self, name, what):
        """Activate thins, read, write, flush, message: must not crash."""
        opened = []
        try:
            for d in (1, 3):
                n = "cp-t%d" % d
                try:
                    dm.create(n, "0 131072 %s /dev/mapper/cp-pool %d" % (THIN_TARGET, d))
                    opened.append(n)
                except dm.DMError:
                    continue
                fd = os.open("/dev/mapper/" + n, os.O_RDWR | os.O_DIRECT)
                try:
                    for off in (0, 40 << 20):
                        try:
                            os.preadv(fd, [self.buf], off)
                        except OSError:
                            pass
                    try:
                        os.pwritev(fd, [self.wbuf], 1 << 20)
                        os.pwritev(fd, [self.wbuf], (63 << 20) - 4096)
                        os.fsync(fd)
                    except OSError:
                        pass
                finally:
                    os.close(fd)
            for msg in MESSAGES:
                try:
                    dm.message("cp-pool", msg)
                except dm.DMError:
                    pass
            dm.status("cp-pool")
        finally:
            for n in opened:
                try:
                    dm.remove(n)
                except dm.DMError as e:
                    self.fail(name, what, "thin remove: %s" % e)

    def probe(self, i, img, kind, what):
        name = "image %d (%s)" % (i, kind)
        t0 = time.time()
        self.k.read()
        before = self.write_meta(img)
        table = "0 %d %s %s %s 128 0 1 error_if_no_space" % (
            self.data_sectors, POOL_TARGET, self.a.meta, self.a.data)
        try:
            dm.create("cp-pool", table)
        except dm.DMError as e:
            outcome = "refused"
            log = self.k.read()
            tag = POOL_TARGET + ": "
            if not any(tag in l and "nknown error" not in l for l in log):
                self.fail(name, what, "refused (%s) without a reason in the kernel log" % e)
            if self.read_meta() != before:
                self.fail(name, what, "the refused table changed the metadata device")
        else:
            st = dm.status("cp-pool").split()
            if st and st[0] == "Fail":
                outcome = "fail"
            elif len(st) >= 8 and (st[4] != "rw" or st[7] != "-"):
                outcome = "ro"
            else:
                outcome = "rw"
            try:
                self.use_pool(name, what)
            finally:
                try:
                    dm.remove("cp-pool")
                except dm.DMError as e:
                    self.fail(name, what, "pool remove: %s" % e)
            log = self.k.read()
        want = expected(kind, what)
        if want == "refused" and outcome != "refused":
            self.fail(name, what, "expected the table to be refused, pool came up %s" % outcome)
        if want == "ro" and outcome not in ("ro", "refused"):
            self.fail(name, what, "expected read-only/needs_check, pool came up %s" % outcome)
        bad = [l for l in log if BAD.search(l)]
        if bad:
            self.fail(name, what, "kernel log: " + " | ".join(bad[:5]))
        dt = time.time() - t0
        if dt > self.slowest[0]:
            self.slowest = (dt, name)
        if dt > self.a.slow:
            self.fail(name, what, "took %.1fs" % dt)
        self.outcomes[outcome] += 1
        self.by_kind[kind][outcome] += 1
        if self.a.verbose:
            print("# %s %s: %s (%.2fs)" % (name, what, outcome, dt), flush=True)
        elif i >= 0:      # progress: where it was if the guest dies
            print("%d:%s:%s" % (i, kind, outcome), end="\n" if i % 8 == 7 else " ", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--meta", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--base", action="append", required=True)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--slow", type=float, default=30)
    p.add_argument("--budget", type=float, default=0,
                   help="stop starting new images after this many seconds")
    p.add_argument("--verbose", action="store_true",
                   default=bool(os.environ.get("CORRUPT_VERBOSE")))
    a = p.parse_args()
    bases = [open(b, "rb").read() for b in a.base]
    rng = random.Random(a.seed)
    pr = Prober(a)
    t0 = time.time()
    # The undamaged bases must come up read-write: then what follows is
    # the damage's doing.
    for i, base in enumerate(bases):
        pr.probe(-1 - i, base, "none", "undamaged base %d" % i)
        if pr.outcomes["rw"] != i + 1:
            print("FAIL: undamaged base %d does not open read-write" % i)
            return 1
    pr.outcomes.clear()
    pr.by_kind.clear()
    tried = 0
    skip_kinds = set(filter(None, os.environ.get("CORRUPT_SKIP_KINDS", "").split(",")))
    for i in range(a.count):
        if a.budget and time.time() - t0 > a.budget:
            print("\n# time budget of %ds used up after %d images" % (a.budget, i))
            break
        tried += 1
        kind = cm.pick_kind(rng)
        img, what = cm.corrupt(bases[i % len(bases)], kind, rng)
        if kind in skip_kinds:
            continue
        if a.verbose:
            print("# probing image %d base %d: %s" % (i, i % len(bases), what), flush=True)
        pr.probe(i, img, kind, what)
    print()
    print("# %d images in %.0fs: %s; slowest %.1fs (%s)" % (
        tried, time.time() - t0,
        ", ".join("%s %d" % kv for kv in sorted(pr.outcomes.items())),
        pr.slowest[0], pr.slowest[1]))
    for kind in sorted(pr.by_kind):
        print("#   %-12s %s" % (kind, ", ".join("%s %d" % kv for kv in sorted(pr.by_kind[kind].items()))))
    print("# failures: %d" % pr.failures)
    return 1 if pr.failures else 0


if __name__ == "__main__":
    sys.exit(main())
