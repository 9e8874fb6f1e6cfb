#!/usr/bin/env bash
# vm-tests/ci.sh: the CI step (.ci/run calls it). Boots each CI profile (VMT_CI_PROFILES,
# default cgroup-v2, rootless, cgroup-v1 and systemd), then gates its oci-conform report against
# vm-tests/baselines/<profile>.json: CI fails when a scenario that passed for ferrun in the
# baseline fails now (`oci-conform gate --judge ferrun`; runc's results are reported, never
# judged), when the runc smoke test fails (it proves the VM itself works), or when the
# VM/suite errors or times out.
#
# Budget: the whole pack, runc and ferrun, takes 8-9 min of TCG on cgroup-v2 on a 2-core host
# and under a minute rootless (most scenarios need root there) (VMT_CI_TIMEOUT per VM,
# default 1500 s); VMT_CI_FILTER (an `oci-conform --filter` expression) narrows the pack when
# a machine is too slow. A profile can have a selection of its own, VMT_CI_FILTER_<profile>
# with `-` as `_`: cgroup-v1 runs only `area:checkpoint` by default (criu's v1 cgroup paths;
# the rest of the pack is what this host's hybrid v1 already covers in the non-VM suite), and
# systemd only `area:systemd` (the systemd cgroup driver; its podman clients run for runc and
# ferrun, and a failed one fails CI like the runc smoke test).
# Results: target/vm-tests/ci-<profile>/ (under VMT_CI_OUT_BASE).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_BASE=${VMT_CI_OUT_BASE:-$ROOT/target/vm-tests}
PROFILES=${VMT_CI_PROFILES:-cgroup-v2 rootless cgroup-v1 systemd}
TIMEOUT=${VMT_CI_TIMEOUT:-1500}
# shellcheck source=vm-tests/lib/common.sh
. "$ROOT/vm-tests/lib/common.sh"
# shellcheck source=vm-tests/lib/bins.sh
. "$ROOT/vm-tests/lib/bins.sh"
# shellcheck source=vm-tests/lib/initramfs.sh
. "$ROOT/vm-tests/lib/initramfs.sh"
VMT_ROOT=$ROOT

# ferrun is judged by the gate against its baseline, not by the smoke test: a smoke failure
# must mean "the VM or runc is broken", never "ferrun is not finished".
export VMT_SMOKE_RUNTIMES=runc
# Measured: the whole pack (253 scenarios x runc and ferrun, --jobs 2) runs in 450-460 s in the
# guest, so CI judges everything, not a selection. The baseline must come from the same
# selection (vm-tests/baselines/README.md).
VMT_CI_FILTER=${VMT_CI_FILTER-}
VMT_CI_FILTER_cgroup_v1=${VMT_CI_FILTER_cgroup_v1-area:checkpoint}
# The systemd guest (systemd as PID 1, for --systemd-cgroup): the driver's scenarios only (see
# docs/vm-tests.md, "CI": the whole pack there would take CI past its 60-minute budget on a
# fresh machine); set it empty for the whole pack.
VMT_CI_FILTER_systemd=${VMT_CI_FILTER_systemd-area:systemd}

