#!/usr/bin/python3
"""report.py RAW [--md FILE] [--baseline FILE]: the bench's tables from collect.sh's records.

RAW lines are "GROUP NAME ROUND utime_us stime_us maxrss_kib wall_ns status" plus "#meta KEY
VALUE..." lines. Every figure is a median over rounds; every ratio is the median of the
per-round ratios (both sides ran in the same shuffled round), so load drift cancels out.
Prints one Markdown table per group and a verdict block (targets of issue 14); --md also
writes them to FILE. --baseline holds ferrun's earlier scale ratios ("CHECK vs-crun vs-runc"
lines): a scale check is flagged only when ferrun's ratio grew by more than 25 % over it.
"""
import argparse
import collections
import statistics

SCALE_SLACK = 1.25  # a scale check regresses when ferrun's ratio exceeds its baseline by this


def load(path):
    data = collections.defaultdict(lambda: collections.defaultdict(dict))
    meta = {}
    with open(path) as fh:
        for line in fh:
            if line.startswith("#meta "):
                _, key, *value = line.split()
                meta[key] = " ".join(value)
                continue
            f = line.split()
            if len(f) != 8:
                continue
            g, name, rnd, ut, st, rss, wall, rc = f
            if int(rc) != 0:
                continue
            data[g][name][int(rnd)] = {"cpu": (int(ut) + int(st)) / 1e3, "rss": int(rss) / 1024,
                                       "wall": int(wall) / 1e6}
    return data, meta


class Figures:
    def __init__(self, data):
        self.data = data

    def series(self, group, name, key):
        """{round: value}; `life` is create+start+delete of the same round."""
        if group == "life":
            parts = [self.series(g, name, key) for g in ("create", "start", "delete")]
            return {r: sum(p[r] for p in parts) for r in parts[0] if all(r in p for p in parts)}
        return {r: v[key] for r, v in self.data.get(group, {}).get(name, {}).items()}

    def median(self, group, name, key):
        s = self.series(group, name, key)
        return statistics.median(s.values()) if s else None

    def peak(self, group, name):
        s = self.series(group, name, "rss")
        return max(s.values()) if s else None

    def ratio(self, group, a, b, key):
        sa, sb = self.series(group, a, key), self.series(group, b, key)
        pairs = [sa[r] / sb[r] for r in sa if r in sb and sb[r] > 0]
        return statistics.median(pairs) if pairs and a != b else None

    def rounds(self, group, name):
        return len(self.series(group, name, "wall"))


def fmt(v, unit="", digits=2):
    return "–" if v is None else f"{v:.{digits}f}{unit}"


def fx(v):
    return "–" if v is None else f"{v:.3f}×"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def per_runtime(fig, title, group, key, unit, names, refs):
    rows = []
    for n in names:
        if fig.rounds(group, n):
            rows.append([n, fmt(fig.median(group, n, key), f" {unit}")]
                        + [fx(fig.ratio(group, n, ref, key)) for ref in refs])
    n_rounds = max((fig.rounds(group, n) for n in names), default=0)
    head = ["runtime", "median"] + [f"÷ {ref} (pairs)" for ref in refs]
    return [f"### {title} ({n_rounds} rounds)", ""] + table(head, rows) + [""]


def run_wall(fig, names, refs):
    rows = []
    for n in names:
        row = [n]
        for g in ("run", "idle"):
            row += [fmt(fig.median(g, n, "wall"), " ms")] + [fx(fig.ratio(g, n, r, "wall")) for r in refs]
        rows.append(row)
    head = ["runtime", "busy host"] + [f"÷ {r}" for r in refs] + ["idle host"] + [f"÷ {r}" for r in refs]
    title = (f"### `run` wall: busy host (back to back, {fig.rounds('run', 'ferrun')} rounds) and idle "
             f"host (a pause before each run, {fig.rounds('idle', 'ferrun')} rounds)")
    return [title, ""] + table(head, rows) + [""]


def rss_table(fig, names):
    groups = ("run", "create", "start", "delete", "exec")
    rows = [[n] + [fmt(fig.peak(g, n), " MiB") for g in groups] for n in names]
    return ["### Peak RSS (largest ru_maxrss of the waited tree, max over all runs)", ""] + \
        table(["runtime"] + [f"`{g}`" for g in groups], rows) + [""]


def scale_checks(fig, meta, refs):
    """(key, label, group, metric, unit, divisor) of each scale check present in the data."""
    nlist = int(meta.get("NLIST", "1") or 1)
    checks = [
        ("list", f"`list` with {nlist} containers, per container", "list", "wall", "µs", 1e-3 * nlist),
        ("binds", "`create` with 200 bind mounts", "binds", "wall", "ms", 1),
        ("par", f"{meta.get('NPAR', '?')} parallel creates, total", "par", "wall", "ms", 1),
        ("mnt0", "`run` wall, no extra mounts", "mnt0", "wall", "ms", 1),
        ("mnt1", f"`run` wall with {meta.get('NMNT', '?')} host mounts", "mnt1", "wall", "ms", 1),
        ("mnt1cpu", f"`run` CPU with {meta.get('NMNT', '?')} host mounts", "mnt1", "cpu", "ms", 1),
    ]
    return [c for c in checks if fig.rounds(c[2], "ferrun")]


