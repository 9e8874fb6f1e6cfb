#!/bin/sh
# vm-tests/guest/suite.sh: the in-guest test suite, shared by the qemu path (the initramfs
# /init runs it from the 9p share) and by Vagrant provisioning. POSIX sh: busybox ash, dash, bash.
#
#   1. describes the machine (kernel, cgroup mode and controllers, AppArmor, euid);
#   2. loads vm-tests/guest/apparmor/* when AppArmor is enabled and apparmor_parser exists;
#   3. smoke test: real assertions through runc (and ferrun when present) - exit status,
#      lifecycle + the cgroup the runtime made, cgroup limits seen from inside, pids and memory
#      limits enforced, process.apparmorProfile;
#   4. oci-conform run over scenarios/ against every runtime present, when oci-conform exists.
#
# Environment (all optional): VMT_OUT (results, default ./vmt-out), VMT_SRC (the repository),
# VMT_PROFILE (a label; `apparmor` makes AppArmor mandatory), VMT_SMOKE_RUNTIMES and
# VMT_CONFORM_RUNTIMES (default "runc ferrun"), VMT_SUITE_ARGS (extra `oci-conform run` words),
# VMT_SCENARIOS (scenario dir relative to VMT_SRC, default scenarios), VMT_JOBS, VMT_RUNC/VMT_FERRUN/VMT_CRUN/VMT_OCI_CONFORM/VMT_OCI_PROBE/VMT_BUSYBOX (binaries).
# $VMT_OUT/suite.env, when present, is sourced first (run.sh passes settings that way).
# Writes: smoke.json, smoke.junit.xml, conform/{report.json,junit.xml,...}, summary.json.
# Exit: 0 all passed, 1 a check or scenario failed, 2 the suite could not run properly.
set -u

SUITE_DIR=$(cd "$(dirname "$0")" && pwd)
VMT_SRC=${VMT_SRC:-$(cd "$SUITE_DIR/../.." && pwd)}
VMT_OUT=${VMT_OUT:-$PWD/vmt-out}
VMT_PROFILE=${VMT_PROFILE:-host}
mkdir -p "$VMT_OUT" || exit 2
# shellcheck source=/dev/null
[ -f "$VMT_OUT/suite.env" ] && . "$VMT_OUT/suite.env"
VMT_SMOKE_RUNTIMES=${VMT_SMOKE_RUNTIMES:-runc ferrun}
VMT_CONFORM_RUNTIMES=${VMT_CONFORM_RUNTIMES:-runc ferrun}
VMT_SUITE_ARGS=${VMT_SUITE_ARGS:-}

# shellcheck source=vm-tests/guest/lib/results.sh
. "$SUITE_DIR/lib/results.sh"
# shellcheck source=vm-tests/guest/lib/bundle.sh
. "$SUITE_DIR/lib/bundle.sh"
# shellcheck source=vm-tests/guest/lib/bandwidth.sh
. "$SUITE_DIR/lib/bandwidth.sh"
# shellcheck source=vm-tests/guest/lib/watchdog.sh
. "$SUITE_DIR/lib/watchdog.sh"
# shellcheck source=vm-tests/guest/lib/smoke.sh
. "$SUITE_DIR/lib/smoke.sh"
# shellcheck source=vm-tests/guest/lib/facts.sh
. "$SUITE_DIR/lib/facts.sh"

