#!/bin/bash
# bench.sh [N]: ferrun vs runc on the same /bin/true bundle, N paired and interleaved
# iterations (default 200), printing per-metric medians and paired ratios:
#   run CPU      user+sys of `<rt> run` and every process it waited for (wait4 rusage of the
#                runtime's process tree: the runtime, its re-exec/clone children and the
#                container's /bin/true), taken by a tiny C launcher, target ferrun <= 0.5 x runc
#   lifecycle    wall time of create + start + delete --force, target: report only
#   peak RSS     ru_maxrss from the same wait4 (largest RSS of any process in that tree, KiB;
#                for `run` and each of create/start/delete), target ferrun <= 4 MB (4096 KiB),
#                judged on the maximum over all runs
# Each pair runs both runtimes back to back, alternating who goes first, so load drift on
# this shared machine hits both sides alike; ratios are medians of the per-pair ratios.
# Env: FERRUN (default: target/release/ferrun, built here), RUNC (default /usr/sbin/runc),
#      BENCH_MD=FILE to also write the table as Markdown,
#      FERRUN_STATIC=1 to build and measure a static-pie ferrun with opt-level "s" instead
#      (glibc and libseccomp linked in, no shared-library pages, less text: the build that
#      brings peak RSS under 4 MiB; see docs/proof.md), in its own target dir target/static.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
RUNC=${RUNC:-/usr/sbin/runc}
if [ -z "${FERRUN:-}" ] && [ "${FERRUN_STATIC:-0}" = 1 ]; then
  # --target keeps build scripts and proc macros dynamic; only the final binary is static.
  CARGO_TARGET_DIR=target/static CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
    RUSTFLAGS="-C target-feature=+crt-static" LIBSECCOMP_LINK_TYPE=static \
    LIBSECCOMP_LIB_PATH=/usr/lib/x86_64-linux-gnu \
    cargo build --release -p ferrun --target x86_64-unknown-linux-gnu >&2
  FERRUN=target/static/x86_64-unknown-linux-gnu/release/ferrun
elif [ -z "${FERRUN:-}" ]; then
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

# The measuring launcher is a tiny C program, not Python: ru_maxrss carries the RSS a
# process had before execve, so a child forked from Python would report Python's ~8 MiB.
# This one forks (a ~1 MiB image), execs the runtime, wait4()s and prints
# "utime_us stime_us maxrss_kib wall_ns status".
cat > "$T/rusage.c" <<'C'
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
  struct timespec a, b; struct rusage ru; int st;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pid_t p = fork();
  if (p == 0) { execv(argv[1], argv + 1); _exit(127); }
  if (p < 0 || wait4(p, &st, 0, &ru) < 0) return 126;
  clock_gettime(CLOCK_MONOTONIC, &b);
  fprintf(stderr, "%ld %ld %ld %lld %d\n",
          ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec,
          ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec, ru.ru_maxrss,
          (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec),
          WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  return 0;
}
C
cc -O2 -o "$T/rusage" "$T/rusage.c"

# Not exec: the EXIT trap must still remove $T when Python is done.
/usr/bin/python3 - "$N" "$FERRUN" "$RUNC" "$B" "$T" "${BENCH_MD:-}" <<'PY'
import ctypes, os, statistics, sys, time

n, ferrun, runc, bundle, tmp, md = int(sys.argv[1]), *sys.argv[2:7]
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphaned container inits come to us
devnull = os.open(os.devnull, os.O_RDWR)

launcher = f"{tmp}/rusage"
report = os.open(f"{tmp}/report", os.O_RDWR | os.O_CREAT | os.O_TRUNC)

def spawn(argv):
    """Run argv under the launcher; return (exit status, cpu s, maxrss KiB, wall s)."""
    os.ftruncate(report, 0)
    os.lseek(report, 0, os.SEEK_SET)
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 0); os.dup2(devnull, 1); os.dup2(report, 2)
        os.execv(launcher, [launcher] + argv)
    _, status = os.waitpid(pid, 0)
    os.lseek(report, 0, os.SEEK_SET)
    text = os.read(report, 4096).decode().strip().splitlines()
    if os.waitstatus_to_exitcode(status) != 0 or not text:
        sys.exit(f"launcher failed for {argv}: {text}")
    # The runtime's own stderr lines (if any) come first; the launcher's line is last.
    ut, st, rss, wall, rc = text[-1].split()
    return int(rc), (int(ut) + int(st)) / 1e6, int(rss), int(wall) / 1e9

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
