#!/bin/bash
# scripts/bench/vm.sh [--quick]: the bench's per-container figures (run CPU and wall, idle-host
# wall, create+start+delete, exec, peak RSS) in the cgroup-v2 vm-tests guest, where the
# idle-host target is judged; under TCG timings are ratios only. The guest has no compiler and
# no Python: the launcher and floor go in as static binaries, collect.sh runs under busybox sh
# (scripts/bench/guest.sh) and the tables are made here. It boots a copy of vm-tests/ whose
# guest/suite.sh is guest.sh, so vm-tests itself is untouched; one VM, bounded by --timeout.
# Env: FERRUN (default the static build), RUNC, CRUN (found on PATH), VMT_CACHE (default
#      target/vm-cache), VMT_TIMEOUT (2400 s), BENCH_MD, BENCH_RAW, BENCH_<N|NIDLE|IDLE_SLEEP>.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/bench/lib.sh
. scripts/bench/lib.sh
PRESET=vm
for a in "$@"; do
	case "$a" in
	--quick) PRESET=quick ;;
	--vm) ;;
	[0-9]*) export BENCH_N=$a ;;
	*) echo "usage: scripts/bench/vm.sh [N | --quick]" >&2; exit 2 ;;
	esac
done
bench_rounds "$PRESET"
FERRUN=${FERRUN:-target/static/x86_64-unknown-linux-gnu/release/ferrun}
RUNC=${RUNC:-/usr/sbin/runc}
CRUN=${CRUN:-$(command -v crun || true)}
[ -x "$FERRUN" ] || { echo "no ferrun at $FERRUN (make build)" >&2; exit 2; }

T=$(mktemp -d /tmp/ferrun-bench-vm.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
S=$T/src
mkdir -p "$S/vm-tests" "$S/scripts/bench" "$S/bench"
cp -r vm-tests/run.sh vm-tests/lib vm-tests/guest vm-tests/profiles "$S/vm-tests/"
cp scripts/bench/guest.sh "$S/vm-tests/guest/suite.sh"
cp scripts/bench/collect.sh "$S/scripts/bench/"
bench_tools "$S/bench" static
bench_configs "$S/bench" /tmp/fbench "$RUNC"
for v in N NIDLE IDLE_SLEEP; do echo "$v=${!v}"; done >"$S/bench/env"
echo "PREFIX=fbench" >>"$S/bench/env"

start=$(date +%s)
rc=0
VMT_CACHE=${VMT_CACHE:-$PWD/target/vm-cache} VMT_FERRUN=$(readlink -f "$FERRUN") VMT_RUNC=$RUNC \
	VMT_CRUN=$CRUN VMT_OCI_CONFORM="" VMT_OCI_PROBE="" VMT_OCI_SECCOMP_AGENT="" VMT_CRIU="" \
	"$S/vm-tests/run.sh" --out "$T/out" --timeout "${VMT_TIMEOUT:-2400}" cgroup-v2 >&2 || rc=$?
if [ ! -s "$T/out/raw.tsv" ]; then
	echo "bench-vm: the guest wrote no records (run.sh status $rc); its log:" >&2
	tail -n 30 "$T/out/suite.log" >&2 2>/dev/null || true
	exit 1
fi
echo "#meta duration-host $(($(date +%s) - start)) s (boot + guest)" >>"$T/out/raw.tsv"
[ -z "${BENCH_RAW:-}" ] || cp "$T/out/raw.tsv" "$BENCH_RAW"
/usr/bin/python3 scripts/bench/report.py "$T/out/raw.tsv" ${BENCH_MD:+--md "$BENCH_MD"}
[ "$rc" = 0 ] || { echo "bench-vm: the guest's bench failed (status $rc)" >&2; tail -n 20 "$T/out/suite.log" >&2; exit 1; }
