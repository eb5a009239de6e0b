#!/usr/bin/env python3
"""Generate thin_dump XML for the scale benchmark (bench/scale.sh).

usage: scale-xml.py BIG PROBE FREE [RUN [THIRD]]

Thin 1 gets BIG mappings and thin 2 PROBE mappings, virtual blocks from 0 up.
Their data blocks come in runs of RUN (default 16) blocks, the runs of both
thins shuffled over the data device (fixed seed), so neither thin's data is
one contiguous extent: deleting thin 1 frees blocks spread over every
space-map bitmap, as after random writes. FREE blocks stay unmapped at the
end of the data device (room for new-block writes). 64 KiB data blocks.
THIRD (default 0) adds a thin 3 of that many mappings, laid out the same.
"""
import random
import sys


def runs(n, run):
    """Lengths of the runs that make up n blocks."""
    out = [run] * (n // run)
    if n % run:
        out.append(n % run)
    return out


def main():
    if len(sys.argv) not in (4, 5, 6):
        sys.exit(__doc__)
    big, probe, free = (int(a) for a in sys.argv[1:4])
    run = int(sys.argv[4]) if len(sys.argv) >= 5 else 16
    third = int(sys.argv[5]) if len(sys.argv) == 6 else 0
    if min(big, probe, free, third) < 0 or run < 1:
        sys.exit("scale-xml: counts must be >= 0, RUN >= 1")

    # Each run of either thin gets a slot; slots are laid out in shuffled order.
    owners = [(1, n) for n in runs(big, run)] + [(2, n) for n in runs(probe, run)] + \
        [(3, n) for n in runs(third, run)]
    random.Random(42).shuffle(owners)
    placed = {1: [], 2: [], 3: []}
    data = 0
    for dev, n in owners:
        placed[dev].append((data, n))
        data += n
    total = data + free

    w = sys.stdout.write
    w('<superblock uuid="" time="0" transaction="1" flags="0" version="2" '
      'data_block_size="128" nr_data_blocks="%d">\n' % total)
    for dev, count in ((1, big), (2, probe), (3, third)):
        if dev == 3 and not third:
            continue
        w('  <device dev_id="%d" mapped_blocks="%d" transaction="0" '
          'creation_time="0" snap_time="0">\n' % (dev, count))
        virt = 0
        for data_begin, n in placed[dev]:
            w('    <range_mapping origin_begin="%d" data_begin="%d" length="%d" '
              'time="0"/>\n' % (virt, data_begin, n))
            virt += n
        w('  </device>\n')
    w('</superblock>\n')


if __name__ == "__main__":
    main()