def scale_table(fig, meta, names, refs, baseline):
    rows, flags = [], []
    for key, label, group, metric, unit, div in scale_checks(fig, meta, refs):
        row = [label, str(fig.rounds(group, "ferrun"))]
        row += [fmt(None if fig.median(group, n, metric) is None else fig.median(group, n, metric) / div,
                    f" {unit}") for n in names if n != "floor"]
        ratios = [fig.ratio(group, "ferrun", r, metric) for r in refs]
        row += [fx(r) for r in ratios]
        base = baseline.get(key)
        if base is None:
            flag = "no baseline"
        else:
            now = [fig.ratio(group, "ferrun", r, metric) for r in ("crun", "runc")]  # the file's order
            worse = [f"÷ {r} {v:.3f} > {b:.3f}×{SCALE_SLACK}" for r, v, b in zip(("crun", "runc"), now, base)
                     if v is not None and b is not None and v > b * SCALE_SLACK]
            flag = "REGRESSED: " + ", ".join(worse) if worse else "ok"
            flags.append((label, flag))
        rows.append(row + [" / ".join(fmt(b, "×", 3) for b in base) if base else "–", flag])
    if fig.rounds("mnt1", "ferrun"):
        cost = ["cost of the mounts: `run` wall with ÷ without", ""]
        for n in names:
            if n == "floor":
                continue
            a, b = fig.median("mnt1", n, "wall"), fig.median("mnt0", n, "wall")
            cost.append(fx(a / b if a and b else None))
        rows.append(cost)
    if not rows:
        return [], flags
    head = ["check", "rounds"] + [n for n in names if n != "floor"] + \
        [f"ferrun ÷ {r}" for r in refs] + ["baseline ÷ crun / runc", "flag"]
    rows = [r + [""] * (len(head) - len(r)) for r in rows]
    return ["### Scale checks (flagged by ratio only)", ""] + table(head, rows) + [""], flags


def write_baseline(path, fig, meta, refs):
    with open(path, "w") as fh:
        fh.write(f"# ferrun's scale ratios, {meta.get('date', '?')} ({' / '.join(refs)}); report.py flags\n"
                 f"# a check whose ratio grows more than {SCALE_SLACK}x over these. Columns: check, ÷ crun, ÷ runc\n")
        for key, _label, group, metric, _unit, _div in scale_checks(fig, meta, refs):
            ratios = [fig.ratio(group, "ferrun", r, metric) for r in ("crun", "runc")]
            fh.write(key + " " + " ".join("-" if v is None else f"{v:.3f}" for v in ratios) + "\n")


def verdict(fig, meta, flags):
    out = ["### Verdict", ""]

    def judge(label, v, limit, unit="×"):
        if v is None:
            out.append(f"- {label}: not measured")
        else:
            out.append(f"- {label} {v:.3f}{unit}: {'MET' if v <= limit else 'NOT MET'} (target ≤ {limit}{unit})")

    if fig.rounds("run", "ferrun"):
        judge("`run` CPU ferrun ÷ crun", fig.ratio("run", "ferrun", "crun", "cpu"), 0.5)
        judge("`run` CPU ferrun ÷ floor", fig.ratio("run", "ferrun", "floor", "cpu"), 2.5)
    if fig.rounds("idle", "ferrun"):
        idle = fig.ratio("idle", "ferrun", "crun", "wall")
        if meta.get("cgroup") == "v2":
            judge("`run` wall on an idle host, ferrun ÷ crun", idle, 0.6)
        else:
            out.append(f"- `run` wall on an idle host, ferrun ÷ crun {fmt(idle, '×', 3)}: not judged here: "
                       f"not cgroup v2 ({meta.get('cgroup', 'unknown')}); `make bench-vm` judges it")
    for g in ("run", "create", "exec"):
        if fig.rounds(g, "ferrun"):
            judge(f"peak RSS of ferrun `{g}`", fig.peak(g, "ferrun"), 2.5, " MiB")
    out += [f"- scale: {label}: {flag}" for label, flag in flags]
    return out + [""]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--md")
    ap.add_argument("--baseline")
    ap.add_argument("--write-baseline", help="write ferrun's scale ratios here (a new baseline)")
    a = ap.parse_args()
    data, meta = load(a.raw)
    fig = Figures(data)
    order = ["ferrun", "crun", "runc", "youki", "floor"]
    names = [n for n in order if any(n in data[g] for g in data)]
    refs = [r for r in ("crun", "runc") if r in names]
    baseline = {}
    if a.baseline:
        with open(a.baseline) as fh:
            for line in fh:
                if line.strip() and not line.startswith("#"):
                    key, *vals = line.split()
                    baseline[key] = [None if v == "-" else float(v) for v in vals]
    out = [f"## ferrun bench: {meta.get('where', 'host')}", ""]
    if fig.rounds("run", "ferrun"):
        out += per_runtime(fig, "`run` CPU (user+sys of the waited process tree)", "run", "cpu", "ms",
                           names, refs + ["floor"])
        out += run_wall(fig, names, refs)
    if fig.rounds("create", "ferrun"):
        out += per_runtime(fig, "create+start+delete wall", "life", "wall", "ms",
                           [n for n in names if n != "floor"], refs)
    if fig.rounds("exec", "ferrun"):
        out += per_runtime(fig, "`exec /bin/true` CPU into a running container", "exec", "cpu", "ms",
                           [n for n in names if n != "floor"], refs)
    if any(fig.rounds(g, "ferrun") for g in ("run", "create", "exec")):
        out += rss_table(fig, names)
    scale, flags = scale_table(fig, meta, names, refs, baseline)
    if a.write_baseline:
        write_baseline(a.write_baseline, fig, meta, refs)
    out += scale + verdict(fig, meta, flags)
    out.append(" · ".join(f"{k} {v}" for k, v in meta.items() if k not in ("where",)))
    text = "\n".join(out)
    print(text)
    if a.md:
        with open(a.md, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
