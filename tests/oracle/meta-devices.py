#!/usr/bin/env python3
# Compare the devices of two thin_dump XML files, for meta-repair.sh.
#
# usage: meta-devices.py BEFORE.xml AFTER.xml
# Prints one line a device of BEFORE:
#   DEV same       the device element and every mapping are identical
#   DEV subset N M AFTER keeps N of BEFORE's M mappings and adds none
#   DEV differs    AFTER holds mappings BEFORE did not, or other details
#   DEV missing    AFTER has no such device
# and "extra DEV" for each device only AFTER has.
import re
import sys

DEV = re.compile(r'<device dev_id="(\d+)"')
ATTR = re.compile(r'(\w+)="(\d+)"')


def devices(path):
    devs = {}
    cur = None
    with open(path) as f:
        for line in f:
            m = DEV.search(line)
            if m:
                a = dict(ATTR.findall(line))
                cur = devs[int(m.group(1))] = {"attrs": a, "maps": set()}
                continue
            if cur is None or "mapping" not in line:
                continue
            a = {k: int(v) for k, v in ATTR.findall(line)}
            if "range_mapping" in line:
                for i in range(a["length"]):
                    cur["maps"].add((a["origin_begin"] + i, a["data_begin"] + i,
                                     a["time"]))
            else:
                cur["maps"].add((a["origin_block"], a["data_block"], a["time"]))
    return devs


def main():
    before, after = devices(sys.argv[1]), devices(sys.argv[2])
    for d in sorted(before):
        b = before[d]
        a = after.get(d)
        if a is None:
            print(d, "missing")
        elif a["attrs"] == b["attrs"] and a["maps"] == b["maps"]:
            print(d, "same")
        elif a["maps"] < b["maps"]:
            print(d, "subset", len(a["maps"]), len(b["maps"]))
        else:
            print(d, "differs")
    for d in sorted(set(after) - set(before)):
        print("extra", d)


main()
