#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Crash-consistency checking of a thin pool by replaying a dm-log-writes log.

  crashsim.py workload --pool POOL --lw LW --journal FILE [--seed N] [--ops N]
      Runs a workload on the pool's thin devices (provisioning writes, COW
      breaks on snapshots, discards, deletes, fsyncs) and journals, in order,
      every acknowledged write, flush, message and the log marks it places in
      the dm-log-writes device LW ("dmsetup message LW 0 mark mK").

  crashsim.py check --log DEV --replay DEV --meta-copy DEV --meta-sectors N
                    --data-sectors N --journal FILE [--random N] [--seed N]
                    [--final DEV] [--tamper]
      Replays the log (format: Documentation/admin-guide/device-mapper/
      log-writes.rst, drivers/md/dm-log-writes.c) onto the replay device
      (metadata at sector 0, data after it) and stops at every FLUSH and FUA
      entry, every mark, and N random entries. At each such crash point the
      metadata is copied to META-COPY and: thin_check must pass, the pool must
      activate read-write without needs_check, every device whose creation was
      durable must open, every deleted one must not, and every 4 KiB chunk of
      every device must read back as a version the journal allows: the one
      acknowledged before the device's last completed flush (or pool message),
      or a later one; never an older one, never data of another chunk.
      --final: after the whole log, the replay must equal this device.
      --tamper: self-test; corrupts the journal's expectations so that the
      check must fail (exit 0 only if it does).

