#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Generator of corrupted thin-pool metadata images (dm-thin on-disk format).

It walks a valid image (superblock, mapping and details btrees, both space
maps: index block or index btree, bitmaps, ref-count trees), then damages one
structure in one of many ways: bit flips with or without a fixed-up checksum,
wrong checksums, zeroed blocks, wrong block numbers, out-of-range pointers,
cycles, pointers to blocks of another type, wrong entry counts and sizes,
unsorted keys, bad superblock fields, bad reference counts, out-of-range data
blocks and device ids. With the checksum fixed up the damage passes the
validators and must be caught (or survived) by the code that uses the data.

  corrupt-meta.py list-kinds
  corrupt-meta.py gen BASE.img OUTDIR COUNT [SEED]   OUTDIR/NNNN-KIND.img + manifest
  corrupt-meta.py walk BASE.img                       what the walker found
  corrupt-meta.py apply IMAGE KIND [SEED]             one corruption, in place
  corrupt-meta.py damage-leaf IMAGE DEV_ID            break the checksum of a
                                                      leaf below the root of
                                                      that device's mapping
                                                      tree, in place
  corrupt-meta.py base-xml                            XML of the base pool (thin_restore it)

As a module: Image(bytes), KINDS, corrupt(img, kind, rng) -> (bytes, text).
"""
import os
import random
import struct
import sys

BS = 4096
SB_XOR, NODE_XOR, INDEX_XOR, BITMAP_XOR = 160774, 121107, 160478, 240779
MAGIC = 27022010
INTERNAL, LEAF = 1, 2


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _crc_table()


def crc32c_raw(data, crc=0xffffffff):
    t = _T
    for b in data:
        crc = t[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc


def block_csum(blk, xor):
    return crc32c_raw(blk[4:]) ^ xor


class Image:
    """A metadata image and what its blocks are."""

    def __init__(self, data):
        self.data = bytearray(data)
        self.nr = len(data) // BS
        self.kind = {}         # block -> (type, detail)
        self.nodes = {}        # block -> dict(tree, internal, value_size, parent)
        self.ptrs = []         # (block, byte offset, what) of every block pointer
        self.leaf_values = []  # (block, offset, tree) of leaf values
        self.walk()

    def blk(self, b):
        return self.data[b * BS:(b + 1) * BS]

    def u32(self, off):
        return struct.unpack_from("<I", self.data, off)[0]

    def u64(self, off):
        return struct.unpack_from("<Q", self.data, off)[0]

    def walk(self):
        self.kind[0] = ("sb", None)
        sb = 0
        self.sb = {
            "time": self.u32(44), "data_root": self.u64(320),
            "details_root": self.u64(328), "held": self.u64(56),
            "dsm": struct.unpack_from("<QQQQ", self.data, 64),
            "msm": struct.unpack_from("<QQQQ", self.data, 192),
        }
        for off, what in ((320, "mapping root"), (328, "details root"),
                          (64 + 16, "data sm index root"), (64 + 24, "data ref count root"),
                          (192 + 16, "metadata sm index block"),
                          (192 + 24, "metadata ref count root")):
            self.ptrs.append((sb, off, what))
        self.tree(self.sb["data_root"], "mapping-top", 8, None)
        self.tree(self.sb["details_root"], "details", 24, None)
        self.tree(self.sb["dsm"][2], "data-index", 16, None)
        self.tree(self.sb["dsm"][3], "data-refcount", 4, None)
        self.tree(self.sb["msm"][3], "meta-refcount", 4, None)
        mi = self.sb["msm"][2]
        if 0 < mi < self.nr:
            self.kind[mi] = ("mindex", None)
            nbitmaps = (self.sb["msm"][0] + 16319) // 16320
            for i in range(min(nbitmaps, 255)):
                off = mi * BS + 16 + 16 * i
                self.ptrs.append((mi, off - mi * BS, "metadata bitmap"))
                bb = self.u64(off)
                if 0 < bb < self.nr:
                    self.kind[bb] = ("bitmap", "metadata")

    def tree(self, root, tree, vsize, parent, depth=0):
        if not 0 < root < self.nr or root in self.nodes or depth > 8:
            return
        base = root * BS
        flags, nr, mx, vs = (self.u32(base + 4), self.u32(base + 16),
                             self.u32(base + 20), self.u32(base + 24))
        if mx > 500 or nr > mx:
            return
        internal = bool(flags & INTERNAL)
        self.kind[root] = ("node", tree)
        self.nodes[root] = {"tree": tree, "internal": internal, "vs": vs,
                            "nr": nr, "max": mx, "parent": parent}
        vbase = 32 + 8 * mx
        for i in range(nr):
            voff = vbase + vs * i
            if internal:
                self.ptrs.append((root, voff, "child of %s node" % tree))
                self.tree(self.u64(base + voff), tree, vsize, root, depth + 1)
            else:
                self.leaf_values.append((root, voff, tree))
                if tree == "mapping-top":
                    self.ptrs.append((root, voff, "device subtree root"))
                    self.tree(self.u64(base + voff), "mapping-dev", 8, root)
                elif tree == "data-index":
                    self.ptrs.append((root, voff, "data bitmap"))
                    bb = self.u64(base + voff)
                    if 0 < bb < self.nr:
                        self.kind[bb] = ("bitmap", "data")

    # -- editing ------------------------------------------------------------
    def put(self, fmt, off, v):
        struct.pack_into(fmt, self.data, off, v)

    def recsum(self, b):
        t = self.kind.get(b, ("?", None))[0]
        xor = {"sb": SB_XOR, "node": NODE_XOR, "mindex": INDEX_XOR,
               "bitmap": BITMAP_XOR}.get(t)
        if xor is None:
            return
        blk = self.blk(b)
        struct.pack_into("<I", self.data, b * BS, block_csum(blk, xor))


def used_blocks(img):
    return sorted(img.kind)


# -- the corruptions: each f(img, rng) -> description (img edited in place) --

def k_flip(img, rng, fix=False):
    b = rng.choice(used_blocks(img))
    n = rng.choice((1, 1, 2, 3, 8))
    # Mostly in the header and the first keys/values, where it matters.
    span = rng.choice((64, 512, BS))
    offs = []
    for _ in range(n):
        bit = rng.randrange(32 if fix else 0, span * 8)
        img.data[b * BS + bit // 8] ^= 1 << (bit % 8)
        offs.append(bit)
    if fix:
        img.recsum(b)
    return "%d bit(s) flipped in block %d (%s)%s at bits %s" % (
        n, b, img.kind[b][0] + ("/" + img.kind[b][1] if img.kind[b][1] else ""),
        ", checksum fixed" if fix else "", offs)


def k_flip_fixed(img, rng):
    return k_flip(img, rng, True)


def k_csum(img, rng):
    b = rng.choice(used_blocks(img))
    img.put("<I", b * BS, rng.getrandbits(32))
    return "random checksum on block %d (%s)" % (b, img.kind[b][0])


def k_zero(img, rng):
    b = rng.choice(used_blocks(img))
    img.data[b * BS:(b + 1) * BS] = bytes(BS)
    return "block %d (%s) zeroed" % (b, img.kind[b][0])


def k_blocknr(img, rng):
    b = rng.choice([x for x in used_blocks(img)] or [0])
    v = rng.choice((b + 1, 0 if b else 1, rng.randrange(img.nr), 1 << 40))
    img.put("<Q", b * BS + 8, v)
    img.recsum(b)
    return "block %d claims to be block %d (checksum fixed)" % (b, v)


def _ptr_values(img, b, rng):
    return rng.choice((img.nr, img.nr + rng.randrange(1, 1000), (1 << 40) - 1,
                       (1 << 64) - 1, 1 << 63, 0))


def k_ptr_range(img, rng):
    b, off, what = rng.choice(img.ptrs)
    v = _ptr_values(img, b, rng)
    img.put("<Q", b * BS + off, v)
    img.recsum(b)
    return "%s in block %d set to %d (device has %d blocks)" % (what, b, v, img.nr)


def k_ptr_cycle(img, rng):
    cands = [(b, off, w) for b, off, w in img.ptrs if b in img.nodes]
    if not cands:
        return k_ptr_range(img, rng)
    b, off, what = rng.choice(cands)
    # itself, its root, or an ancestor: a cycle
    anc = [b]
    p = img.nodes[b]["parent"]
    while p is not None and p in img.nodes and len(anc) < 10:
        anc.append(p)
        p = img.nodes[p]["parent"]
    v = rng.choice(anc)
    img.put("<Q", b * BS + off, v)
    img.recsum(b)
    return "%s in block %d points back to block %d (cycle)" % (what, b, v)


def k_ptr_type(img, rng):
    b, off, what = rng.choice(img.ptrs)
    others = [x for x in img.kind if x != img.u64(b * BS + off)]
    v = rng.choice(others)
    img.put("<Q", b * BS + off, v)
    img.recsum(b)
    return "%s in block %d points to block %d (a %s)" % (what, b, v, img.kind[v][0])


def _node(img, rng, pred=lambda n: True):
    c = [b for b, n in img.nodes.items() if pred(n)]
    return rng.choice(c) if c else rng.choice(list(img.nodes))


def k_nr_entries(img, rng):
    b = _node(img, rng)
    n = img.nodes[b]
    v = rng.choice((n["max"] + 1, 0, 0xffffffff, n["nr"] + 1, n["max"]))
    img.put("<I", b * BS + 16, v)
    img.recsum(b)
    return "node %d (%s) nr_entries %d -> %d" % (b, n["tree"], n["nr"], v)


def k_max_entries(img, rng):
    b = _node(img, rng)
    n = img.nodes[b]
    which = rng.choice(("max", "vs"))
    if which == "max":
        v = rng.choice((0, 1, n["nr"], n["max"] - 3, n["max"] + 3, 0x7fffffff))
        img.put("<I", b * BS + 20, v)
    else:
        v = rng.choice((0, 4, 8, 16, 24, 4000, 0xffffffff))
        img.put("<I", b * BS + 24, v)
    img.recsum(b)
    return "node %d (%s) %s set to %d" % (b, n["tree"], which, v)


def k_flags(img, rng):
    b = _node(img, rng)
    v = rng.choice((0, 3, INTERNAL, LEAF, 0x80000002))
    img.put("<I", b * BS + 4, v)
    img.recsum(b)
    return "node %d (%s) flags set to %#x" % (b, img.nodes[b]["tree"], v)


def k_keys(img, rng):
    b = _node(img, rng, lambda n: n["nr"] >= 2)
    n = img.nodes[b]
    if n["nr"] < 2:
        return k_nr_entries(img, rng)
    i = rng.randrange(n["nr"] - 1)
    base = b * BS + 32
    k1, k2 = img.u64(base + 8 * i), img.u64(base + 8 * i + 8)
    how = rng.choice(("swap", "dup", "huge", "first-zero-internal"))
    if how == "swap":
        img.put("<Q", base + 8 * i, k2)
        img.put("<Q", base + 8 * i + 8, k1)
    elif how == "dup":
        img.put("<Q", base + 8 * i + 8, k1)
    elif how == "huge":
        img.put("<Q", base + 8 * i, (1 << 64) - 1 - rng.randrange(4))
    else:
        img.put("<Q", base, 1 << 30)
    img.recsum(b)
    return "node %d (%s): keys %s at %d" % (b, n["tree"], how, i)


SB_FIELDS = [
    # (offset, fmt, name, values)
    (32, "<Q", "magic", (0, MAGIC + 1)),
    (40, "<I", "version", (0, 1, 3, 0xffffffff)),
    (44, "<I", "time", (0xffffffff, 1 << 24)),
    (56, "<Q", "held_root", (1, 3, 1 << 40)),
    (64, "<Q", "data sm nr_blocks", (0, 1, 1 << 40, (1 << 64) - 1)),
    (72, "<Q", "data sm nr_allocated", (1 << 40, (1 << 64) - 1)),
    (192, "<Q", "metadata sm nr_blocks", (0, 1, 5, 1 << 32, (1 << 64) - 1)),
    (200, "<Q", "metadata sm nr_allocated", (0, 1 << 40)),
    (336, "<I", "data_block_size", (0, 1, 256, 0xffffffff)),
    (340, "<I", "metadata_block_size", (0, 16)),
    (344, "<Q", "metadata_nr_blocks", (0, 1 << 50)),
    (352, "<I", "compat_flags", (1,)),
    (356, "<I", "compat_ro_flags", (1, 0x80000000)),
    (360, "<I", "incompat_flags", (1, 0x80000000)),
    (4, "<I", "flags", (2, 0xfffffffe)),
]


def k_sb_field(img, rng):
    off, fmt, name, vals = rng.choice(SB_FIELDS)
    v = rng.choice(vals)
    img.put(fmt, off, v)
    img.recsum(0)
    return "superblock %s set to %d" % (name, v)


def k_needs_check(img, rng):
    img.put("<I", 4, img.u32(4) | 1)
    img.recsum(0)
    return "superblock needs_check flag set (a valid image otherwise)"


def k_bitmap(img, rng):
    bms = [b for b, (t, d) in img.kind.items() if t == "bitmap"]
    if not bms:
        return k_flip_fixed(img, rng)
    b = rng.choice(bms)
    # Counts of the first entries: the used blocks live there.
    for _ in range(rng.randint(1, 6)):
        e = rng.randrange(64 if rng.random() < 0.8 else 16320)
        byte = b * BS + 16 + e // 4
        sh = 2 * (e % 4)
        v = rng.randrange(4)
        img.data[byte] = (img.data[byte] & ~(3 << sh)) | (v << sh)
    img.recsum(b)
    return "%s bitmap block %d: reference counts changed" % (img.kind[b][1], b)


def k_index(img, rng):
    mi = img.sb["msm"][2]
    cands = []
    if 0 < mi < img.nr:
        cands.append((mi, 16))
    cands += [(b, off) for b, off, t in img.leaf_values if t == "data-index"]
    if not cands:
        return k_bitmap(img, rng)
    b, off = rng.choice(cands)
    which = rng.choice(("nr_free", "none_free_before"))
    v = rng.choice((0, 0xffffffff, 16321, 1))
    img.put("<I", b * BS + off + (8 if which == "nr_free" else 12), v)
    img.recsum(b)
    return "index entry in block %d: %s set to %d" % (b, which, v)


def k_data_range(img, rng):
    leaves = [(b, off) for b, off, t in img.leaf_values if t == "mapping-dev"]
    if not leaves:
        return k_ptr_range(img, rng)
    b, off = rng.choice(leaves)
    nr = img.sb["dsm"][0]
    blk = rng.choice((nr, nr + 1, (1 << 40) - 1))
    t = img.u64(b * BS + off) & 0xffffff
    img.put("<Q", b * BS + off, (blk << 24) | t)
    img.recsum(b)
    return "a mapping in block %d points at data block %d (pool has %d)" % (b, blk, nr)


def k_dev_id(img, rng):
    tops = [b for b, n in img.nodes.items() if n["tree"] in ("mapping-top", "details")
            and not n["internal"] and n["nr"] > 0]
    if not tops:
        return k_keys(img, rng)
    b = rng.choice(tops)
    i = img.nodes[b]["nr"] - 1
    v = rng.choice((1 << 24, (1 << 64) - 1, 1 << 32))
    img.put("<Q", b * BS + 32 + 8 * i, v)
    img.recsum(b)
    return "%s leaf %d: device id set to %d" % (img.nodes[b]["tree"], b, v)


def k_details(img, rng):
    vals = [(b, off) for b, off, t in img.leaf_values if t == "details"]
    if not vals:
        return k_flip_fixed(img, rng)
    b, off = rng.choice(vals)
    which = rng.choice(((0, "<Q", "mapped_blocks", (1 << 63, 0)),
                        (16, "<I", "creation_time", (0xffffffff,)),
                        (20, "<I", "snapshotted_time", (0xffffffff, 1 << 24))))
    v = rng.choice(which[3])
    img.put(which[1], b * BS + off + which[0], v)
    img.recsum(b)
    return "device details in block %d: %s set to %d" % (b, which[2], v)


KINDS = {
    "flip": k_flip, "flip-fixed": k_flip_fixed, "csum": k_csum, "zero": k_zero,
    "blocknr": k_blocknr, "ptr-range": k_ptr_range, "ptr-cycle": k_ptr_cycle,
    "ptr-type": k_ptr_type, "nr-entries": k_nr_entries, "max-entries": k_max_entries,
    "flags": k_flags, "keys": k_keys, "sb-field": k_sb_field,
    "needs-check": k_needs_check, "bitmap": k_bitmap, "index": k_index,
    "data-range": k_data_range, "dev-id": k_dev_id, "details": k_details,
}
# Weights: semantic damage behind a valid checksum is the interesting part.
WEIGHTS = {"flip": 2, "flip-fixed": 4, "csum": 1, "zero": 1, "blocknr": 1,
           "ptr-range": 3, "ptr-cycle": 3, "ptr-type": 2, "nr-entries": 2,
           "max-entries": 2, "flags": 1, "keys": 2, "sb-field": 3,
           "needs-check": 1, "bitmap": 2, "index": 2, "data-range": 2,
           "dev-id": 1, "details": 1}


def pick_kind(rng):
    ks = sorted(KINDS)
    return rng.choices(ks, [WEIGHTS[k] for k in ks])[0]


def corrupt(base, kind, rng):
    img = Image(base)
    what = KINDS[kind](img, rng)
    return bytes(img.data), what


def device_roots(img):
    """dev_id -> root of its mapping tree, from the top-level leaves."""
    roots = {}
    for b, voff, tree in img.leaf_values:
        if tree != "mapping-top":
            continue
        i = (voff - 32 - 8 * img.nodes[b]["max"]) // 8
        key = img.u64(b * BS + 32 + 8 * i)
        roots[key] = img.u64(b * BS + voff)
    return roots


def damage_leaf(img, dev):
    """Break the checksum of one leaf of dev's mapping tree, not its root:
    a tree with a readable root and one unreadable leaf. Returns the block."""
    root = device_roots(img).get(dev)
    if root is None:
        raise SystemExit("device %d has no mapping tree" % dev)

    def in_tree(b):
        while b is not None and b != root:
            b = img.nodes[b]["parent"]
        return b == root
    leaves = sorted(b for b, n in img.nodes.items()
                    if n["tree"] == "mapping-dev" and not n["internal"] and
                    b != root and in_tree(b))
    if not leaves:
        raise SystemExit("device %d's mapping tree is a single leaf" % dev)
    b = leaves[0]
    img.put("<I", b * BS, img.u32(b * BS) ^ 0xffffffff)
    return b


def base_xml():
    """thin_dump XML of the base pool the VM tests damage: 1024 data blocks
    of 64 KiB; device 1 (400 mappings), 2 (a snapshot of 1 that broke
    sharing of 50 blocks), 3 (300 mappings, 100 of them shared with 1 and 2,
    so some blocks have 3 references and the ref-count trees are used)."""
    out = ['<superblock uuid="" time="1" transaction="5" flags="0" version="2" '
           'data_block_size="128" nr_data_blocks="1024">']

    def dev(i, ct, st, maps):
        out.append('  <device dev_id="%d" mapped_blocks="%d" transaction="0" '
                   'creation_time="%d" snap_time="%d">' % (i, len(maps), ct, st))
        for o, d, t in maps:
            out.append('    <single_mapping origin_block="%d" data_block="%d" time="%d"/>'
                       % (o, d, t))
        out.append('  </device>')
    dev(1, 0, 1, [(o, o, 0) for o in range(400)])
    dev(2, 1, 1, [(o, o, 0) for o in range(350)] + [(o, 50 + o, 1) for o in range(350, 400)])
    dev(3, 0, 0, [(o * 2, o, 0) for o in range(100)] +
        [(1000 + o, 500 + o, 1) for o in range(200)])
    out.append('</superblock>')
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    if argv[1] == "list-kinds":
        print("\n".join(sorted(KINDS)))
        return 0
    if argv[1] == "base-xml":
        sys.stdout.write(base_xml())
        return 0
    if argv[1] == "walk":
        img = Image(open(argv[2], "rb").read())
        for b in sorted(img.kind):
            print(b, *img.kind[b])
        print("%d pointers, %d leaf values" % (len(img.ptrs), len(img.leaf_values)))
        return 0
    if argv[1] in ("apply", "damage-leaf"):
        with open(argv[2], "rb") as f:
            img = Image(f.read())
        if argv[1] == "apply":
            rng = random.Random(int(argv[4]) if len(argv) > 4 else 1)
            print(KINDS[argv[3]](img, rng))
        else:
            print(damage_leaf(img, int(argv[3])))
        with open(argv[2], "r+b") as f:
            f.write(img.data)
        return 0
    if argv[1] == "gen":
        base = open(argv[2], "rb").read()
        out, count = argv[3], int(argv[4])
        rng = random.Random(int(argv[5]) if len(argv) > 5 else 1)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "manifest"), "w") as m:
            for i in range(count):
                kind = pick_kind(rng)
                data, what = corrupt(base, kind, rng)
                name = "%04d-%s.img" % (i, kind)
                with open(os.path.join(out, name), "wb") as f:
                    f.write(data)
                m.write("%s\t%s\n" % (name, what))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
