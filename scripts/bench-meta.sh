#!/bin/bash
# Benchmark (not a test): `ctpool meta restore|dump|check` against
# thin_restore|thin_dump|thin_check 0.9.0 on a 1,000,000-mapping XML
# (8 devices of 125,000 mostly scattered mappings, some data blocks shared).
# Prints each tool's wall and CPU (user+sys) time and the ratios ours/theirs
# (below 1: ours is faster). On a busy machine trust the CPU ratio.
# Then the library alone: delete and create_snap of a thin with 32768 and
# 1,000,000 mappings (build/bench/thin-delete-bench, bench/thin-delete-bench.c).
#
# usage: scripts/bench-meta.sh [MAPPINGS]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CTPOOL=${CTPOOL:-$ROOT/build/ctpool}
DELETE_BENCH=${DELETE_BENCH:-$ROOT/build/bench/thin-delete-bench}
MAPPINGS=${1:-1000000}
for t in thin_restore thin_dump thin_check python3 /usr/bin/time "$CTPOOL" "$DELETE_BENCH"; do
	command -v "$t" > /dev/null ||
		{ echo "missing $t (make deps userspace; apt-get install time)"; exit 1; }
done
if [ -z "${TMPDIR:-}" ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-meta.XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 - "$MAPPINGS" > "$work/in.xml" <<'PY'
import random, sys
n = int(sys.argv[1]); devs = 8; per = n // devs
rnd = random.Random(42)
nr_data = n + n // 5
out = sys.stdout
out.write('<superblock uuid="" time="3" transaction="7" flags="0" version="2" '
          'data_block_size="128" nr_data_blocks="%d">\n' % nr_data)
free = list(range(nr_data)); rnd.shuffle(free)
pos = 0
for dev in range(devs):
    out.write('  <device dev_id="%d" mapped_blocks="%d" transaction="0" '
              'creation_time="0" snap_time="0">\n' % (dev, per))
    vb = 0; left = per
    while left:
        if rnd.random() < 0.1:
            run = min(left, rnd.randint(2, 16))
            db = rnd.randrange(nr_data - run)
            out.write('    <range_mapping origin_begin="%d" data_begin="%d" '
                      'length="%d" time="0"/>\n' % (vb, db, run))
        else:
            run = 1
            out.write('    <single_mapping origin_block="%d" data_block="%d" '
                      'time="%d"/>\n' % (vb, free[pos % nr_data], rnd.randint(0, 3)))
            pos += 1
        vb += run + (1 if rnd.random() < 0.5 else 0); left -= run
    out.write('  </device>\n')
out.write('</superblock>\n')
PY

# secs COMMAND...: run it; print "WALL CPU" in seconds.
secs() {
	/usr/bin/time -f '%e %U %S' -o "$work/time" "$@" > /dev/null
	awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$work/time"
}

# row WHAT "THEIR_WALL THEIR_CPU" "OUR_WALL OUR_CPU"
row() {
	echo "$1 $2 $3" | awk '{
		printf "%-8s thin tools %6.2fs (cpu %6.2fs)  ctpool %6.2fs (cpu %6.2fs)  ratio %5.2f (cpu %5.2f)\n",
			$1, $2, $3, $4, $5, $4 / ($2 > 0 ? $2 : 0.01), $5 / ($3 > 0 ? $3 : 0.01) }'
}

truncate -s 512M "$work/theirs.img" "$work/ours.img"
echo "input: $(wc -l < "$work/in.xml") lines, $MAPPINGS mappings"
tr=$(secs thin_restore -q -i "$work/in.xml" -o "$work/theirs.img")
cr=$(secs "$CTPOOL" meta restore -i "$work/in.xml" -o "$work/ours.img")
row restore "$tr" "$cr"
td=$(secs thin_dump -o "$work/theirs.xml" "$work/theirs.img")
cd=$(secs "$CTPOOL" meta dump -o "$work/ours.xml" "$work/theirs.img")
row dump "$td" "$cd"
tc=$(secs thin_check -q "$work/ours.img")
cc=$(secs "$CTPOOL" meta check -q "$work/ours.img")
row check "$tc" "$cc"
if cmp -s "$work/theirs.xml" "$work/ours.xml" &&
   thin_dump "$work/ours.img" | cmp -s - "$work/theirs.xml"; then
	echo "outputs identical"
else
	echo "OUTPUTS DIFFER"
	exit 1
fi

echo "library: create_snap, delete of the snapshot, delete of the origin (+ commit each):"
TMPDIR=$work "$DELETE_BENCH"