Pool and thin target names come from POOL_TARGET / THIN_TARGET.
"""
import fcntl
import json
import mmap
import os
import random
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dmioctl as dm  # noqa: E402
import stressargs as sa  # noqa: E402

VERBOSE = os.environ.get("CRASHSIM_VERBOSE")
_t0 = time.time()


def tlog(msg):
    if VERBOSE:
        print("# %7.2f %s" % (time.time() - _t0, msg), flush=True)

POOL_TARGET = os.environ.get("POOL_TARGET", "ctpool")
THIN_TARGET = os.environ.get("THIN_TARGET", "ctthin")
CHUNK = 4096
BLOCK_SECTORS = 128                  # 64 KiB data blocks
CHUNKS_PER_BLOCK = BLOCK_SECTORS * 512 // CHUNK
MAGIC = b"CTPW"
BLKDISCARD = 0x1277
BLKFLSBUF = 0x1261

LOG_MAGIC = 0x6a736677736872
LOG_FLUSH, LOG_FUA, LOG_DISCARD, LOG_MARK, LOG_METADATA = 1, 2, 4, 8, 16


def sh(*args, check=True):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


# A discarded chunk's version in the model, and what the replay writes where
# the log shows a discard of the data device (its content is undefined).
DISCARDED = -1
DISCARD_FILL = b"DISCARDED-BLOCK!"


def chunk_data(chunk, ver):
    if ver == 0:
        return bytes(CHUNK)
    return struct.pack("<4sIQ", MAGIC, chunk & 0xffffffff, ver) * (CHUNK // 16)


def decode_chunk(buf, chunk):
    """A chunk's version: 0 for zeroes, a positive id, or a string saying
    what is wrong with it."""
    buf = bytes(buf)
    if buf.count(0) == CHUNK:
        return 0
    rec = bytes(buf[:16])
    if rec * (CHUNK // 16) != buf:
        return "torn or foreign data (first bytes %s)" % rec.hex()
    magic, c, ver = struct.unpack("<4sIQ", rec)
    if magic != MAGIC:
        return "foreign data %s" % rec.hex()
    if c != chunk & 0xffffffff:
        return "data of chunk %d (version %d) found at chunk %d" % (c, ver, chunk)
    return ver


# ---------------------------------------------------------------- workload --

class Workload:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.journal = []
        self.fds = {}          # dev id -> fd of the active thin
        self.next_dev = 1
        self.next_ver = 1
        self.marks = 0
        self.nchunks = a.thin_mb * 1024 * 1024 // CHUNK
        self.buf = mmap.mmap(-1, CHUNKS_PER_BLOCK * CHUNK)

    def ev(self, **e):
        self.journal.append(e)

    def mark(self):
        self.marks += 1
        dm.message(self.a.lw, "mark m%d" % self.marks)
        self.ev(op="mark", k=self.marks)

    def name(self, dev):
        return "%s-t%d" % (self.a.pool, dev)

    def activate(self, dev):
        dm.create(self.name(dev), "0 %d %s /dev/mapper/%s %d" % (
            self.nchunks * 8, THIN_TARGET, self.a.pool, dev))
        self.fds[dev] = os.open("/dev/mapper/" + self.name(dev),
                                os.O_RDWR | os.O_DIRECT)

    def create(self):
        dev = self.next_dev
        self.next_dev += 1
        dm.message(self.a.pool, "create_thin %d" % dev)
        self.ev(op="create", dev=dev, chunks=self.nchunks)
        self.activate(dev)

    def snap(self, origin):
        dev = self.next_dev
        self.next_dev += 1
        on = self.name(origin)
        dm.suspend(on)
        try:
            dm.message(self.a.pool, "create_snap %d %d" % (dev, origin))
        finally:
            dm.resume(on)
        self.ev(op="snap", dev=dev, origin=origin, chunks=self.nchunks)
        self.activate(dev)

    def delete(self, dev):
        os.close(self.fds.pop(dev))
        dm.remove(self.name(dev))
        dm.message(self.a.pool, "delete %d" % dev)
        self.ev(op="delete", dev=dev)

    def write(self, dev):
        r = self.rng.random()
        if r < 0.3:      # a whole data block: provisioned or COW'd without copy
            n = CHUNKS_PER_BLOCK
            c = self.rng.randrange(self.nchunks // n) * n
        else:            # partial: zeroing on provision, copy on COW
            n = self.rng.choice((1, 1, 2, 3, 5))
            c = self.rng.randrange(self.nchunks - n)
        vers = []
        for i in range(n):
            self.buf[i * CHUNK:(i + 1) * CHUNK] = chunk_data(c + i, self.next_ver)
            vers.append(self.next_ver)
            self.next_ver += 1
        done = os.pwritev(self.fds[dev], [memoryview(self.buf)[:n * CHUNK]],
                          c * CHUNK)
        if done != n * CHUNK:
            raise RuntimeError("short write")
        self.ev(op="write", dev=dev, chunk=c, vers=vers)

    def discard(self, dev):
        nb = self.rng.randint(1, 4)
        blocks = self.nchunks // CHUNKS_PER_BLOCK
        b = self.rng.randrange(blocks - nb + 1)
        rng = struct.pack("QQ", b * BLOCK_SECTORS * 512, nb * BLOCK_SECTORS * 512)
        fcntl.ioctl(self.fds[dev], BLKDISCARD, rng)
        self.ev(op="discard", dev=dev, chunk=b * CHUNKS_PER_BLOCK,
                n=nb * CHUNKS_PER_BLOCK)

    def flush(self, dev):
        os.fsync(self.fds[dev])
        self.ev(op="flush", dev=dev)

    def run(self):
        self.create()
        self.create()
        self.mark()
        for i in range(self.a.ops):
            devs = sorted(self.fds)
            dev = self.rng.choice(devs)
            r = self.rng.random()
            if r < 0.60:
                self.write(dev)
                if self.rng.random() < 0.25:
                    self.mark()
            elif r < 0.78:
                self.flush(dev)
                self.mark()
            elif r < 0.85:
                self.discard(dev)
                self.mark()
            elif r < 0.93:
                if len(devs) < 4:
                    self.snap(dev)
                    self.mark()
            elif len(devs) > 2:
                self.delete(dev)
                self.mark()
        for dev in sorted(self.fds):
            self.flush(dev)
        self.mark()
        for dev in sorted(self.fds):
            os.close(self.fds.pop(dev))
            dm.remove(self.name(dev))
        with open(self.a.journal, "w") as f:
            for e in self.journal:
                f.write(json.dumps(e) + "\n")
        n = {}
        for e in self.journal:
            n[e["op"]] = n.get(e["op"], 0) + 1
        print("# workload: %s" % ", ".join("%d %s" % (v, k) for k, v in sorted(n.items())))


# ------------------------------------------------------------------ model --

class Model:
    """What the journal allows each chunk of each device to read as."""

    def __init__(self, journal):
        self.j = journal
        self.mark_idx = {}
        for i, e in enumerate(journal):
            if e["op"] == "mark":
                self.mark_idx[e["k"]] = i
        # per device: creation idx, deletion idx, chunks, history chunk ->
        # [(idx, ver)], barrier indices (flushes of this device).
        self.dev = {}
        self.messages = []     # indices of pool messages (global barriers)
        for i, e in enumerate(journal):
            op = e["op"]
            if op in ("create", "snap"):
                d = {"created": i, "deleted": None, "chunks": e["chunks"],
                     "hist": {}, "flushes": []}
                if op == "snap":
                    o = self.dev[e["origin"]]
                    d["hist"] = {c: list(h) for c, h in o["hist"].items()}
                self.dev[e["dev"]] = d
                self.messages.append(i)
            elif op == "delete":
                self.dev[e["dev"]]["deleted"] = i
                self.messages.append(i)
            elif op == "write":
                h = self.dev[e["dev"]]["hist"]
                for k, v in enumerate(e["vers"]):
                    h.setdefault(e["chunk"] + k, []).append((i, v))
            elif op == "discard":
                h = self.dev[e["dev"]]["hist"]
                for k in range(e["n"]):
                    h.setdefault(e["chunk"] + k, []).append((i, DISCARDED))
            elif op == "flush":
                self.dev[e["dev"]]["flushes"].append(i)

    def window(self, last_mark, next_mark):
        lo = self.mark_idx.get(last_mark, -1) if last_mark is not None else -1
        hi = self.mark_idx.get(next_mark, len(self.j)) if next_mark is not None else len(self.j)
        return lo, hi

    def expect_exists(self, dev, lo, hi):
        """True (must exist), False (must not), None (either)."""
        d = self.dev[dev]
        if d["created"] >= hi:
            return False
        if d["deleted"] is not None and d["deleted"] < lo:
            return False
        if d["created"] < lo and (d["deleted"] is None or d["deleted"] >= hi):
            return True
        return None

    def allowed(self, dev, chunk, barrier, hi):
        """(required version, set of allowed versions) of a chunk given the
        last durability barrier index. A durable discard unmapped the chunk:
        it reads zeroes. One inside the window (DISCARDED in the set) may not
        have been committed while the pool already passed it down, as dm-thin
        does: the chunk then reads what its discarded data block holds, which
        the block layer leaves undefined (see verify_dev)."""
        h = self.dev[dev]["hist"].get(chunk, [])
        req_i, req_v = -1, 0
        for i, v in h:
            if i < barrier:
                req_i, req_v = i, v
        if req_v == DISCARDED:
            req_v = 0
        ok = {req_v}
        for i, v in h:
            if req_i < i < hi:
                ok.add(v)
        return req_v, ok


# ------------------------------------------------------------------ replay --

def read_log(path):
    """Entries of a dm-log-writes log: dicts with sector, nr (sectors of
    sectorsize), flags, data offset in the log, mark text."""
    fd = os.open(path, os.O_RDONLY)
    sup = os.pread(fd, 32, 0)
    magic, version, nr_entries, secsize = struct.unpack("<QQQI", sup[:28])
    if magic != LOG_MAGIC or version != 1:
        raise RuntimeError("%s: not a dm-log-writes log (magic %x)" % (path, magic))
    entries = []
    pos = secsize
    for _ in range(nr_entries):
        hdr = os.pread(fd, secsize, pos)
        sector, nr, flags, dlen = struct.unpack("<QQQQ", hdr[:32])
        e = {"sector": sector, "nr": nr, "flags": flags, "data": None, "mark": None}
        pos += secsize
        if flags & LOG_MARK:
            e["mark"] = hdr[32:32 + dlen].split(b"\0")[0].decode(errors="replace")
        elif not flags & LOG_DISCARD and nr:
            e["data"] = pos
            pos += nr * secsize
        entries.append(e)
    os.close(fd)
    return entries, secsize


class Checker:
    def __init__(self, a, journal):
        self.a = a
        self.model = Model(journal)
        self.failures = 0
        self.checked = 0
        self.rw_changed = 0
        self.rfd = os.open(a.replay, os.O_RDWR)
        self.undefined = set()
        self.lfd = os.open(a.log, os.O_RDONLY)
        self.pool = "cs-pool"
        self.devs = sorted(self.model.dev)
        dm.create("cs-rdata", "0 %d linear %s %d" % (a.data_sectors, a.replay, a.meta_sectors))
        self.rbuf = mmap.mmap(-1, 1 << 20)

    def close(self):
        for n in ["cs-t%d" % d for d in self.devs] + [self.pool, "cs-rdata"]:
            if dm.exists(n):
                dm.remove(n, missing_ok=True)

    def mark_undefined(self, off, ln, undefined):
        """Track 512-byte sectors whose last operation was a discard: their
        content on the live device is undefined, so the final comparison
        with the replay must skip them."""
        for sec in range(off // 512, (off + ln) // 512):
            if undefined:
                self.undefined.add(sec)
            else:
                self.undefined.discard(sec)

    def fail(self, point, msg):
        self.failures += 1
        if self.failures <= 30:
            print("FAIL at %s: %s" % (point, msg))

    def apply(self, e, secsize):
        off = e["sector"] * secsize
        ln = e["nr"] * secsize
        if e["flags"] & LOG_DISCARD:
            # What a discarded range reads as is undefined: make it garbage,
            # so a pool relying on zeroes is caught.
            pat = DISCARD_FILL * (ln // 16)
            os.pwrite(self.rfd, pat, off)
            self.mark_undefined(off, ln, True)
        elif e["data"] is not None:
            self.mark_undefined(off, ln, False)
            done = 0
            while done < ln:
                n = min(ln - done, 1 << 20)
                os.pwrite(self.rfd, os.pread(self.lfd, n, e["data"] + done), off + done)
                done += n

    def thin_check(self, what):
        r = sh("thin_check", self.a.meta_copy, check=False)
        if r.returncode != 0:
            return "%s: thin_check failed: %s" % (what, (r.stdout + r.stderr).strip()[-400:])
        return None

    def check_point(self, point, last_mark, next_mark):
        tlog("check " + point)
        self.checked += 1
        a = self.a
        os.fsync(self.rfd)
        meta = os.pread(self.rfd, a.meta_sectors * 512, 0)
        with open(a.meta_copy, "r+b", buffering=0) as f:
            f.write(meta)
            os.fsync(f.fileno())
        lo, hi = self.model.window(last_mark, next_mark)
        unformatted = meta[:4096].count(0) == 4096
        if unformatted:
            if any(self.model.expect_exists(d, lo, hi) for d in self.devs):
                self.fail(point, "superblock is all zeroes but devices were created durably")
            return
        tlog("meta copied")
        err = self.thin_check("before activation")
        tlog("thin_check done")
        if err:
            self.fail(point, err)
            return
        try:
            dm.create(self.pool, "0 %d %s %s /dev/mapper/cs-rdata %d 0 0" %
                      (a.data_sectors, POOL_TARGET, a.meta_copy, BLOCK_SECTORS))
        except dm.DMError as e:
            self.fail(point, "pool does not activate: %s" % e)
            return
        self.opened = []
        try:
            st = dm.status(self.pool).split()
            # <tid> <meta> <data> <held> <mode> <discard> <nospace> <needs_check> ...
            if len(st) < 8 or st[4] != "rw" or st[7] != "-":
                self.fail(point, "pool status after recovery: " + " ".join(st))
            self.check_devices(point, lo, hi)
            tlog("devices verified")
        finally:
            for n in self.opened:
                dm.remove(n, missing_ok=True)
            try:
                dm.remove(self.pool)
            except dm.DMError as e:
                self.fail(point, "pool remove: %s" % e)
        tlog("removed")
        # The pool may have written (a commit on close): check what it wrote.
        with open(a.meta_copy, "rb", buffering=0) as f:
            fd = f.fileno()
            fcntl.ioctl(fd, BLKFLSBUF)      # drop our cached copy
            after = os.pread(fd, len(meta), 0)
        if after != meta:
            self.rw_changed += 1
            err = self.thin_check("after a read-write activation")
            tlog("thin_check 2 done")
        if err:
            self.fail(point, err)

    def check_devices(self, point, lo, hi):
        m = self.model
        exists = {}
        for d in self.devs:
            want = m.expect_exists(d, lo, hi)
            if want is False and m.dev[d]["created"] >= hi:
                continue
            err = None
            try:
                dm.create("cs-t%d" % d, "0 %d %s /dev/mapper/%s %d"
                          % (m.dev[d]["chunks"] * 8, THIN_TARGET, self.pool, d))
                self.opened.append("cs-t%d" % d)
            except dm.DMError as e:
                err = e
            exists[d] = err is None
            if want is True and not exists[d]:
                self.fail(point, "thin %d (created durably) does not open: %s" % (d, err))
            if want is False and exists[d]:
                self.fail(point, "thin %d (deleted durably) still opens" % d)
        # A message inside the window that is seen to have landed was
        # committed, so it is a barrier for every device; the ones that landed
        # must be a prefix of the ones sent (transactions commit in order).
        landed = []
        for i in m.messages:
            if not lo < i < hi:
                continue
            e = m.j[i]
            d = e["dev"]
            if e["op"] == "delete":
                landed.append((i, d in exists and not exists[d]))
            else:
                landed.append((i, exists.get(d, False)))
        seen_missing = False
        for i, ok in landed:
            if ok and seen_missing:
                self.fail(point, "pool message %d landed after an earlier one was lost: %s"
                          % (i, m.j[i]))
            seen_missing = seen_missing or not ok
        glob = max([i for i in m.messages if i < lo] + [i for i, ok in landed if ok] + [-1])
        for d in self.devs:
            if not exists.get(d):
                continue
            dv = m.dev[d]
            barrier = max([glob, dv["created"] + 1] + [i for i in dv["flushes"] if i < lo])
            self.verify_dev(point, d, barrier, hi)

    def verify_dev(self, point, d, barrier, hi):
        m = self.model
        n = m.dev[d]["chunks"]
        fd = os.open("/dev/mapper/cs-t%d" % d, os.O_RDONLY | os.O_DIRECT)
        try:
            step = len(self.rbuf) // CHUNK
            bad = 0
            for base in range(0, n, step):
                cnt = min(step, n - base)
                got = os.preadv(fd, [memoryview(self.rbuf)[:cnt * CHUNK]], base * CHUNK)
                if got != cnt * CHUNK:
                    self.fail(point, "thin %d: short read at chunk %d" % (d, base))
                    return
                for k in range(cnt):
                    c = base + k
                    buf = memoryview(self.rbuf)[k * CHUNK:(k + 1) * CHUNK]
                    v = decode_chunk(buf, c)
                    req, ok = m.allowed(d, c, barrier, hi)
                    if DISCARDED in ok and (v == 0 or bytes(buf) == DISCARD_FILL * (CHUNK // 16)):
                        continue
                    if isinstance(v, str) or v not in ok:
                        bad += 1
                        if bad <= 3:
                            self.fail(point, "thin %d chunk %d: read %s, expected %s%s"
                                      % (d, c, "version %d" % v if not isinstance(v, str) else v,
                                         "version %d" % req,
                                         " or one of %s" % sorted(ok - {req}) if len(ok) > 1 else ""))
            if bad > 3:
                self.fail(point, "thin %d: %d bad chunks in all" % (d, bad))
        finally:
            os.close(fd)


def cmd_check(a):
    journal = [json.loads(l) for l in open(a.journal)]
    if a.tamper:
        # Claim that the last flushed write to some device wrote a version
        # it did not: the device then holds something the model forbids.
        deleted = {e["dev"] for e in journal if e["op"] == "delete"}
        for i in range(len(journal) - 1, -1, -1):
            if journal[i]["op"] == "write" and journal[i]["dev"] not in deleted:
                journal[i]["vers"] = [v + 1000000 for v in journal[i]["vers"]]
                break
    entries, secsize = read_log(a.log)
    ck = Checker(a, journal)
    try:
        return run_check(a, ck, entries, secsize)
    finally:
        ck.close()


def run_check(a, ck, entries, secsize):
    rng = random.Random(a.seed)
    # Crash points: index p means "entries [0, p) applied".
    flushes = [i + 1 for i, e in enumerate(entries) if e["flags"] & (LOG_FLUSH | LOG_FUA)]
    marks = [i + 1 for i, e in enumerate(entries) if e["flags"] & LOG_MARK]
    writes = [i for i, e in enumerate(entries) if not e["flags"] & LOG_MARK]
    rand = set(rng.sample(writes, min(a.random, len(writes)))) if writes else set()
    points = sorted(set(flushes) | set(marks) | rand)
    if a.tamper:
        points = [len(entries)]
    # mark names at each index
    mark_at = {}
    for i, e in enumerate(entries):
        if e["flags"] & LOG_MARK and e["mark"].startswith("m"):
            mark_at[i] = int(e["mark"][1:])
    applied = 0
    last_state = None
    last_mark = None
    done_points = 0
    nwrites = 0
    for p in points:
        while applied < p:
            e = entries[applied]
            if applied in mark_at:
                last_mark = mark_at[applied]
            elif e["data"] is not None or e["flags"] & LOG_DISCARD:
                nwrites += 1
            ck.apply(e, secsize)
            applied += 1
        nxt = None
        for i in range(p, len(entries)):
            if i in mark_at:
                nxt = mark_at[i]
                break
        state = (nwrites, last_mark, nxt)
        done_points += 1
        if state == last_state:
            continue
        last_state = state
        ck.check_point("entry %d/%d (after mark m%s)" % (p, len(entries), last_mark), last_mark, nxt)
    while applied < len(entries):
        ck.apply(entries[applied], secsize)
        applied += 1
    os.fsync(ck.rfd)
    if a.final and not a.tamper:
        ln = (a.meta_sectors + a.data_sectors) * 512
        f1, f2 = os.open(a.final, os.O_RDONLY), ck.rfd
        off = 0
        while off < ln:
            n = min(ln - off, 1 << 20)
            b1, b2 = os.pread(f1, n, off), os.pread(f2, n, off)
            bad = next((off + i for i in range(0, n, 512)
                        if b1[i:i + 512] != b2[i:i + 512]
                        and (off + i) // 512 not in ck.undefined), None)
            if bad is not None:
                ck.fail("end", "full replay differs from the live device at byte %d" % bad)
                break
            off += n
        os.close(f1)
    print("# log: %d entries, %d flush/fua, %d marks; crash points %d "
          "(%d random), distinct states checked %d (pool wrote metadata in %d), failures %d"
          % (len(entries), len(flushes), len(marks), done_points, len(rand),
             ck.checked, ck.rw_changed, ck.failures))
    if a.tamper:
        if ck.failures:
            print("# tamper self-test: the check caught the forged journal")
            return 0
        print("FAIL: tamper self-test: a forged journal went unnoticed")
        return 1
    return 1 if ck.failures else 0


def main():
    p, sp = sa.commands()
    sa.add_options(sp.add_parser("workload"), "--pool --lw --journal",
                   seed=1, ops=60, thin_mb=4)
    c = sa.add_options(sp.add_parser("check"), "--log --replay --meta-copy --journal",
                       random=10, seed=1, final=None, tamper=False)
    c.add_argument("--meta-sectors", type=int, required=True)
    c.add_argument("--data-sectors", type=int, required=True)
    a = p.parse_args()
    if a.cmd == "workload":
        Workload(a).run()
        return 0
    return cmd_check(a)


if __name__ == "__main__":
    sys.exit(main())
