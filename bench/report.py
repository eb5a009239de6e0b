#!/usr/bin/env python3
"""Host side of `make bench`: reads the "@@BENCH ..." lines that
bench/vm-bench.sh printed in the guest (one log per VM boot) and

  report.py state  --skipfile F LOG...   writes the group instances already
        done (or abandoned) to F, prints "end" if the last boot finished, or
        "crashed TARGET GROUP REP" when the last boot died inside a group;
  report.py report --out PREFIX --targets T --reps N --command C LOG...
        writes PREFIX.csv, PREFIX.md and PREFIX.png (gnuplot) and prints the
        table to stdout.

Line protocol (guest -> host):
  @@BENCH def ID GROUP UNIT higher|lower RAW LABEL...   RAW: run | n/a | =ID
  @@BENCH meta KEY VALUE...
  @@BENCH begin GROUP TARGET REP / finish GROUP TARGET REP
  @@BENCH result ID TARGET REP VALUE|error
  @@BENCH note TEXT / end
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile

TARGET_NAMES = {"raw": "raw", "kernel": "kernel dm-thin", "ours": "ctpool"}
DISK_LABELS = {
    "plain": "plain virtio disks: writing zeroes costs what writing data costs "
             "(a WRITE_ZEROES request is what the host makes of it), discards punch holes",
    "detect-zeroes": "detect-zeroes=unmap: QEMU turns every write of zeroes into a "
                     "hole punch, so block zeroing is nearly free (unlike a real disk)",
}


class Run:
    def __init__(self):
        self.defs = {}          # id -> dict
        self.order = []         # ids in definition order
        self.meta = {}
        self.results = {}       # (id, target, rep) -> str
        self.notes = []
        self.begun = set()      # (group, target, rep) over all boots
        self.ended = False      # last boot printed "end"
        self.crashed = None     # (target, group, rep) of the last boot
        self.paused = False     # the last boot ran out of time between groups

    def parse(self, logs):
        for n, path in enumerate(logs):
            last = n == len(logs) - 1
            open_inst = set()
            self.ended = False
            try:
                lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
            except OSError:
                continue
            for line in lines:
                if not line.startswith("@@BENCH "):
                    continue
                f = line.split()[1:]
                if not f:
                    continue
                kind = f[0]
                if kind == "def" and len(f) >= 7:
                    wid = f[1]
                    if wid not in self.defs:
                        self.order.append(wid)
                    self.defs[wid] = dict(group=f[2], unit=f[3], better=f[4],
                                          raw=f[5], label=" ".join(f[6:]))
                elif kind == "meta" and len(f) >= 2:
                    # Per boot; "date" is when the run started; the rest
                    # should not change between boots: show it if it did.
                    val = " ".join(f[2:])
                    old = self.meta.get(f[1])
                    if old is None:
                        self.meta[f[1]] = val
                    elif f[1] != "date" and val not in old.split(" / then "):
                        self.meta[f[1]] = old + " / then " + val
                elif kind == "begin" and len(f) == 4:
                    inst = (f[1], f[2], int(f[3]))
                    self.begun.add(inst)
                    open_inst.add(inst)
                elif kind == "finish" and len(f) == 4:
                    open_inst.discard((f[1], f[2], int(f[3])))
                elif kind == "result" and len(f) == 5:
                    key = (f[1], f[2], int(f[3]))
                    self.results.setdefault(key, f[4])
                    self.begun.add((self.defs.get(f[1], {}).get("group", "?"), f[2], int(f[3])))
                elif kind == "note":
                    self.notes.append(" ".join(f[1:]))
                elif kind == "end":
                    self.ended = True
                elif kind == "pause":
                    self.paused = last
            # A group the guest began but never finished: the VM died or was
            # killed inside it. Its cells without a result are errors.
            for (group, target, rep) in open_inst:
                why = "VM died or timed out in group %s on %s (rep %d)" % (group, target, rep)
                self.notes.append(why)
                for wid in self.order:
                    if self.defs[wid]["group"] == group:
                        self.results.setdefault((wid, target, rep), "error")
                if last:
                    self.crashed = (target, group, rep)


def fmt(v):
    if v is None:
        return ""
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def cell(run, wid, target, reps):
    """(median or None, display text, list of per-rep strings)"""
    d = run.defs[wid]
    if target == "raw" and d["raw"] != "run":
        if d["raw"] == "n/a":
            return None, "n/a", []
        wid = d["raw"][1:]   # "=ID": the same workload on the raw disk
    vals = [run.results.get((wid, target, r), "error") for r in range(1, reps + 1)]
    nums = []
    for v in vals:
        try:
            nums.append(float(v))
        except ValueError:
            pass
    if not nums:
        return None, "error", vals
    med = statistics.median(nums)
    text = fmt(med)
    if len(nums) < len(vals):
        text += " (%d/%d ok)" % (len(nums), len(vals))
    return med, text, vals


def num(v):
    try:
        return float(v)
    except ValueError:
        return None


def ratio(run, wid, num_t, den_t, reps, cells):
    """ours/other for one row: (value, low, high, how).

    When both targets ran the row's own workload (same group), each
    repetition ran them back to back, so drift of the host cancels in the
    per-repetition ratio: the value is the median of those ratios and low/high
    their range ("paired"). Otherwise (the raw figure borrowed from another
    row) it is the ratio of the medians ("medians")."""
    a, b = cells[num_t][0], cells[den_t][0]
    if a is None or b is None or b == 0:
        return None
    d = run.defs[wid]
    if den_t == "raw" and d["raw"] != "run":
        return (a / b, None, None, "medians")
    rs = []
    for r in range(1, reps + 1):
        x = num(run.results.get((wid, num_t, r), "error"))
        y = num(run.results.get((wid, den_t, r), "error"))
        if x is not None and y:
            rs.append(x / y)
    if not rs:
        return (a / b, None, None, "medians")
    return (statistics.median(rs), min(rs), max(rs), "paired")


def rtext(x, spread=True):
    if x is None:
        return ""
    if x[1] is None or not spread or x[1] == x[2]:
        return "%.2f" % x[0]
    return "%.2f (%.2f–%.2f)" % x[:3]


def report(run, args):
    targets = args.targets.split()
    reps = args.reps
    groups = args.groups.split()
    rows = []
    for wid in run.order:
        d = run.defs[wid]
        if groups and d["group"] not in groups:
            continue
        cells = {t: cell(run, wid, t, reps) if t in targets else (None, "not run", [])
                 for t in ("raw", "kernel", "ours")}
        rows.append(dict(id=wid, d=d, cells=cells,
                         ok=ratio(run, wid, "ours", "kernel", reps, cells),
                         orr=ratio(run, wid, "ours", "raw", reps, cells)))

    # CSV
    with open(args.out + ".csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["workload", "label", "unit", "better", "raw", "kernel", "ours",
                    "ours_kernel", "ours_raw", "raw_reps", "kernel_reps", "ours_reps",
                    "ours_kernel_min", "ours_kernel_max"])
        for r in rows:
            c = r["cells"]
            w.writerow([r["id"], r["d"]["label"], r["d"]["unit"], r["d"]["better"]]
                       + [c[t][1] if c[t][0] is None else "%.1f" % c[t][0]
                          for t in ("raw", "kernel", "ours")]
                       + ["" if r["ok"] is None else "%.3f" % r["ok"][0],
                          "" if r["orr"] is None else "%.3f" % r["orr"][0]]
                       + [";".join(c[t][2]) for t in ("raw", "kernel", "ours")]
                       + (["", ""] if r["ok"] is None or r["ok"][1] is None
                          else ["%.3f" % r["ok"][1], "%.3f" % r["ok"][2]]))

    # Markdown
    m = run.meta
    arrow = {"higher": "↑", "lower": "↓"}
    disks = DISK_LABELS.get(args.disks, args.disks or "not recorded")
    lines = ["# ctpool benchmark: raw disk vs kernel dm-thin vs ctpool (%s disks)"
             % (args.disks or "?"), ""]
    lines.append("Emulated guest (QEMU TCG) on a shared, loaded host: absolute figures are "
                 "meaningless; only the ratios within this one run mean anything, and those "
                 "only roughly (see the ranges). Figures: median of %d repetition(s). "
                 "↑ higher is better, ↓ lower is better. ours/kernel > 1 means ctpool's "
                 "figure is larger (better for ↑ rows, worse for ↓ rows). Each repetition "
                 "runs the targets back to back, in the reverse order every other repetition "
                 "(raw kernel ours, ours kernel raw, ...: with an even count no row depends "
                 "on the order); a "
                 "ratio is the median of the per-repetition ratios, with their range in "
                 "parentheses, except where the raw figure is borrowed from another row "
                 "(ratio of the medians)." % reps)
    lines.append("")
    for key, label in (("date", "date"), ("kernel", "guest kernel"), ("fio", "fio"),
                       ("ctpool", "ctpool module"), ("guest", "guest"), ("params", "parameters")):
        if key in m:
            lines.append("- %s: %s" % (label, m[key]))
    lines.append("- disks: %s%s" % (disks, " (QEMU `%s`)" % m["disks"] if "disks" in m else ""))
    lines.append("- command: `%s`" % args.command)
    if args.info:
        lines.append("- run: %s" % args.info)
    if args.commit:
        lines.append("- source: %s" % args.commit)
    lines.append("")
    lines.append("| workload | unit | raw | kernel dm-thin | ctpool | ours/kernel | ours/raw |")
    lines.append("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        c = r["cells"]
        lines.append("| %s (`%s`) | %s %s | %s | %s | %s | %s | %s |" % (
            r["d"]["label"], r["id"], r["d"]["unit"], arrow.get(r["d"]["better"], ""),
            c["raw"][1], c["kernel"][1], c["ours"][1],
            rtext(r["ok"]), rtext(r["orr"])))
    lines.append("")
    lines.append("Raw rows marked n/a have no raw equivalent (snapshots, deletes). "
                 "Rows whose raw workload is the same as another row's show that row's raw figure "
                 "(512k pool blocks vs 64k; zeroing off vs on).")
    notes = list(dict.fromkeys(run.notes))
    if notes:
        lines.append("")
        lines.append("Notes from the run:")
        lines.append("")
        lines.extend("- " + n for n in notes)
    lines.append("")
    with open(args.out + ".md", "w") as fh:
        fh.write("\n".join(lines))

    chart(rows, args.out + ".png", m, reps, args.disks or "?")

    # Console summary.
    print("\n%-12s %-7s %10s %10s %10s %8s %8s" % ("workload", "unit", "raw", "kernel",
                                                 "ctpool", "o/k", "o/raw"))
    for r in rows:
        c = r["cells"]
        print("%-12s %-7s %10s %10s %10s %8s %8s" % (
            r["id"], r["d"]["unit"] + arrow.get(r["d"]["better"], ""),
            c["raw"][1][:10], c["kernel"][1][:10], c["ours"][1][:10],
            rtext(r["ok"], False), rtext(r["orr"], False)))
    errs = [(r["id"], t) for r in rows for t in ("raw", "kernel", "ours")
            if "error" in r["cells"][t][1] or "ok)" in r["cells"][t][1]]
    if errs:
        print("\ncells with errors: " + ", ".join("%s/%s" % e for e in errs))
    for n in notes:
        print("note: " + n)


def chart(rows, path, meta, reps, disks):
    data = [r for r in rows if r["ok"] is not None]
    vals = [v for r in data for v in r["ok"][:3] if v is not None]
    if not data:
        print("report: no ours/kernel ratio to plot", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        dat = os.path.join(tmp, "ratios.dat")
        with open(dat, "w") as fh:
            for i, r in enumerate(rows):
                v = r["ok"] and r["ok"][0]
                color = 0x3b75af if r["d"]["better"] == "higher" else 0xe08a2c
                if v is None:
                    fh.write('%d 1 1 1 %d "%s" "%s" 1 1\n' % (i, 0x999999, r["id"],
                                                               r["cells"]["ours"][1].split()[0]))
                else:
                    lo_, hi_ = r["ok"][1], r["ok"][2]
                    if lo_ is None:
                        lo_ = hi_ = v
                    fh.write('%d %g %g %g %d "%s" "%.2f" %g %g\n' % (
                        i, v, min(v, 1), max(v, 1), color, r["id"], v, lo_, hi_))
        lo = min(min(vals), 1) / 1.6
        hi = max(max(vals), 1) * 1.6
        gp = os.path.join(tmp, "chart.gp")
        title = ("ctpool / kernel dm-thin: median of %d per-repetition ratio(s), bars = their range; "
                 "%s disks; %s (TCG guest: ratios only)" % (reps, disks, meta.get("date", "")))
        with open(gp, "w") as fh:
            fh.write("""
