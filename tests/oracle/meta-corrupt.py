#!/usr/bin/env python3
# Corrupt a metadata image in place, for tests/oracle/meta-corrupt.sh.
#
# usage: meta-corrupt.py IMAGE SEED
# Picks a block in use (non-zero) and damages it one of several ways. Prints
# "BLOCK MODE" where MODE says whether the block's checksum still matches
# ("resealed": the damage must be found by structure checks) or not.
import random
import struct
import sys

BS = 4096
XORS = [160774, 121107, 160478, 240779]   # superblock, node, index, bitmap

T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    T.append(c)


def crc(buf):
    c = 0xffffffff
    for b in buf:
        c = T[(c ^ b) & 0xff] ^ (c >> 8)
    return c


def kind(block):
    stored = struct.unpack_from('<I', block, 0)[0]
    body = crc(block[4:])
    for x in XORS:
        if body ^ x == stored:
            return x
    return None


def reseal(block, xor):
    struct.pack_into('<I', block, 0, crc(bytes(block[4:])) ^ xor)


def main():
    path, seed = sys.argv[1], int(sys.argv[2])
    rnd = random.Random(seed)
    data = bytearray(open(path, 'rb').read())
    used = [n for n in range(len(data) // BS) if any(data[n * BS:(n + 1) * BS])]
    n = rnd.choice(used)
    blk = bytearray(data[n * BS:(n + 1) * BS])
    xor = kind(blk)
    mode = rnd.choice(['flip', 'flip', 'word', 'word', 'zero', 'random', 'copy',
                       'header'])
    if mode == 'flip':
        for _ in range(rnd.randint(1, 8)):
            i = rnd.randrange(4, BS)
            blk[i] ^= 1 << rnd.randrange(8)
    elif mode == 'word':
        # a plausible small number in a random aligned field
        off = rnd.randrange(8, BS - 8) & ~7
        struct.pack_into('<Q', blk, off, rnd.choice(
            [0, 1, 2, 3, n, rnd.randrange(len(data) // BS + 10), 2 ** 64 - 1,
             rnd.getrandbits(64)]))
    elif mode == 'header':
        off = rnd.choice([4, 16, 20, 24, 32, 40])
        struct.pack_into('<I', blk, off, rnd.choice(
            [0, 1, 2, 3, 126, 252, 253, 336, 1000, 2 ** 32 - 1, rnd.getrandbits(32)]))
    elif mode == 'zero':
        blk = bytearray(BS)
    elif mode == 'random':
        blk = bytearray(rnd.getrandbits(8) for _ in range(BS))
    elif mode == 'copy':
        m = rnd.choice(used)
        blk = bytearray(data[m * BS:(m + 1) * BS])
    sealed = 'broken'
    if xor is not None and mode in ('flip', 'word', 'header') and rnd.random() < 0.6:
        reseal(blk, xor)
        sealed = 'resealed'
    data[n * BS:(n + 1) * BS] = blk
    open(path, 'wb').write(data)
    print(n, sealed if blk != bytearray(BS) or True else sealed)


main()
