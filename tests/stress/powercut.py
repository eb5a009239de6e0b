#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Guest side of the power-cut test (tests/stress/powercut.sh).

State kept on the host (the writable 9p share, which a guest crash cannot
lose once write() has returned):
  STATE/baseline.json  devices and the version of every chunk, as verified
                       at the start of the previous boot
  STATE/journal        events of the previous boot, one JSON line each,
                       written BEFORE each write/message is issued and
                       after each flush/message completes (crashsim format)

  powercut.py verify --state DIR --pool P
      Rebuilds the expectations (baseline + journal), checks every device
      against them (crashsim.Model: durable = flushed or committed by a
      message; anything intended later may or may not be there), then
      records what it read as the new baseline and empties the journal.
  powercut.py run --state DIR --pool P --seed N
      Write-heavy workload on the pool's thins until the power is cut.
"""
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import crashsim as cs  # noqa: E402
import dmioctl as dm  # noqa: E402
import stressargs as sa  # noqa: E402

THIN_TARGET = os.environ.get("THIN_TARGET", "ctthin")
CHUNKS = 2048            # 8 MiB thins
MAX_DEVS = 4


def load_state(d):
    base = {"devs": {}, "next_dev": 1, "next_ver": 1}
    p = os.path.join(d, "baseline.json")
    if os.path.exists(p):
        base = json.load(open(p))
    journal = []
    p = os.path.join(d, "journal")
    if os.path.exists(p):
        for line in open(p):
            try:
                journal.append(json.loads(line))
            except ValueError:
                break           # a torn last line: the cut came mid-record
    return base, journal


def synth(base):
    """The baseline as crashsim events: creates, writes, flushes, a mark."""
    ev = []
    for d, chunks in sorted(base["devs"].items(), key=lambda kv: int(kv[0])):
        ev.append({"op": "create", "dev": int(d), "chunks": CHUNKS})
        for c, v in chunks.items():
            if v:
                ev.append({"op": "write", "dev": int(d), "chunk": int(c), "vers": [v]})
        ev.append({"op": "flush", "dev": int(d)})
    ev.append({"op": "mark", "k": 0})
    return ev


def name(pool, d):
    return "%s-t%d" % (pool, d)


def cmd_verify(a):
    base, journal = load_state(a.state)
    events = synth(base) + journal
    m = cs.Model(events)
    marks = [e["k"] for e in events if e["op"] == "mark"]
    lo, hi = m.window(marks[-1] if marks else None, None)
    failures = []
    observed = {}
    rbuf = cs.mmap.mmap(-1, CHUNKS * cs.CHUNK)
    landed_msgs = []
    exists = {}
    for d in sorted(m.dev):
        want = m.expect_exists(d, lo, hi)
        try:
            dm.create(name(a.pool, d), "0 %d %s /dev/mapper/%s %d"
                      % (CHUNKS * 8, THIN_TARGET, a.pool, d))
            exists[d] = True
        except dm.DMError as e:
            exists[d] = False
            if want is True:
                failures.append("thin %d (created durably) does not open: %s" % (d, e))
        if want is False and exists[d]:
            failures.append("thin %d (deleted durably) still opens" % d)
    for i in m.messages:
        if lo < i < hi:
            e = events[i]
            landed_msgs.append(i if (exists.get(e["dev"]) if e["op"] != "delete"
                                     else not exists.get(e["dev"])) else None)
    glob = max([i for i in m.messages if i < lo] + [i for i in landed_msgs if i] + [-1])
    checked = 0
    for d in sorted(m.dev):
        if not exists[d]:
            continue
        dv = m.dev[d]
        barrier = max([glob, dv["created"] + 1] + [i for i in dv["flushes"] if i < lo])
        fd = os.open("/dev/mapper/" + name(a.pool, d), os.O_RDONLY | os.O_DIRECT)
        try:
            os.preadv(fd, [rbuf], 0)
        finally:
            os.close(fd)
        obs = {}
        bad = 0
        for c in range(CHUNKS):
            v = cs.decode_chunk(memoryview(rbuf)[c * cs.CHUNK:(c + 1) * cs.CHUNK], c)
            req, ok = m.allowed(d, c, barrier, hi)
            checked += 1
            if isinstance(v, str) or v not in ok:
                bad += 1
                if bad <= 3:
                    failures.append("thin %d chunk %d: read %s, expected version %d%s"
                                    % (d, c, v, req, " or one of %s" % sorted(ok - {req})
                                       if len(ok) > 1 else ""))
                v = 0 if isinstance(v, str) else v
            if v:
                obs[str(c)] = v
        if bad > 3:
            failures.append("thin %d: %d bad chunks in all" % (d, bad))
        observed[str(d)] = obs
        dm.remove(name(a.pool, d))
    # The new baseline is what is there now; make it durable on the pool
    # too (a message commits), so the next boot starts from it.
    nv = max([base["next_ver"]] + [max(e["vers"]) + 1 for e in journal if e["op"] == "write"])
    nd = max([base["next_dev"]] + [e["dev"] + 1 for e in journal if "dev" in e])
    tid = int(dm.status(a.pool).split()[0])
    dm.message(a.pool, "set_transaction_id %d %d" % (tid, tid + 1))
    with open(os.path.join(a.state, "baseline.json.new"), "w") as f:
        json.dump({"devs": observed, "next_dev": nd, "next_ver": nv}, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(os.path.join(a.state, "baseline.json.new"), os.path.join(a.state, "baseline.json"))
    open(os.path.join(a.state, "journal"), "w").close()
    st = {"journal_events": len(journal), "devices": len(observed),
          "chunks_checked": checked, "failures": failures}
    print(json.dumps(st))
    return 1 if failures else 0


class Runner:
    def __init__(self, a):
        self.a = a
        base, _ = load_state(a.state)
        self.next_dev = base["next_dev"]
        self.next_ver = base["next_ver"]
        self.devs = sorted(int(d) for d in base["devs"])
        self.rng = random.Random(a.seed)
        self.jf = open(os.path.join(a.state, "journal"), "a")
        self.fds = {}
        self.buf = cs.mmap.mmap(-1, 32 * cs.CHUNK)
        self.marks = 0

    def j(self, **e):
        self.jf.write(json.dumps(e) + "\n")
        self.jf.flush()

    def mark(self):
        self.marks += 1
        self.j(op="mark", k=self.marks)

    def open(self, d):
        dm.create(name(self.a.pool, d), "0 %d %s /dev/mapper/%s %d"
                  % (CHUNKS * 8, THIN_TARGET, self.a.pool, d))
        self.fds[d] = os.open("/dev/mapper/" + name(self.a.pool, d), os.O_RDWR | os.O_DIRECT)

    def run(self):
        for d in self.devs:
            self.open(d)
        open("/tmp/pc-started", "w").close()
        while True:
            r = self.rng.random()
            live = sorted(self.fds)
            if not live or (r < 0.03 and len(live) < MAX_DEVS):
                d = self.next_dev
                self.next_dev += 1
                self.j(op="create", dev=d, chunks=CHUNKS)
                dm.message(self.a.pool, "create_thin %d" % d)
                self.mark()
                self.open(d)
            elif r < 0.06 and len(live) < MAX_DEVS:
                o = self.rng.choice(live)
                d = self.next_dev
                self.next_dev += 1
                self.j(op="snap", dev=d, origin=o, chunks=CHUNKS)
                dm.suspend(name(self.a.pool, o))
                try:
                    dm.message(self.a.pool, "create_snap %d %d" % (d, o))
                finally:
                    dm.resume(name(self.a.pool, o))
                self.mark()
                self.open(d)
            elif r < 0.08 and len(live) > 2:
                d = self.rng.choice(live)
                os.close(self.fds.pop(d))
                dm.remove(name(self.a.pool, d))
                self.j(op="delete", dev=d)
                dm.message(self.a.pool, "delete %d" % d)
                self.mark()
            elif r < 0.12:
                d = self.rng.choice(live)
                nb = self.rng.randint(1, 8)
                b = self.rng.randrange(CHUNKS // 16 - nb)
                self.j(op="discard", dev=d, chunk=b * 16, n=nb * 16)
                cs.fcntl.ioctl(self.fds[d], cs.BLKDISCARD,
                               cs.struct.pack("QQ", b * 65536, nb * 65536))
            elif r < 0.22:
                d = self.rng.choice(live)
                os.fsync(self.fds[d])
                self.j(op="flush", dev=d)
                self.mark()
            else:
                d = self.rng.choice(live)
                n = self.rng.choice((1, 2, 4, 16, 32))
                c = self.rng.randrange(CHUNKS - n)
                if n >= 16:
                    c -= c % 16
                vers = list(range(self.next_ver, self.next_ver + n))
                self.next_ver += n
                for k in range(n):
                    self.buf[k * cs.CHUNK:(k + 1) * cs.CHUNK] = cs.chunk_data(c + k, vers[k])
                self.j(op="write", dev=d, chunk=c, vers=vers)
                os.pwritev(self.fds[d], [memoryview(self.buf)[:n * cs.CHUNK]], c * cs.CHUNK)


def main():
    p, sp = sa.commands()
    sa.add_options(sp.add_parser("verify"), "--state --pool")
    sa.add_options(sp.add_parser("run"), "--state --pool", seed=1)
    a = p.parse_args()
    if a.cmd == "verify":
        return cmd_verify(a)
    Runner(a).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
