#!/usr/bin/env bash
# scripts/flaky.sh [-n RUNS] [-r NAME=PATH]... [-j RUNTIME] [-- EXTRA oci-conform run WORDS]
#
# Runs the scenario pack RUNS times (default 5) in a row and lists every (runtime, scenario)
# whose outcome changed between runs, with the outcome of each run. Every runtime is judged in
# these runs, so oci-conform re-runs nothing: each run shows first attempts only.
#
#   -r NAME=PATH  a runtime (repeatable; default runc=/usr/sbin/runc and ferrun=target/release)
#   -j RUNTIME    the runtime that must not flake (default ferrun): exit 1 when it changed
#   -c            crun instead: on a cgroup v1 hybrid host crun refuses /sys/fs/cgroup/unified,
#                 so the runs go into a private mount namespace without it (as matrix-host.sh)
#
# Needs root and the release builds (ferrun, oci-conform, the static oci-probe). Results:
# FLAKY_OUT (default a new /tmp/oci-conform-flaky.XXXXXX), one run-N/ per run, flaky.txt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=5 JUDGED=ferrun CRUN=0
runtimes=()
while getopts "n:r:j:ch" o; do
	case $o in
	n) RUNS=$OPTARG ;;
	r) runtimes+=("$OPTARG") ;;
	j) JUDGED=$OPTARG ;;
	c) CRUN=1 ;;
	*) sed -n '2,15p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
OC=$PWD/target/release/oci-conform
PROBE=$PWD/target/x86_64-unknown-linux-gnu/release/oci-probe
if [ "$CRUN" = 1 ]; then
	runtimes=("crun=$(command -v crun)")
	JUDGED=
elif [ ${#runtimes[@]} -eq 0 ]; then
	runtimes=("runc=/usr/sbin/runc" "ferrun=$PWD/target/release/ferrun")
fi
for f in "$OC" "$PROBE"; do
	[ -x "$f" ] || { echo "flaky: $f is not built" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "flaky: needs jq" >&2; exit 2; }
OUT=${FLAKY_OUT:-$(mktemp -d /tmp/oci-conform-flaky.XXXXXX)}
mkdir -p "$OUT"
chmod 0755 "$OUT" # user-namespaced containers must reach their bundles below it
args=()
for r in "${runtimes[@]}"; do args+=(--runtime "$r"); done

one_run() {
	local dir=$1
	shift
	"$OC" run "$@" --probe "$PROBE" --jobs 2 --report json --out "$dir" scenarios/ >"$dir.log" 2>&1 || true
	[ -s "$dir/report.json" ] || { echo "flaky: no report from $dir (log: $dir.log)" >&2; return 1; }
}

for i in $(seq 1 "$RUNS"); do
	t0=$(date +%s)
	if [ "$CRUN" = 1 ] && grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/mounts; then
		export -f one_run
		export OC PROBE
		unshare -m bash -c 'umount /sys/fs/cgroup/unified && one_run "$@"' _ "$OUT/run-$i" "${args[@]}" "$@"
	else
		one_run "$OUT/run-$i" "${args[@]}" "$@"
	fi
	echo "flaky: run $i of $RUNS: $(($(date +%s) - t0)) s"
	jq -r '.results[] | [.runtime, .id, .status, ((.reason // "") | gsub("[\t\n]"; " "))] | @tsv' \
		"$OUT/run-$i/report.json" | sed "s/^/$i\t/" >>"$OUT/outcomes.tsv"
done

# runtime id -> the status of every run; changed when not all the same.
awk -F'\t' -v runs="$RUNS" '
	{ k = $2 "\t" $3; st[k, $1] = $4; why[k, $1] = $5; keys[k] = 1 }
	END {
		for (k in keys) {
			line = ""; first = st[k, 1]; diff = 0
			for (i = 1; i <= runs; i++) {
				line = line " " (st[k, i] == "" ? "-" : st[k, i])
				if (st[k, i] != first) diff = 1
			}
			if (diff) {
				split(k, p, "\t")
				printf "%s\t%s\t%s\n", p[1], p[2], line
				for (i = 1; i <= runs; i++) if (st[k, i] != "PASS" && st[k, i] != "SKIP")
					printf "\t\trun %d: %s\n", i, why[k, i]
			}
		}
	}' "$OUT/outcomes.tsv" >"$OUT/flaky.txt"

echo
echo "flaky: outcomes that changed over $RUNS runs ($OUT/flaky.txt):"
cat "$OUT/flaky.txt"
status=0
for r in "${runtimes[@]}"; do
	name=${r%%=*}
	total=$(awk -F'\t' -v rt="$name" '$1 == 1 && $2 == rt' "$OUT/outcomes.tsv" | wc -l)
	changed=$(awk -F'\t' -v rt="$name" '$1 == rt' "$OUT/flaky.txt" | wc -l)
	role=reference
	[ "$name" = "$JUDGED" ] && role=judged
	echo "flaky: $name: $changed of $total scenarios changed outcome in $RUNS runs ($role)"
	if [ "$role" = judged ] && [ "$changed" -ne 0 ]; then status=1; fi
done
exit "$status"
