#!/bin/bash
# Scale benchmark (issue 13): delete, whole-thin discard and snapshot of a
# thin with many mappings, and a cold first read, ctpool against the kernel's
# dm-thin in the same guest, on plain disks.
#
# On the host, for each size N, bench/scale-xml.py writes thin_dump XML of a
# pool whose thin 1 has N mappings and thin 2 the probe size's, and
# thin_restore turns it into a metadata image. The data device holds only
# the free blocks: in the guest, a dm zero device stands in front of it for
# every mapped block (reads of mapped blocks return zeroes without disk I/O,
# and no disk of hundreds of GiB is needed: the harness zeroes its disks with
# write-zeroes between tests, which on plain disks allocates them whole). One guest (bench/vm-scale.sh) then, per size and
# repetition, copies the image onto the metadata disk, activates the pool and
# times `delete 1` with nothing else running. At the probe size it also times
# the delete again with probes running, a blkdiscard of the whole of thin 1,
# `create_snap` of thin 1 and the first write into it after (each on a fresh
# copy), and the first 4k read of thin 2 after activation (cold metadata
# cache) against the same read again; during the probed delete and the
# discard, 4k qd1 probes on other thins run (random reads of mapped blocks of
# thin 2, random writes into new blocks of thin 3), and the same probes run
# idle just before.
#
# env:
#   SCALE_SIZES="32768 262144 1048576"  mapping counts of thin 1
#   SCALE_PROBE=1048576     the size measured with probes (also thin 2's size)
#   SCALE_REPS=2            repetitions (even: K O, O K alternate)
#   SCALE_TARGETS="kernel ours"
#   SCALE_OUT=bench/results/scale   output prefix (.md, .log)
#   SCALE_KO=PATH           the ctpool module to measure (default ./dm-ctpool.ko)
#   SCALE_PROFILE=1         profile each timed operation (perf, cpu-clock):
#                           the top symbols go to OUT.md, the times are not
#                           comparable with an unprofiled run
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

SIZES=${SCALE_SIZES:-32768 262144 1048576}
PSIZE=${SCALE_PROBE:-1048576}
REPS=${SCALE_REPS:-2}
TARGETS=${SCALE_TARGETS:-kernel ours}
OUT=${SCALE_OUT:-bench/results/scale}
FREE=16384	# unmapped data blocks: room for the new-block write probe

case " $SIZES " in *" $PSIZE "*) ;; *) echo "scale: SCALE_PROBE must be one of SCALE_SIZES" >&2; exit 2 ;; esac
command="bash bench/scale.sh"
for v in SCALE_SIZES SCALE_PROBE SCALE_REPS SCALE_TARGETS SCALE_KO SCALE_PROFILE; do
	[ -z "${!v:-}" ] || command="$v='${!v}' $command"
done
commit=$(git rev-parse --short HEAD 2>/dev/null)
if [ -n "${SCALE_KO:-}" ]; then
	commit="$commit (module: $SCALE_KO, not built from this tree)"
elif [ -n "$(git status --porcelain -- kernel persistent-data 2>/dev/null)" ]; then
	commit="$commit (+ uncommitted changes in kernel/ or persistent-data/)"
fi

KO=${SCALE_KO:-dm-ctpool.ko}
[ -f "$KO" ] || { echo "scale: $KO is not built (make module)" >&2; exit 1; }
RUN=$ROOT/build/scale-$(basename "$OUT")
mkdir -p "$RUN" "$(dirname "$OUT")"
cp -p "$KO" "$RUN/dm-ctpool.ko"

# Metadata images. 128 MiB holds two thins of 1M mappings with room to spare.
META_MB=128
for n in $SIZES; do
	case $n in ''|*[!0-9]*) echo "scale: bad size '$n'" >&2; exit 2 ;; esac
	img=$RUN/meta-$n.img
	rm -f "$img"
	truncate -s ${META_MB}M "$img"
	python3 bench/scale-xml.py "$n" "$PSIZE" "$FREE" > "$RUN/meta-$n.xml" &&
		thin_restore -q -i "$RUN/meta-$n.xml" -o "$img" &&
		thin_check -q "$img" || { echo "scale: preparing $img failed" >&2; exit 1; }
	rm -f "$RUN/meta-$n.xml"
done
# The guest puts a dm zero device in front of it for the mapped blocks.
data_mb=$(( FREE / 16 + 64 ))	# 64 KiB blocks
echo "scale: sizes '$SIZES', probes at $PSIZE, reps $REPS; disks ${META_MB}M + ${data_mb}M, plain"

start=$(date +%s)
log=$OUT.log
qemu/run-vm.sh --plain-disks --disk ${META_MB}M --disk ${data_mb}M --timeout 3600 \
	--test-timeout 3500 bench/vm-scale.sh "imgdir=$RUN" "sizes=$SIZES" "probe=$PSIZE" \
	"reps=$REPS" "free=$FREE" "targets=$TARGETS" "ko=$RUN/dm-ctpool.ko" \
	"profile=${SCALE_PROFILE:-0}" 2>&1 | tee "$log"
