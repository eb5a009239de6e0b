#!/usr/bin/env python3
# Random thin_dump-style XML for the metadata oracle tests.
#
# The output is canonical: exactly what thin_dump 0.9.0 would print for the
# metadata it describes (mapped_blocks counted, consecutive mappings with the
# same time folded into range_mapping), so a restore followed by a dump must
# give it back byte for byte.
#
# usage: meta-gen-xml.py SEED [small|large]          one XML on stdout
#        meta-gen-xml.py --batch FIRST COUNT DIR [small|large]
#                                            DIR/FIRST.xml ... (one process)
import random
import sys


def gen(seed, size):
    rnd = random.Random(seed)
    large = size == 'large'
    if large:
        nr_data = rnd.randint(40000, 150000)
        nr_devs = rnd.randint(3, 12)
        max_maps = 30000
    else:
        nr_data = rnd.choice([rnd.randint(1, 300), rnd.randint(300, 20000)])
        nr_devs = rnd.randint(0, 6)
        max_maps = 600
    time = rnd.randint(0, 50)
    sb = dict(time=time, transaction=rnd.randint(0, 1 << rnd.choice([4, 20, 63])),
              flags=0, version=2,
              data_block_size=rnd.choice([128, 256, 1024, 2048 * 1024]),
              nr_data_blocks=nr_data)
    ids = set()
    while len(ids) < nr_devs:
        ids.add(rnd.choice([rnd.randint(0, 20), rnd.randint(0, (1 << 24) - 1)]))
    # a pool of "hot" data blocks shared by several devices: counts >= 3
    hot = [rnd.randrange(nr_data) for _ in range(rnd.randint(0, 8))]
    out = []
    o = out.append
    o('<superblock uuid="" time="%(time)d" transaction="%(transaction)d" '
      'flags="%(flags)d" version="%(version)d" data_block_size="%(data_block_size)d" '
      'nr_data_blocks="%(nr_data_blocks)d">' % sb)
    for dev in sorted(ids):
        maps = {}
        target = rnd.randint(0, min(max_maps, nr_data * 2))
        vb = rnd.randint(0, 5) if rnd.random() < 0.5 else rnd.randint(0, 1 << 40)
        while len(maps) < target:
            run = rnd.choice([1, 1, 2, 3, rnd.randint(1, 300)])
            t = rnd.randint(0, time)
            if hot and rnd.random() < 0.1:
                db = rnd.choice(hot)
                run = 1
            else:
                db = rnd.randrange(nr_data)
            for i in range(run):
                if db + i >= nr_data or len(maps) >= target:
                    break
                maps[vb + i] = (db + i, t)
            vb += run + rnd.choice([0, 0, 1, rnd.randint(1, 1000)])
        ctime = rnd.randint(0, time)
        stime = rnd.randint(ctime, time)
        o('  <device dev_id="%d" mapped_blocks="%d" transaction="%d" '
          'creation_time="%d" snap_time="%d">' %
          (dev, len(maps), rnd.randint(0, 1000), ctime, stime))
        run = None
        for vb in sorted(maps):
            db, t = maps[vb]
            if run and vb == run[0] + run[2] and db == run[1] + run[2] and t == run[3]:
                run[2] += 1
                continue
            emit(o, run)
            run = [vb, db, 1, t]
        emit(o, run)
        o('  </device>')
    o('</superblock>')
    return '\n'.join(out) + '\n'


def emit(o, run):
    if not run:
        return
    vb, db, n, t = run
    if n == 1:
        o('    <single_mapping origin_block="%d" data_block="%d" time="%d"/>' % (vb, db, t))
    else:
        o('    <range_mapping origin_begin="%d" data_begin="%d" length="%d" time="%d"/>' %
          (vb, db, n, t))


if __name__ == '__main__':
    if sys.argv[1] == '--batch':
        first, count, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        size = sys.argv[5] if len(sys.argv) > 5 else 'small'
        for seed in range(first, first + count):
            with open('%s/%d.xml' % (out, seed), 'w') as f:
                f.write(gen(seed, size))
    else:
        sys.stdout.write(gen(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else 'small'))
