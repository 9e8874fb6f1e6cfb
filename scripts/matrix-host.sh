#!/usr/bin/env bash
# scripts/matrix-host.sh [OUT_FILE]: the whole scenario pack on this host against runc, ferrun
# and (when installed) crun, then one side-by-side matrix (default docs/matrix-host.md).
#
# runc and ferrun run together. crun 1.8.1 refuses cgroup v1 hybrid hosts, so on one it runs
# in a private mount namespace where the cgroup2 mount at /sys/fs/cgroup/unified is gone
# (runc runs there too only as a reference; its column comes from the first run).
# Needs root and the release builds: `make build` and the static oci-probe.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT_FILE=${1:-docs/matrix-host.md}
OC=target/release/oci-conform
FERRUN=${FERRUN:-$PWD/target/release/ferrun}
PROBE=target/x86_64-unknown-linux-gnu/release/oci-probe
for f in "$OC" "$FERRUN" "$PROBE"; do
	[ -x "$f" ] || { echo "matrix-host: $f is not built (make build, then the static probe)" >&2; exit 2; }
done
WORK=$(mktemp -d /tmp/matrix-host.XXXXXX)
# mktemp makes it 0700; a container whose root is mapped to another uid (user namespace
# scenarios) must still reach its rootfs below it.
chmod 0755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# A FAIL (rc 1) or a runtime's ERROR (rc 2: crun leaks a cgroup in one scenario) still leaves
# a report.json, and the matrix shows it; no report means the run itself broke.
run_pack() {
	local out=$1 rc=0
	shift
	"$OC" run "$@" --probe "$PROBE" --jobs 2 --report json --out "$out" scenarios/ >"$out.log" 2>&1 || rc=$?
	if [ ! -s "$out/report.json" ]; then
		cp "$out.log" /tmp/matrix-host-failed.log
		echo "matrix-host: oci-conform rc=$rc and no report; log in /tmp/matrix-host-failed.log" >&2
		exit 1
	fi
}

reports=()
run_pack "$WORK/main" --runtime runc=/usr/sbin/runc --runtime "ferrun=$FERRUN"
reports+=("$WORK/main/report.json")
if command -v crun >/dev/null; then
	if grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/mounts; then
		export -f run_pack
		export OC PROBE WORK
		# shellcheck disable=SC2016 # expanded by the inner bash, inside the new mount namespace
		unshare -m bash -c 'umount /sys/fs/cgroup/unified && run_pack "$WORK/crun" --runtime crun=$(command -v crun)'
	else
		run_pack "$WORK/crun" --runtime "crun=$(command -v crun)"
	fi
	reports+=("$WORK/crun/report.json")
fi
{
	echo "# Conformance matrix on the development host"
	echo
	echo "Written by \`scripts/matrix-host.sh\` (\`make matrix-host\`) on $(date -u +%Y-%m-%d) from commit"
	echo "\`$(git describe --always --dirty 2>/dev/null || echo unknown)\`: $(uname -r), $(
		grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/mounts && echo 'cgroup v1 hybrid' || echo 'cgroups as mounted')."
	echo
	"$OC" matrix "${reports[@]}"
} >"$OUT_FILE.tmp"
mv "$OUT_FILE.tmp" "$OUT_FILE"
echo "matrix-host: wrote $OUT_FILE"