set terminal pngcairo size 1400,700 font ",10" noenhanced
set output "%s"
set title "%s"
set logscale y
set yrange [%g:%g]
set ylabel "ours / kernel (log scale)"
set xrange [-0.8:%g]
set xtics rotate by -40 left nomirror
set grid ytics
set key top left
set arrow from -0.8,1 to %g,1 nohead lw 1.5 lc rgb "black"
set style fill solid 0.85 border -1
plot "%s" using 1:2:($1-0.38):($1+0.38):3:4:5:xtic(6) with boxxyerror lc rgb variable notitle, \\
     "" using 1:(1/0):(0):(0):(1):(1) with boxxyerror lc rgb "#3b75af" title "throughput/IOPS (higher is better)", \\
     "" using 1:(1/0):(0):(0):(1):(1) with boxxyerror lc rgb "#e08a2c" title "time/latency (lower is better)", \\
     "" using 1:2:8:9 with yerrorbars lc rgb "#333333" pt 7 ps 0 notitle, \\
     "" using ($1+0.2):($2 >= 1 ? $2*1.06 : $2/1.06):7 with labels font ",8" notitle
""" % (path, title.replace('"', "'"), lo, hi, len(rows) - 0.2, len(rows) - 0.2, dat))
        try:
            subprocess.run(["gnuplot", gp], check=True, capture_output=True, text=True)
        except FileNotFoundError:
            print("report: gnuplot not installed (make deps): no chart", file=sys.stderr)
        except subprocess.CalledProcessError as e:
            print("report: gnuplot failed: %s" % e.stderr.strip(), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["state", "report"])
    ap.add_argument("logs", nargs="*")
    ap.add_argument("--skipfile")
    ap.add_argument("--out")
    ap.add_argument("--targets", default="raw kernel ours")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--groups", default="", help="groups run (default: all)")
    ap.add_argument("--command", default="make bench")
    ap.add_argument("--commit", default="")
    ap.add_argument("--info", default="", help="e.g. guests booted and duration")
    ap.add_argument("--disks", default="", help="plain or detect-zeroes (BENCH_DISKS)")
    args = ap.parse_intermixed_args()
    run = Run()
    run.parse(args.logs)
    if args.mode == "state":
        with open(args.skipfile, "w") as fh:
            for g, t, r in sorted(run.begun):
                fh.write("%s %s %d\n" % (g, t, r))
        if run.ended:
            print("end")
        elif run.paused:
            print("pause")
        elif run.crashed:
            print("crashed %s %s %d" % run.crashed)
        else:
            print("incomplete")
    else:
        report(run, args)


if __name__ == "__main__":
    main()
