#!/usr/bin/env python3
"""Print metrics from a fio JSON result (bench/vm-bench.sh helper).

usage: fio-metric.py FILE METRIC...
METRIC: {read,write}_{mibs,iops,ios,p50_us,p99_us,max_ms}
Values are printed space-separated on one line. Exits non-zero if fio
reported an error or the direction asked for moved no data.
"""
import json
import sys


def load(path):
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError as e:
        sys.exit("fio-metric: %s" % e)
    # fio may put warnings before the JSON document.
    start = text.find("{")
    if start < 0:
        sys.exit("fio-metric: no JSON in %s" % path)
    return json.loads(text[start:])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    doc = load(sys.argv[1])
    jobs = doc.get("jobs") or []
    if not jobs:
        sys.exit("fio-metric: no jobs")
    for j in jobs:
        if j.get("error"):
            sys.exit("fio-metric: job %s error %s" % (j.get("jobname"), j["error"]))
    out = []
    for metric in sys.argv[2:]:
        direction, _, what = metric.partition("_")
        # With group_reporting there is one entry; otherwise add the jobs up.
        parts = [j[direction] for j in jobs]
        ios = sum(p["total_ios"] for p in parts)
        if ios == 0:
            sys.exit("fio-metric: no %s I/O" % direction)
        if what == "mibs":
            val = sum(p["bw_bytes"] for p in parts) / 1048576.0
        elif what == "iops":
            val = sum(p["iops"] for p in parts)
        elif what == "ios":
            val = ios
        elif what == "p50_us":
            val = max(p["clat_ns"]["percentile"]["50.000000"] for p in parts) / 1000.0
        elif what == "p99_us":
            val = max(p["clat_ns"]["percentile"]["99.000000"] for p in parts) / 1000.0
        elif what == "max_ms":
            val = max(p["clat_ns"]["max"] for p in parts) / 1e6
        else:
            sys.exit("fio-metric: unknown metric %s" % metric)
        out.append("%d" % val if what == "ios" else "%.1f" % val)
    print(" ".join(out))


if __name__ == "__main__":
    main()