WORK=$(mktemp -d /tmp/vmt-suite.XXXXXX) || exit 2
# mktemp makes it 0700: a container whose root is mapped to another uid (user namespace)
# could not even reach its bundle below it (runc: "mount rootfs: permission denied").
chmod 0755 "$WORK"
RESULTS_TSV=$WORK/results.tsv
CG_PARENT=vmt-smoke-$$
cleanup() {
	smoke_cleanup
	bandwidth_release
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

SUITE_RC=0
worse() { [ "$1" -gt "$SUITE_RC" ] && SUITE_RC=$1; return 0; }

describe_machine
# Before any container with a CPU quota (lib/bandwidth.sh: the first one can wedge a TCG guest).
[ "$VMT_PROFILE" = host ] || bandwidth_hold || echo "--- CFS bandwidth: could not switch it on safely"
load_apparmor_profiles || worse 2
check_selinux || worse 2

# --- smoke ------------------------------------------------------------------------------
BUSYBOX=$(find_busybox) || { echo "ERROR: no busybox for the smoke rootfs (set VMT_BUSYBOX)"; exit 2; }
make_rootfs
for name in $VMT_SMOKE_RUNTIMES; do
	t=$(uptime_ms)
	if bin=$(find_bin "$name"); then
		echo "--- smoke: $name ($bin)"
		smoke_runtime "$name" "$bin"
	elif [ "$name" = runc ]; then
		record runc present fail "$t" "runc not found: the smoke reference runtime is required"
	else
		record "$name" present skip "$t" "$name binary not found (not built yet?)"
	fi
done

# --- podman clients ---------------------------------------------------------------------
# The systemd profile's image carries podman and criu (vm-tests/lib/systemd-image.sh): podman
# drives each runtime through conmon, as users do: podman-checkpoint.sh (checkpoint and
# restore) and podman-systemd.sh (`--cgroup-manager=systemd`: the runtime's systemd cgroup
# driver, the scope's limits in `systemctl status`). One smoke.json row per script and runtime.
# podman_client SCRIPT ROW: run scripts/clients/SCRIPT.sh for every runtime into ROW-<rt>.log.
podman_client() {
	script=$1 row=$2
	for name in $VMT_CONFORM_RUNTIMES; do
		t=$(uptime_ms)
		bin=$(find_bin "$name") || { record "$name" "$row" skip "$t" "$name binary not found"; continue; }
		log=$VMT_OUT/$row-$name.log
		echo "--- $row: $name ($bin)"
		# A SKIP (criu cannot work on this kernel, no systemd) exits 0 too: it must never read
		# as a pass.
		# One more attempt after a failure: podman, conmon and criu under TCG failed once in
		# about ten CI runs without a trace. The first attempt's failures stay in the row's
		# message and on the console, and a second failure fails the row.
		again=""
		if ! RUNTIME=$bin bash "$VMT_SRC/scripts/clients/$script.sh" >"$log" 2>&1; then
			again=$(grep -E '^(FAIL|SKIP)' "$log" | head -3)
			mv "$log" "$log.first"
			echo "--- $row: $name failed, once more; the first attempt: $again"
			if ! RUNTIME=$bin bash "$VMT_SRC/scripts/clients/$script.sh" >"$log" 2>&1; then
				record "$name" "$row" fail "$t" "$(grep -E '^(FAIL|SKIP)' "$log" | head -3) (first attempt: $again)"
				continue
			fi
		fi
		if grep -q '^SKIP' "$log"; then
			record "$name" "$row" skip "$t" "$(grep -m1 '^SKIP' "$log")"
		else
			record "$name" "$row" pass "$t" "$(grep -c '^PASS' "$log") checks${again:+; passed on a second attempt after: $again}"
		fi
	done
}
if [ "$VMT_PROFILE" = systemd ] && command -v podman >/dev/null 2>&1; then
	podman_client podman-checkpoint podman-checkpoint
	podman_client podman-systemd podman-systemd
fi
render_results "$VMT_OUT" "$VMT_PROFILE"
[ "$(count_status fail)" = 0 ] || worse 1

# --- oci-conform ------------------------------------------------------------------------
CONFORM_RC=null
if oc=$(find_bin oci-conform); then
	set --
	for name in $VMT_CONFORM_RUNTIMES; do
		bin=$(find_bin "$name") && set -- "$@" --runtime "$name=$bin"
	done
	probe=$(find_bin oci-probe) && set -- "$@" --probe "$probe"
	echo "--- oci-conform run $* (jobs ${VMT_JOBS:-$(nproc)})"
	# Bundles and artifacts on the guest's own filesystem (pivot_root into a 9p dir is not what
	# we want to test); the reports are copied to VMT_OUT afterwards.
	CONFORM_RC=0
	# shellcheck disable=SC2086 # VMT_SUITE_ARGS is a list of words on purpose
	"$oc" run "$@" --jobs "${VMT_JOBS:-$(nproc)}" --keep fail --report json,junit,tap,markdown \
		--out "$WORK/conform" $VMT_SUITE_ARGS "$VMT_SRC/${VMT_SCENARIOS:-scenarios}" || CONFORM_RC=$?
	# Reports and artifacts only: work/ holds the kept bundles, whose rootfs trees (hundreds of
	# busybox hard links) would become gigabytes of separate files on the 9p share.
	rm -rf "$VMT_OUT/conform"
	mkdir -p "$VMT_OUT/conform"
	# criu's own logs (dump.log, restore.log, ...) of the checkpoint scenarios that were kept
	# (failed): a runtime's "criu failed" names them, and they live in the work directory.
	find "$WORK/conform/work" -path '*.images/*' -name '*.log' 2>/dev/null | while read -r f; do
		rel=${f#"$WORK/conform/work/"}
		mkdir -p "$VMT_OUT/conform/criu-logs/$(dirname "$rel")" && cp "$f" "$VMT_OUT/conform/criu-logs/$rel"
	done
	for f in "$WORK"/conform/*; do
		[ "${f##*/}" = work ] || cp -r "$f" "$VMT_OUT/conform/"
	done
	case "$CONFORM_RC" in
	0) ;;
	1) worse 1 ;;
	*) worse 2 ;;
	esac
	[ -s "$VMT_OUT/conform/report.json" ] || { echo "ERROR: oci-conform wrote no report.json"; worse 2; }
	echo "--- oci-conform rc=$CONFORM_RC"
else
	echo "SKIP: oci-conform not found: only the smoke test ran (build it: cargo build -p oci-conform)"
fi

write_summary "$VMT_OUT/summary.json" "$CONFORM_RC"
echo "--- suite rc=$SUITE_RC (smoke: $(count_status pass) pass, $(count_status fail) fail, $(count_status skip) skip; oci-conform rc=$CONFORM_RC)"
exit "$SUITE_RC"
