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
      a thin, write and read back, tear down, unload. Objects in use per
      slab cache (per-CPU slabs flushed) are compared after the warm-up,
      half way and at the end: growth of half an object per cycle or more
      in both halves, beyond control cycles of load/unload alone, is a leak.
"""
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
import stressargs as sa  # noqa: E402

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
    """active_objs of every cache in /proc/slabinfo."""
    out = {}
    with open("/proc/slabinfo") as f:
        for line in f:
            p = line.split()
            if len(p) > 2 and not line.startswith(("slabinfo", "#")):
                out[p[0]] = int(p[1])
    return out


SLAB_SYS = "/sys/kernel/slab"


def settled_slabs():
    """Objects in use per cache, after dropping the page cache (dentries,
    inodes) and giving RCU-deferred frees (kfree_rcu, call_rcu of
    workqueues, kernfs) time to run.

    SLUB's /proc/slabinfo counts the free objects of per-CPU slabs (the CPU
    slab and the CPU partial list) as active: a cache whose slabs merely
    moved between a CPU and the node lists seems to grow or shrink by whole
    slabs. Caches in debug mode (slub_debug=...) keep no per-CPU slabs, so
    their counts are exact; the others are made closer by writing 1 to
    their shrink files, which flushes the per-CPU slabs (until the next
    allocation)."""
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3")
    time.sleep(2)
    for name in sorted(os.listdir(SLAB_SYS)):
        path = os.path.join(SLAB_SYS, name)
        if os.path.islink(path):        # an alias of a merged cache
            continue
        try:
            with open(os.path.join(path, "shrink"), "w") as f:
                f.write("1")
        except OSError:
            pass
    return slabs()


DEBUG_ATTRS = ("sanity_checks", "red_zone", "poison", "store_user", "trace")


def exact_count(cache):
    """True when the cache is in SLUB debug mode (slub_debug=...): such a
    cache keeps no per-CPU slabs, so its active count is exact."""
    for attr in DEBUG_ATTRS:
        try:
            with open(os.path.join(SLAB_SYS, cache, attr)) as f:
                if f.read().strip() == "1":
                    return True
        except OSError:
            pass
    return False


DEBUGFS_SLAB = "/sys/kernel/debug/slab"


def alloc_traces(cache):
    """Objects in use of a cache per allocation stack, [(count, frames)],
    from debugfs (needs slub_debug=U for the cache)."""
    if not os.path.isdir(DEBUGFS_SLAB):
        subprocess.run("mount -t debugfs none /sys/kernel/debug", shell=True,
                       stderr=subprocess.DEVNULL)
    out = []
    try:
        with open(os.path.join(DEBUGFS_SLAB, cache, "alloc_traces")) as f:
            for line in f:
                p = line.split()
                if not p:
                    continue
                if p[0].isdigit() and len(p) > 1:
                    out.append((int(p[0]), [p[1]]))
                elif out and len(out[-1][1]) < 6:
                    out[-1][1].append(p[0])
    except OSError:
        return []
    return out


ALLOCATOR = re.compile(r"^_*(kmem_cache_alloc|kmalloc|kzalloc|krealloc|kstrdup|"
                       r"kmemdup|mempool_alloc|slab_alloc|alloc_)")


def calls_by_site(cache):
    """Objects in use of a cache per allocating function (slub_debug=U):
    the first frame outside the allocators."""
    out = collections.Counter()
    for count, frames in alloc_traces(cache):
        site = next((f for f in frames if not ALLOCATOR.match(f)), frames[0])
        out[site.split("/")[0]] += count
    return out


# Caches where a block-layer module's objects can land: kmalloc, bio/biovec,
# dm and bufio, and the module's own. VFS caches (dentry, kernfs_*) and
# ACPI's move by themselves in this guest, with dm-thin too.
MINE = re.compile(r"^(kmalloc-|kmalloc-rcl-|bio|biovec|dm|bufio|ctpool|ct_|thin|"
                  r"blkdev|request|kcopyd|io$|pd_)")


def run_cmd(cmd):
    r = subprocess.run(cmd, shell=True, stderr=subprocess.PIPE, text=True)
    return r.stderr.strip() if r.returncode else None


def pool_cycle(a, c, dlen, pat, buf):
    """Pool and thin up, 1 MiB written and read back, (a snapshot), down.
    Returns the failures, as messages."""
    errs = []
    try:
        dm.create("hm-pool", "0 %d %s %s %s 128 0 0" % (dlen, POOL_TARGET, a.meta, a.data))
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
            errs.append("data read back differs")
        if c % 10 == 0:
            dm.message("hm-pool", "create_snap %d 1" % (100 + c))
            dm.message("hm-pool", "delete %d" % (100 + c))
        dm.status("hm-pool")
    except (dm.DMError, OSError) as e:
        errs.append(str(e))
    finally:
        for n in ("hm-thin", "hm-pool"):
            if dm.exists(n):
                try:
                    dm.remove(n)
                except dm.DMError as e:
                    errs.append("remove %s: %s" % (n, e))
    return errs


def modload(a):
    """Load/unload cycles with a pool in use. A cache whose objects in use
    grow by half an object per cycle or more, over all the counted cycles
    and in the middle two of their quarters (beyond what loading and
    unloading the module alone does), is a leak. A cache that fills up once
    (a per-CPU cache, a lazily freed pool) grows in one quarter only; one
    holding a batch for a while goes up in one quarter and down in another."""
    kmsg = kmsg_reader()
    dlen = Hostile.size(a.data) // 128 * 128
    pat = mmap.mmap(-1, 1 << 20)
    pat[:] = random.Random(7).randbytes(1 << 20)
    buf = mmap.mmap(-1, 1 << 20)
    failures = 0
    t0 = time.time()
    if a.cycles < a.warmup + 4:
        print("FAIL: --cycles must exceed --warmup by 4 at least")
        return 1
    if not os.path.isdir(SLAB_SYS):
        print("FAIL: no %s: cannot count slab objects exactly" % SLAB_SYS)
        return 1

    # Control: load/unload alone. Loading a module leaves kernfs/sysfs
    # objects behind in kmalloc caches by itself (dm-thin-pool too); that
    # rate is subtracted from the one measured with a pool in use.
    ctl_warm = max(1, a.control // 5)
    ctl = {}
    for c in range(1, a.control + 1):
        for cmd in (a.load, a.unload):
            err = run_cmd(cmd)
            if err is not None:
                print("FAIL: control cycle %d: %s: %s" % (c, cmd, err))
                return 1
        if c in (ctl_warm, a.control):
            ctl[c] = settled_slabs()
    ctl_n = a.control - ctl_warm

    def ctl_rate(k):
        if ctl_n <= 0:
            return 0.0
        return max(0.0, (ctl[a.control].get(k, 0) - ctl[ctl_warm].get(k, 0)) / ctl_n)

    # Counts after the warm-up and at each quarter of the remaining cycles.
    points = [a.warmup + (a.cycles - a.warmup) * i // 4 for i in range(5)]
    samples = {}
    sites = {}
    for c in range(1, a.cycles + 1):
        err = run_cmd(a.load)
        if err is not None:
            print("FAIL: cycle %d: load: %s" % (c, err))
            return 1
        for e in pool_cycle(a, c, dlen, pat, buf):
            print("FAIL: cycle %d: %s" % (c, e))
            failures += 1
        err = run_cmd(a.unload)
        if err is not None:
            print("FAIL: cycle %d: unload: %s" % (c, err))
            return 1
        bad = [l for l in kmsg() if BAD.search(l) or "still has objects" in l]
        if bad:
            print("FAIL: cycle %d: kernel log: %s" % (c, " | ".join(bad[:4])))
            failures += 1
        if failures:
            return 1
        if c in points:
            samples[c] = settled_slabs()
            for k in a.watch:
                sites.setdefault(k, []).append(calls_by_site(k))

    counts = [samples[c] for c in points]
    rows = []
    inexact = []
    for k in sorted(set().union(*counts)):
        if not MINE.search(k):
            continue
        if not exact_count(k):
            inexact.append(k)
            continue
        r = ctl_rate(k)
        v = [x.get(k, 0) for x in counts]
        rates = [(v[i + 1] - v[i]) / (points[i + 1] - points[i]) - r for i in range(4)]
        mid = sorted(rates)[1:3]
        overall = (v[4] - v[0]) / (points[4] - points[0]) - r
        rows.append((min(sum(mid) / 2, overall), overall, rates, r, v, k))
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    moved = [row for row in rows if row[3] or len(set(row[4])) > 1]
    print("# %d load/unload cycles in %.0fs; objects in use counted after cycles %s "
          "(control: %d load/unload cycles)"
          % (a.cycles, time.time() - t0, ", ".join(map(str, points)), a.control))
    print("# growth per cycle beyond the control, in each quarter%s"
          % (":" if moved else ": no counted cache changed"))
    for _, _, rates, r, v, k in moved[:8]:
        print("#   %-16s %s  (%s objects, control %+.2f)"
              % (k, " ".join("%+6.2f" % x for x in rates),
                 " -> ".join(map(str, v)), r))
    if inexact:
        print("# not counted, no slub_debug (per-CPU slabs make counts approximate): %s"
              % " ".join(inexact))
    for k, per in sites.items():
        funcs = set().union(*per)
        changed = sorted(((per[-1][f] - per[0][f], f) for f in funcs
                          if len({x[f] for x in per}) > 1), reverse=True)
        print("# %s objects in use by allocating function:%s"
              % (k, "" if changed else " unchanged"))
        for _, f in changed[:8]:
            print("#   %-40s %s" % (f, " -> ".join(str(x[f]) for x in per)))
    # A leak leaves objects behind every cycle: half an object per cycle or
    # more over all the cycles and in the middle two of the quarters (so a
    # cache that fills up once, or holds a batch for a while, is not one).
    leaks = [(m, k) for m, _, _, _, _, k in rows if m >= 0.5]
    for m, k in leaks[:10]:
        print("# slab %s leaks %.2f objects per cycle; allocated by:" % (k, m))
        for count, frames in sorted(alloc_traces(k), reverse=True)[:5]:
            print("#   %6d %s" % (count, " < ".join(frames[:4])))
    if any(k.startswith("kmalloc-") for k in inexact):
        print("FAIL: kmalloc caches are not in slub_debug mode: boot with "
              "slub_debug=U,kmalloc-*,... for exact counts (see tests/vm/hostile-modload.sh)")
        failures += 1
    if leaks:
        print("FAIL: objects in use grow with the cycles: %s"
              % ", ".join(k for _, k in leaks[:10]))
        failures += 1
    return 1 if failures else 0


def main():
    p, sp = sa.commands()
    t = sa.add_options(sp.add_parser("tables"), "--live-pool --live-meta --scratch-meta --data",
                       count=400, seed=1, budget=0.0)
    t.add_argument("--image", required=True, help="valid metadata to keep on scratch-meta")
    m = sa.add_options(sp.add_parser("modload"), "--load --unload --meta --data",
                       cycles=100, warmup=20, control=50)
    m.add_argument("--watch", type=lambda v: [w for w in v.split(",") if w], default=[],
                   help="caches whose objects to attribute to allocating "
                   "functions (boot with slub_debug=U,CACHE,...)")
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
