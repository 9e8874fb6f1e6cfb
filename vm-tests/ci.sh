#!/usr/bin/env bash
# vm-tests/ci.sh: the CI step (.ci/run calls it). Boots the cgroup-v2 profile, then gates
# the oci-conform report against vm-tests/baselines/cgroup-v2.json: CI fails when a scenario
# that passed in the baseline fails now (`oci-conform gate`), when the runc smoke test fails
# (it proves the VM itself works), or when the VM/suite errors or times out.
#
# Budget: ~10 min of CI on 2 cores (VMT_CI_TIMEOUT, default 600 s, kills the VM); the pack is
# narrowed with VMT_CI_FILTER (an `oci-conform --filter` expression, default below).
# Results: target/vm-tests/ci-cgroup-v2/ (VMT_CI_OUT).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${VMT_CI_OUT:-$ROOT/target/vm-tests/ci-cgroup-v2}
BASELINE=$ROOT/vm-tests/baselines/cgroup-v2.json
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
# The whole pack under TCG takes ~8-15 s per scenario and runtime (measured: 245 scenarios x
# runc alone > 10 min on the loaded 2-core dev VM), so CI runs what only the VM can show: cgroup
# v2 behaviour, the lifecycle, and rlimits (root here lacks CAP_SYS_RESOURCE). Set
# VMT_CI_FILTER="" for the whole pack (e.g. nightly, with a larger VMT_CI_TIMEOUT).
VMT_CI_FILTER=${VMT_CI_FILTER-area:cgroups,lifecycle,rlimits}
[ -n "$VMT_CI_FILTER" ] && export VMT_SUITE_ARGS="--filter $VMT_CI_FILTER"

# ferrun and oci-conform come from the build CI already made (newest under target/); oci-probe
# goes into container images without libc, so it needs its own static build (incremental,
# a separate target dir: the host build is not invalidated).
if command -v cargo >/dev/null && [ -d "$ROOT/conformance/probe" ]; then
	(cd "$ROOT" && RUSTFLAGS="-C target-feature=+crt-static" \
		cargo build -q -p oci-probe --release --target x86_64-unknown-linux-gnu) ||
		{ echo "vm-tests ci: FAIL: static oci-probe build"; exit 1; }
fi

t0=$(date +%s)
rc=0
"$ROOT/vm-tests/run.sh" --out "$OUT" --timeout "${VMT_CI_TIMEOUT:-600}" cgroup-v2 || rc=$?
echo "vm-tests ci: cgroup-v2 suite rc=$rc after $(($(date +%s) - t0)) s"

case "$rc" in
0 | 1) ;;
124) echo "vm-tests ci: FAIL: the VM hit the ${VMT_CI_TIMEOUT:-600} s timeout"; exit 1 ;;
*) echo "vm-tests ci: FAIL: suite/harness error (rc=$rc); see $OUT/suite.log and serial.log"; exit 1 ;;
esac

smoke_fail=$(sed -n 's/.*"summary": {"pass": [0-9]*, "fail": \([0-9]*\).*/\1/p' "$OUT/smoke.json" 2>/dev/null)
if [ "${smoke_fail:-x}" != 0 ]; then
	echo "vm-tests ci: FAIL: runc smoke test in the VM: ${smoke_fail:-no smoke.json} failure(s) ($OUT/smoke.json)"
	exit 1
fi

OC=${VMT_OCI_CONFORM-$(vmt_find_in_target oci-conform)}
if [ -z "$OC" ] || [ ! -s "$OUT/conform/report.json" ]; then
	echo "************************************************************************"
	echo "SKIP: oci-conform gate: $([ -z "$OC" ] && echo "oci-conform is not built" || echo "no conform/report.json from the VM")"
	echo "      only the runc smoke test gated this run"
	echo "************************************************************************"
	exit "$rc"
fi
if [ ! -s "$BASELINE" ]; then
	echo "************************************************************************"
	echo "SKIP: oci-conform gate: no baseline at vm-tests/baselines/cgroup-v2.json"
	echo "      review $OUT/conform/report.json and check it in as the baseline"
	echo "************************************************************************"
	exit "$rc"
fi
# Failures the baseline already had are accepted (rc 1 of the suite); regressions are not.
"$OC" gate --baseline "$BASELINE" "$OUT/conform/report.json"
grc=$?
echo "vm-tests ci: oci-conform gate rc=$grc"
exit "$grc"
