#!/bin/bash
# scripts/bench.sh [N | --quick] [--scale | --no-scale] [--vm]: ferrun side by side with crun,
# runc (and youki when found) and a floor program, every figure issue 14 asks for, in one run.
#   (default)   per-container figures (N shuffled rounds, default 200) and the scale checks
#   --quick     a smoke run: few rounds, small scale checks (numbers not for quoting)
#   --scale     only the scale checks        --no-scale   only the per-container figures
#   --vm        the per-container figures in the cgroup-v2 vm-tests guest (scripts/bench/vm.sh)
# Figures (docs/proof.md section 3 says how each is taken): `run` CPU and wall (busy and idle
# host), create+start+delete wall, `exec` CPU, peak RSS of run/create/exec; scale: `list` with
# 500 containers, create with 200 binds, 100 parallel creates, `run` with 1,000 host mounts.
# Every runtime runs in one private mount namespace: on a cgroup v1 hybrid host its empty
# cgroup2 at /sys/fs/cgroup/unified is unmounted there (crun refuses the hybrid layout); the
# scale check's 1,000 tmpfs mounts live only in that namespace.
# Env: FERRUN (default: target/release/ferrun, built here; FERRUN_STATIC=1 builds the static
#      one), RUNC (/usr/sbin/runc), CRUN (crun on PATH), YOUKI (youki on PATH, optional),
#      BENCH_MD=FILE (also write the tables there), BENCH_BASELINE (scale ratios to flag
#      against, default scripts/bench/scale-baseline.tsv), BENCH_<N|NIDLE|IDLE_SLEEP|NLIST|...>
#      (round counts, see scripts/bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench/lib.sh
. scripts/bench/lib.sh

PRESET=full PHASES="run idle life exec list binds par mounts"
for a in "$@"; do
	case "$a" in
	--quick) PRESET=quick ;;
	--scale) PHASES="list binds par mounts" ;;
	--no-scale) PHASES="run idle life exec" ;;
	--vm) exec scripts/bench/vm.sh "$@" ;;
	[0-9]*) export BENCH_N=$a ;;
	*) sed -n '2,8s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
bench_rounds "$PRESET"

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
[ "$(id -u)" = 0 ] || { echo "bench.sh needs root" >&2; exit 2; }
RUNC=${RUNC:-/usr/sbin/runc}
CRUN=${CRUN:-$(command -v crun || true)}
YOUKI=${YOUKI:-$(command -v youki || true)}
[ -x "$RUNC" ] || { echo "runc not found at $RUNC (apt-get install runc)" >&2; exit 2; }
RUNTIMES="ferrun=$(readlink -f "$FERRUN")"
[ -n "$CRUN" ] && RUNTIMES+=" crun=$CRUN" || echo "bench: no crun: its columns stay empty" >&2
RUNTIMES+=" runc=$RUNC"
[ -n "$YOUKI" ] && RUNTIMES+=" youki=$YOUKI"
export RUNTIMES PREFIX="fbench$$"

T=$(mktemp -d /tmp/ferrun-bench.XXXXXX)
chmod 0755 "$T"
export W=$T/w L=$T/launch FLOOR=$T/floor RAW=$T/raw.tsv
# collect.sh cleans up after itself, also on failure and Ctrl-C (EXIT trap); this is the net
# below it (collect.sh killed outright): delete what is left, in the same kind of namespace.
cleanup() {
	if [ -x "$L" ] && compgen -G "$W/root-*/$PREFIX-*" >/dev/null; then
		scripts/bench/ns.sh /bin/sh scripts/bench/collect.sh cleanup || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
bench_tools "$T"
mkdir -p "$W"
bench_configs "$W" "$W" "$RUNC"
bench_rootfs "$W" /bin/busybox
{
	echo "#meta where host $(hostname) ($(bench_cgroup_mode) cgroups, all runtimes in one private mount namespace)"
	echo "#meta cgroup $(bench_cgroup_mode)"
	echo "#meta kernel $(uname -r)"
	for rt in $RUNTIMES; do
		echo "#meta ${rt%%=*} $("${rt#*=}" --version 2>/dev/null | head -n 1 | tr -s ' ')"
	done
	echo "#meta cpus $(nproc)"
	echo "#meta load-start $(cut -d' ' -f1 /proc/loadavg)"
	for v in N NIDLE IDLE_SLEEP NLIST NLIST_ROUNDS NBIND_ROUNDS NPAR NPAR_ROUNDS NMNT NMNT_ROUNDS; do
		echo "#meta $v ${!v}"
	done
} >"$RAW"
echo "bench: $RUNTIMES, phases: $PHASES (${PRESET})" >&2
# The launcher as subreaper reaps the containers' orphaned processes, bounded to one hour.
# In the background so that Ctrl-C or SIGTERM reach this trap at once: it passes SIGTERM on
# (launcher -> collect.sh, whose EXIT trap removes everything) and waits for the cleanup.
# shellcheck disable=SC2086 # the phases are words
"$L" -R -t 3600 -- scripts/bench/ns.sh /bin/sh scripts/bench/collect.sh $PHASES &
lpid=$!
trap 'kill -TERM "$lpid" 2>/dev/null; wait "$lpid"; exit 130' INT TERM
wait "$lpid"
trap 'exit 130' INT TERM
{
	echo "#meta load-end $(cut -d' ' -f1 /proc/loadavg)"
	echo "#meta date $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "#meta duration $(($(date +%s) - start)) s"
} >>"$RAW"
BASE=${BENCH_BASELINE:-scripts/bench/scale-baseline.tsv}
[ -f "$BASE" ] || BASE=""
/usr/bin/python3 scripts/bench/report.py "$RAW" ${BENCH_MD:+--md "$BENCH_MD"} ${BASE:+--baseline "$BASE"}
[ -z "${BENCH_RAW:-}" ] || cp "$RAW" "$BENCH_RAW"