grep -q '^@@SCALE end' "$log" || { echo "scale: the guest did not finish; see $log" >&2; exit 1; }

python3 - "$log" "$OUT.md" "$command" "$commit" "$(( $(date +%s) - start ))" "$PSIZE" <<'PY'
import statistics, sys
log, out, command, commit, secs, psize = sys.argv[1:7]
vals, meta, prof = {}, [], {}
for line in open(log, errors="replace"):
    f = line.split()
    if len(f) >= 6 and f[0] == "@@PROFILE":
        prof.setdefault(tuple(f[1:5]), []).append(" ".join(f[5:]))
    elif len(f) >= 2 and f[0] == "@@SCALE":
        if f[1] == "meta":
            meta.append(" ".join(f[2:]))
        elif f[1] == "result" and len(f) == 7:
            size, tgt, rep, key, v = f[2:7]
            vals.setdefault((key, size, tgt), []).append(v)

def cell(key, size, tgt):
    v = vals.get((key, size, tgt), [])
    nums = [float(x) for x in v if x != "error"]
    if not v:
        return "-"
    s = " / ".join(x for x in v)
    return s if len(nums) < 2 else "%s (med %.1f)" % (s, statistics.median(nums))

sizes = sorted({k[1] for k in vals}, key=int)
w = open(out, "w").write
w("# Scale: operations on a big thin, ctpool vs kernel dm-thin\n\n")
w("Command: `%s` (source %s, %s s). %s.\n\n" % (command, commit, secs, "; ".join(meta)))
w("Each cell lists every repetition (targets alternate K O, O K), then the median.\n\n")
w("## Delete time (ms) by mappings in the deleted thin\n\n| mappings | kernel | ours | ms per 1k mappings, ours |\n|---|---|---|---|\n")
for s in sizes:
    ours = [float(x) for x in vals.get(("delete_ms", s, "ours"), []) if x != "error"]
    per = "%.2f" % (statistics.median(ours) / (int(s) / 1000.0)) if ours else "-"
    w("| %s | %s | %s | %s |\n" % (s, cell("delete_ms", s, "kernel"), cell("delete_ms", s, "ours"), per))
w("\n## Whole-thin operations, %s mappings\n\n" % psize)
w("Each on a fresh copy of the metadata. The cold read is the first 4k read of a mapped block "
  "of another thin after activation (the mapping tree read from disk), the warm read the same "
  "read again (fio's completion latency of that one read). The other times include starting "
  "dmsetup, blkdiscard or dd in the guest.\n\n")
w("| operation | kernel | ours |\n|---|---|---|\n")
for key, label in (("delete_ms", "`delete` message, nothing else running (ms)"),
                   ("delete_probed_ms", "`delete` message while the probes run (ms)"),
                   ("discard_ms", "blkdiscard of the whole thin (ms)"),
                   ("snap_ms", "`create_snap` message (ms)"),
                   ("cow_write_ms", "first 4k write after the snapshot, O_SYNC (ms)"),
                   ("cold_read_us", "cold first read after activation (us)"),
                   ("warm_read_us", "the same read again (us)")):
    w("| %s | %s | %s |\n" % (label, cell(key, psize, "kernel"), cell(key, psize, "ours")))
for tgt in ("kernel", "ours"):
    left = vals.get(("discard_left_sectors", psize, tgt))
    if left:
        w("\n%s: thin 1 still mapped %s sectors after the blkdiscard.\n" % (tgt, " / ".join(left)))
w("\n## Probes on other thins during the %s-mapping delete and discard (4k, qd1)\n\n" % psize)
w("Reads: random reads of mapped blocks of another thin (256 MiB of it, metadata cached). "
  "Writes: random writes into new blocks of a fresh thin (each provisions a block, zeroing on). "
  "Idle: the same probes just before each operation.\n\n")
w("| probe | kernel idle | kernel delete | kernel discard | ours idle | ours delete | ours discard |\n"
  "|---|---|---|---|---|---|---|\n")
for key, label in (("read_p50_us", "read p50 (us)"), ("read_p99_us", "read p99 (us)"),
                   ("read_max_ms", "read max (ms)"), ("write_p99_us", "new-block write p99 (us)"),
                   ("write_max_ms", "new-block write max (ms)")):
    w("| %s | %s |\n" % (label, " | ".join(cell(key + sfx, psize, tgt) for tgt in ("kernel", "ours")
                                          for sfx in ("_idle", "_delete", "_discard"))))
for (size, tgt, rep, op), rows in sorted(prof.items()):
    w("\n## Profile: %s of %s mappings, %s, rep %s\n\n" % (op, size, tgt, rep))
    w("Self time by symbol over the whole guest (perf record -a -e cpu-clock), "
      "rows over 0.7%%:\n\n```\n%s\n```\n" % "\n".join(rows))
errs = [k for k, v in vals.items() if "error" in v]
if errs:
    w("\nErrors: %s\n" % ", ".join(" ".join(k) for k in sorted(errs)))
PY
echo "scale: wrote $OUT.md ($(( $(date +%s) - start )) s)"
