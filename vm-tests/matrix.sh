#!/usr/bin/env bash
# vm-tests/matrix.sh [--out FILE] [PROFILE_DIR...] [LABEL=REPORT.json...]: one Markdown page
# with the conformance matrix of every VM profile side by side (columns `profile/runtime`),
# after the facts of each run (kernel, cgroup layout, boot and suite time, smoke counts).
# `make vm-matrix` runs the whole pack in every profile first and then calls this.
#
# PROFILE_DIR defaults to target/vm-tests/<profile> for each profile that has a result; a
# directory whose run did not produce conform/report.json is listed with its rc and left out
# of the matrix (never shown as if it had passed). LABEL=REPORT.json adds a report without its
# VM directory (a checked-in baseline, vm-tests/baselines/*.json): its facts row names the
# file only. Default FILE: docs/matrix-vm.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=vm-tests/lib/common.sh
. "$ROOT/vm-tests/lib/common.sh"
# shellcheck source=vm-tests/lib/bins.sh
. "$ROOT/vm-tests/lib/bins.sh"
VMT_ROOT=$ROOT
PROFILES="cgroup-v2 cgroup-v1 apparmor systemd selinux rootless"

OUT=$ROOT/docs/matrix-vm.md
DIRS=() REPORTS=()
while [ $# -gt 0 ]; do
	case "$1" in
	--out) OUT=$2; shift 2 ;;
	-h | --help) sed -n '2,11p' "$0"; exit 0 ;;
	*=*.json) REPORTS+=("$1"); shift ;;
	*) DIRS+=("$1"); shift ;;
	esac
done
if [ ${#DIRS[@]} -eq 0 ] && [ ${#REPORTS[@]} -eq 0 ]; then
	for p in $PROFILES; do
		[ -d "$ROOT/target/vm-tests/$p" ] && DIRS+=("$ROOT/target/vm-tests/$p")
	done
fi
[ ${#DIRS[@]} -gt 0 ] || [ ${#REPORTS[@]} -gt 0 ] || vmt_die "no VM results under target/vm-tests/ (run make vm-matrix or vm-tests/run.sh PROFILE)" 2
OC=${VMT_OCI_CONFORM-$(vmt_find_in_target oci-conform)}
[ -n "$OC" ] || vmt_die "oci-conform is not built (cargo build --release -p oci-conform)" 2

# json_field FILE KEY: the value of "KEY": in one of our own line-per-field JSON files
# (vm.json, summary.json are written by report.sh and suite.sh, one key per line).
json_field() {
	sed -n "s/^ *\"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" 2>/dev/null | head -1
}

facts_row() {
	local d=$1 profile commit kernel cgroup aa rootless boot suite smoke rc
	profile=$(json_field "$d/vm.json" profile)
	commit=$(json_field "$d/vm.json" commit)
	kernel=$(json_field "$d/vm.json" kernel)
	boot=$(json_field "$d/vm.json" guest_boot_s)
	suite=$(json_field "$d/vm.json" guest_suite_s)
	rc=$(cat "$d/rc" 2>/dev/null || echo "none")
	cgroup=$(json_field "$d/summary.json" cgroup)
	aa=$(json_field "$d/summary.json" apparmor)
	rootless=$(json_field "$d/summary.json" rootless)
	smoke=$(sed -n 's/.*"summary": {"pass": \([0-9]*\), "fail": \([0-9]*\), "skip": \([0-9]*\)}.*/\1 \/ \2 \/ \3/p' \
		"$d/smoke.json" 2>/dev/null | head -1)
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${profile:-$(basename "$d")}" \
		"${commit:-?}" "${kernel:-?}" "${cgroup:-?}" "${aa:-?}" "${rootless:-?}" "${boot:-?}" "${suite:-?}" \
		"${smoke:-none}" "$rc"
}

# report_row LABEL REPORT.json: the facts a report holds itself (oci-conform's host probe and
# run time; no boot time, smoke or commit: those are the VM's), with the file it came from.
report_row() {
	# shellcheck disable=SC2016 # the backticks are Markdown, printed as they are
	python3 - "$1" "$2" "${2#"$ROOT"/}" <<'PY' 2>/dev/null || printf '| %s | report `%s` | | | | | | | | |\n' "$1" "$3"
import json, sys
label, path, shown = sys.argv[1:4]
r = json.load(open(path))
h = r.get("host", {})
yn = lambda b: "Y" if b else "N"
rootless = "true" if h.get("euid", 0) != 0 else "false"
print(f"| {label} | report `{shown}` | {h.get('kernel', '?')} | {h.get('cgroup_mode', '?')} | "
      f"{yn(h.get('apparmor'))} | {rootless} | ? | {r.get('duration_ms', 0) / 1000:.2f} (oci-conform) | ? | ? |")
PY
}

sources=()
{
	echo "# Conformance matrix in the VM profiles"
	echo
	echo "Written by \`vm-tests/matrix.sh\` (\`make vm-matrix\`) on $(date -u +%Y-%m-%d); each run's commit is"
	echo "in its row (\`-dirty\`: built from a tree with uncommitted changes)."
	echo "Each profile is one qemu TCG guest running the scenario pack (or the profile's CI selection:"
	echo "a column with fewer scenarios) against runc and ferrun (see [vm-tests.md](vm-tests.md));"
	echo "columns are \`profile/runtime\`; a \`report\` row is a checked-in baseline. Times are seconds"
	echo "under TCG emulation on a 2-core host; smoke is pass / fail / skip over both runtimes."
	echo
	echo "| profile | commit | kernel | cgroup | AppArmor | rootless | boot s | suite s | smoke | rc |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for d in "${DIRS[@]}"; do
		facts_row "$d"
		if [ -s "$d/conform/report.json" ]; then
			sources+=("$(basename "$d")=$d/conform/report.json")
		fi
	done
	for r in "${REPORTS[@]}"; do
		[ -s "${r#*=}" ] || vmt_die "no report at ${r#*=}" 2
		report_row "${r%%=*}" "${r#*=}"
		sources+=("$r")
	done
	echo
	if [ ${#sources[@]} -gt 0 ]; then
		"$OC" matrix "${sources[@]}"
	else
		echo "No profile produced a conform/report.json."
	fi
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
vmt_log "wrote $OUT (${#sources[@]} profile report(s))"
