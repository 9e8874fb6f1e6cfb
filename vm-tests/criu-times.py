#!/usr/bin/env python3
"""Checkpoint and restore wall times per runtime from one oci-conform report.json (one run,
one guest): every passing `checkpoint` and `restore` step of the checkpoint scenarios, with
the median and the total per runtime, so runtimes are compared on the same machine and load.

usage: vm-tests/criu-times.py OUT/conform/report.json [...]
"""
import json
import statistics
import sys


def steps(report):
    for res in report["results"]:
        for step in res.get("steps", []):
            if step.get("op") in ("checkpoint", "restore") and step.get("outcome") == "pass":
                yield res["runtime"], res["id"], step["op"], step["duration_ms"]


def main(paths):
    for path in paths:
        with open(path) as f:
            report = json.load(f)
        times = {}
        for runtime, _, op, ms in steps(report):
            times.setdefault((op, runtime), []).append(ms)
        print(f"{path}:")
        print(f"  {'op':<11}{'runtime':<9}{'n':>4}{'median ms':>11}{'min ms':>8}{'max ms':>8}{'total ms':>10}")
        for (op, runtime), ms in sorted(times.items()):
            print(
                f"  {op:<11}{runtime:<9}{len(ms):>4}{statistics.median(ms):>11.0f}"
                f"{min(ms):>8}{max(ms):>8}{sum(ms):>10}"
            )


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
