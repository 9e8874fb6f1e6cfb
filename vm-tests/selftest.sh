#!/usr/bin/env bash
# vm-tests/selftest.sh: proves the VM harness can fail, so a green run means something.
#   1. a lying runtime (exits 0, does nothing) as ferrun next to runc: every ferrun smoke
#      check must FAIL, every runc one PASS, and run.sh must exit 1;
#   2. a 4-second timeout: run.sh must kill the VM and exit 124.
# Two VM boots, ~1 min under TCG. Exit 0 when both hold.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTBASE=$ROOT/target/vm-tests
fails=0
check() { # check DESCRIPTION COMMAND...
	if "${@:2}"; then echo "selftest: ok: $1"; else echo "selftest: FAILED: $1"; fails=$((fails + 1)); fi
}
count() { grep -c "\"runtime\": \"$1\", \"check\": \"[a-z_]*\", \"status\": \"$2\"" "$3" || true; }

rc=0
VMT_FERRUN=$ROOT/vm-tests/selftest/liar-runtime VMT_OCI_CONFORM="" VMT_SMOKE_RUNTIMES="runc ferrun" \
	"$ROOT/vm-tests/run.sh" --out "$OUTBASE/selftest-liar" --timeout 600 cgroup-v2 || rc=$?
smoke=$OUTBASE/selftest-liar/smoke.json
check "run.sh exits 1 when a runtime fails the smoke (got $rc)" test "$rc" = 1
check "all 5 cgroup/lifecycle checks fail for the lying runtime ($(count ferrun fail "$smoke"))" \
	test "$(count ferrun fail "$smoke")" = 5
check "no check passes for the lying runtime" test "$(count ferrun pass "$smoke")" = 0
check "runc still passes its 5 checks ($(count runc pass "$smoke"))" test "$(count runc pass "$smoke")" = 5
check "the JUnit file reports the failures" grep -q '<failure message=' "$OUTBASE/selftest-liar/smoke.junit.xml"

rc=0
VMT_FERRUN="" VMT_OCI_CONFORM="" "$ROOT/vm-tests/run.sh" --out "$OUTBASE/selftest-timeout" --timeout 4 cgroup-v2 || rc=$?
check "run.sh exits 124 when the timeout kills the VM (got $rc)" test "$rc" = 124
check "no suite status is left behind by a killed VM" test ! -e "$OUTBASE/selftest-timeout/rc"

[ "$fails" = 0 ] && echo "selftest: PASS" || echo "selftest: FAIL ($fails)"
[ "$fails" = 0 ]
