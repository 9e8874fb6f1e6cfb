#!/usr/bin/env bash
# vm-tests/ci.sh: the CI step (.ci/run calls it). Boots the cgroup-v2 profile, then gates
# the oci-conform report against vm-tests/baselines/cgroup-v2.json: CI fails when a scenario
# that passed in the baseline fails now (`oci-conform gate`), when the runc smoke test fails
# (it proves the VM itself works), or when the VM/suite errors or times out.
#
# Budget: the whole pack, runc and ferrun, takes 7-8 min of TCG on an idle 2-core host
# (VMT_CI_TIMEOUT, default 1500 s, kills the VM); VMT_CI_FILTER (an `oci-conform --filter`
# expression) narrows it when a machine is too slow.
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
# Measured: the whole pack (253 scenarios x runc and ferrun, --jobs 2) runs in 450-460 s in the
# guest, so CI judges everything, not a selection. The baseline must come from the same
# selection (vm-tests/baselines/README.md).
VMT_CI_FILTER=${VMT_CI_FILTER-}
[ -n "$VMT_CI_FILTER" ] && export VMT_SUITE_ARGS="--filter $VMT_CI_FILTER"
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

t0=$(date +%s)
rc=0
"$ROOT/vm-tests/run.sh" --out "$OUT" --timeout "${VMT_CI_TIMEOUT:-1500}" cgroup-v2 || rc=$?
echo "vm-tests ci: cgroup-v2 suite rc=$rc after $(($(date +%s) - t0)) s"

case "$rc" in
0 | 1) ;;
124) echo "vm-tests ci: FAIL: the VM hit the ${VMT_CI_TIMEOUT:-1500} s timeout"; exit 1 ;;
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