# ci_filter PROFILE: the --filter expression of PROFILE (its own variable, else VMT_CI_FILTER).
ci_filter() {
	local var=VMT_CI_FILTER_${1//-/_}
	if [ -n "${!var+x}" ]; then
		printf '%s' "${!var}"
	else
		printf '%s' "$VMT_CI_FILTER"
	fi
}
# ferrun and oci-conform: the release build CI already made (scripts/test.sh builds it first;
# the debug binaries the tests build later are newer but several times slower under TCG).
# Without one, the newest build under target/. oci-probe goes into container images without
# libc, so it needs its own static build (incremental, a separate target dir).
if [ -z "${VMT_FERRUN+x}" ] && [ -x "$ROOT/target/release/ferrun" ]; then
	export VMT_FERRUN=$ROOT/target/release/ferrun
fi
if [ -z "${VMT_OCI_CONFORM+x}" ] && [ -x "$ROOT/target/release/oci-conform" ]; then
	export VMT_OCI_CONFORM=$ROOT/target/release/oci-conform
fi
if command -v cargo >/dev/null && [ -d "$ROOT/conformance/probe" ]; then
	(cd "$ROOT" && RUSTFLAGS="-C target-feature=+crt-static" \
		cargo build -q -p oci-probe --release --target x86_64-unknown-linux-gnu) ||
		{ echo "vm-tests ci: FAIL: static oci-probe build"; exit 1; }
fi

OC=${VMT_OCI_CONFORM-$(vmt_find_in_target oci-conform)}

# print_failures OUT: each failed smoke row with its message, and the end of a client's log
# (OUT/<check>-<runtime>.log): a CI log that only names the row leaves a flake unexplained.
print_failures() {
	local rt check msg
	sed -n 's/.*"runtime": "\([^"]*\)", "check": "\([^"]*\)", "status": "fail", "ms": [0-9]*, "message": "\(.*\)"}.*/\1\t\2\t\3/p' \
		"$1/smoke.json" 2>/dev/null | while IFS=$'\t' read -r rt check msg; do
		echo "vm-tests ci: $rt $check: $msg"
		if [ -s "$1/$check-$rt.log" ]; then
			echo "--- the last 40 lines of $1/$check-$rt.log"
			tail -40 "$1/$check-$rt.log"
			echo "---"
		fi
	done
}

# ci_profile PROFILE: boot it, check the runc smoke test, gate the report. Returns 0 or 1.
ci_profile() {
	local profile=$1 out=$OUT_BASE/ci-$1 baseline=$ROOT/vm-tests/baselines/$1.json t0 rc=0 smoke_fail grc filter
	t0=$(date +%s)
	filter=$(ci_filter "$profile")
	# The pack judges ferrun only: runc runs beside it for reference (its results are in the
	# report and the matrix, its FAIL/ERROR/XPASS are re-run once), so a runc flake such as its
	# cgroup cleanup race cannot give the suite rc 2 or fail the gate.
	VMT_SUITE_ARGS="--judge ferrun${filter:+ --filter $filter}"
	export VMT_SUITE_ARGS
	echo "vm-tests ci: $profile: oci-conform selection: ${filter:-the whole pack}"
	"$ROOT/vm-tests/run.sh" --out "$out" --timeout "$TIMEOUT" "$profile" || rc=$?
	echo "vm-tests ci: $profile suite rc=$rc after $(($(date +%s) - t0)) s"
	case "$rc" in
	0 | 1) ;;
	124) echo "vm-tests ci: FAIL: $profile: the VM hit the $TIMEOUT s timeout"; return 1 ;;
	*) echo "vm-tests ci: FAIL: $profile: suite/harness error (rc=$rc); see $out/suite.log and serial.log"; return 1 ;;
	esac
	# A client that passed only on its second attempt passes, and says so here.
	grep 'second attempt' "$out/smoke.json" 2>/dev/null | sed 's/^ */vm-tests ci: NOTE: flaky client: /'
	smoke_fail=$(sed -n 's/.*"summary": {"pass": [0-9]*, "fail": \([0-9]*\).*/\1/p' "$out/smoke.json" 2>/dev/null)
	if [ "${smoke_fail:-x}" != 0 ]; then
		# The runc smoke checks, and in the systemd guest the podman clients of both runtimes.
		echo "vm-tests ci: FAIL: $profile: smoke test / podman clients: ${smoke_fail:-no smoke.json} failure(s): $(
			sed -n 's/.*"runtime": "\([^"]*\)", "check": "\([^"]*\)", "status": "fail".*/\1 \2/p' \
				"$out/smoke.json" 2>/dev/null | paste -sd, -) ($out/smoke.json)"
		print_failures "$out"
		return 1
	fi
	if [ -z "$OC" ] || [ ! -s "$out/conform/report.json" ] || [ ! -s "$baseline" ]; then
		echo "************************************************************************"
		echo "SKIP: oci-conform gate for $profile: $(
			if [ -z "$OC" ]; then echo "oci-conform is not built"
			elif [ ! -s "$out/conform/report.json" ]; then echo "no conform/report.json from the VM"
			else echo "no baseline at vm-tests/baselines/$profile.json (review $out/conform/report.json and check it in)"; fi)"
		echo "      only the runc smoke test gated this profile"
		echo "************************************************************************"
		return "$rc"
	fi
	# Failures the baseline already had are accepted (rc 1 of the suite); regressions are not.
	"$OC" gate --judge ferrun --baseline "$baseline" "$out/conform/report.json"
	grc=$?
	echo "vm-tests ci: $profile: oci-conform gate rc=$grc"
	return "$grc"
}

status=0
for p in $PROFILES; do
	ci_profile "$p" || status=1
done
exit "$status"
