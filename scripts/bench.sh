#!/bin/bash
# bench.sh [N]: ferrun vs runc on the same /bin/true bundle, N paired and interleaved
# iterations (default 200), printing per-metric medians and paired ratios:
#   run CPU      user+sys of `<rt> run` and every process it waited for (wait4 rusage of the
#                runtime's process tree: the runtime, its re-exec/clone children and the
#                container's /bin/true), target ferrun <= 0.5 x runc
#   lifecycle    wall time of create + start + delete --force, target: report only
#   peak RSS     ru_maxrss from the same wait4 (largest RSS of any process in that tree, KiB),
#                target ferrun <= 4 MB (4096 KiB), judged on the maximum over all runs
# Each pair runs both runtimes back to back, alternating who goes first, so load drift on
# this shared machine hits both sides alike; ratios are medians of the per-pair ratios.
# Env: FERRUN (default: target/release/ferrun, built here), RUNC (default /usr/sbin/runc),
#      BENCH_MD=FILE to also write the table as Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
RUNC=${RUNC:-/usr/sbin/runc}
if [ -z "${FERRUN:-}" ]; then
  cargo build --release -p ferrun >&2
  FERRUN=target/release/ferrun
fi
FERRUN=$(readlink -f "$FERRUN")
[ "$(id -u)" = 0 ] || { echo "bench.sh needs root" >&2; exit 2; }
[ -x "$RUNC" ] || { echo "runc not found at $RUNC (apt-get install runc)" >&2; exit 2; }

T=$(mktemp -d /tmp/ferrun-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
B=$T/bundle
mkdir -p "$B/rootfs/bin" "$B/rootfs/etc" "$B/rootfs/proc" "$B/rootfs/dev" "$B/rootfs/sys" "$B/rootfs/tmp"
cp /bin/busybox "$B/rootfs/bin/busybox"
ln -s busybox "$B/rootfs/bin/true"
ln -s busybox "$B/rootfs/bin/sh"
# runc's own default config, /bin/true, no terminal. The ambient set is dropped: runc warns
# and ignores ambient caps that are not inheritable, ferrun refuses them (see docs/proof.md).
"$RUNC" spec --bundle "$B"
jq '.process.terminal=false | .process.args=["/bin/true"] | del(.process.capabilities.ambient)' \
  "$B/config.json" > "$B/config.json.new"
mv "$B/config.json.new" "$B/config.json"

exec /usr/bin/python3 - "$N" "$FERRUN" "$RUNC" "$B" "$T" "${BENCH_MD:-}" <<'PY'
import ctypes, os, statistics, sys, time

n, ferrun, runc, bundle, tmp, md = int(sys.argv[1]), *sys.argv[2:7]
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphaned container inits come to us
devnull = os.open(os.devnull, os.O_RDWR)

def spawn(argv):
    """Run argv to completion; return (exit status, cpu seconds, maxrss KiB, wall seconds)."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.execv(argv[0], argv)
    _, status, ru = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), ru.ru_utime + ru.ru_stime, ru.ru_maxrss, time.monotonic() - t0

def reap():
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass

counter = [0]
def one(rt, name):
    root = f"{tmp}/root-{name}"
    counter[0] += 1
    cid = f"bench-{name}-{os.getpid()}-{counter[0]}"
    rc, cpu, rss, _ = spawn([rt, "--root", root, "run", "-b", bundle, cid + "r"])
    if rc != 0:
        sys.exit(f"{name} run failed with {rc}")
    t0 = time.monotonic()
    for argv in (["create", "-b", bundle, cid], ["start", cid], ["delete", "--force", cid]):
        rc2, c2, r2, _ = spawn([rt, "--root", root] + argv)
        rss = max(rss, r2)
        if rc2 != 0:
            sys.exit(f"{name} {argv[0]} failed with {rc2}")
    wall = time.monotonic() - t0
    reap()
    return cpu, wall, rss

for _ in range(5):  # warm the page cache and the cgroup hierarchy for both
    one(ferrun, "ferrun"); one(runc, "runc")

res = {"ferrun": [], "runc": []}
for i in range(n):
    order = [("ferrun", ferrun), ("runc", runc)]
    if i % 2:
        order.reverse()
    for name, rt in order:
        res[name].append(one(rt, name))

def col(name, k):
    return [r[k] for r in res[name]]

rows = []
def row(label, k, scale, unit, target=None, use_max=False):
    f, r = col("ferrun", k), col("runc", k)
    ratio = statistics.median(a / b for a, b in zip(f, r) if b > 0)
    fm, rm = statistics.median(f) * scale, statistics.median(r) * scale
    rows.append((label, f"{fm:.2f} {unit}", f"{rm:.2f} {unit}", f"{ratio:.3f}",
                 f"{max(f) * scale:.2f} {unit}", f"{max(r) * scale:.2f} {unit}", target or ""))
    return ratio, max(f) * scale

cpu_ratio, _ = row("run CPU (user+sys)", 0, 1000, "ms", "ratio <= 0.5")
row("create+start+delete wall", 1, 1000, "ms")
_, rss_max = row("peak RSS (max over process tree)", 2, 1 / 1024, "MiB", "ferrun max <= 4 MiB")

head = ("metric", "ferrun median", "runc median", "ferrun/runc (median of pairs)",
        "ferrun max", "runc max", "target")
lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
lines += ["| " + " | ".join(r) + " |" for r in rows]
verdict = [
    f"run CPU ratio {cpu_ratio:.3f}: {'MET' if cpu_ratio <= 0.5 else 'NOT MET'} (target <= 0.5)",
    f"ferrun peak RSS {rss_max:.2f} MiB: {'MET' if rss_max <= 4 else 'NOT MET'} (target <= 4 MiB)",
]
info = (f"{n} interleaved pairs, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
out = "\n".join(lines + ["", *verdict, info])
print(out)
if md:
    with open(md, "w") as fh:
        fh.write(out + "\n")
PY
