#!/usr/bin/env bash
# vm-tests/run.sh PROFILE: boot a throw-away VM for PROFILE, run vm-tests/guest/suite.sh in it
# (oci-conform against every runtime present, plus a runc/ferrun smoke test) and bring the
# results back. Exit status = the suite's (0 pass, 1 failures, 2 suite error); 124 when the
# hard timeout killed the VM; 125 for a harness error (no kernel, VM died before the suite).
#
# Flow: kernel.sh (apt-get download + cache) -> initramfs.sh (busybox + binaries + modules,
# cached by content hash) -> qemu.sh (TCG unless the CPU has vmx/svm, 9p shares, timeout)
# -> OUT/{rc,suite.log,serial.log,smoke.json,smoke.junit.xml,conform/*,vm.json}.
set -euo pipefail

VMT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=vm-tests/lib/common.sh
. "$VMT_ROOT/vm-tests/lib/common.sh"
# shellcheck source=vm-tests/lib/kernel.sh
. "$VMT_ROOT/vm-tests/lib/kernel.sh"
# shellcheck source=vm-tests/lib/initramfs.sh
. "$VMT_ROOT/vm-tests/lib/initramfs.sh"
# shellcheck source=vm-tests/lib/qemu.sh
. "$VMT_ROOT/vm-tests/lib/qemu.sh"
# shellcheck source=vm-tests/lib/bins.sh
. "$VMT_ROOT/vm-tests/lib/bins.sh"
# shellcheck source=vm-tests/lib/apparmor.sh
. "$VMT_ROOT/vm-tests/lib/apparmor.sh"
# shellcheck source=vm-tests/lib/systemd-image.sh
. "$VMT_ROOT/vm-tests/lib/systemd-image.sh"
# shellcheck source=vm-tests/lib/selinux-image.sh
. "$VMT_ROOT/vm-tests/lib/selinux-image.sh"
# shellcheck source=vm-tests/lib/report.sh
. "$VMT_ROOT/vm-tests/lib/report.sh"

usage() {
	cat <<USAGE
usage: vm-tests/run.sh [--out DIR] [--timeout SECS] [--shell] PROFILE
profiles: $(cd "$VMT_ROOT/vm-tests/profiles" && ls -- *.sh | sed 's/\.sh$//' | tr '\n' ' ')
environment:
  VMT_CACHE        artifact cache (default target/vm-cache)
  VMT_ACCEL        auto|tcg|kvm (auto: kvm only when /proc/cpuinfo has vmx or svm)
  VMT_MEM VMT_SMP  guest memory in MiB (1536) and vCPUs (2)
  VMT_RUNC VMT_CRUN VMT_FERRUN VMT_OCI_CONFORM VMT_OCI_PROBE VMT_OCI_SECCOMP_AGENT VMT_CRIU
                   binary to put in the guest; empty = leave it out (default: found on PATH
                   for runc/crun/criu, under target/ for ours)
  VMT_SUITE_ARGS   extra words for \`oci-conform run\` in the guest (e.g. "--filter tag:cgroups")
  VMT_SMOKE_RUNTIMES    runtimes the smoke test covers (default "runc ferrun", those present)
  VMT_CONFORM_RUNTIMES  runtimes oci-conform compares (default "runc ferrun"; crun is in the
                        guest too: add it for a third column)
  VMT_JOBS         oci-conform --jobs in the guest (default: the guest's CPU count)
  VMT_SCENARIOS    scenario directory relative to the repo (default scenarios)
USAGE
}

OUT="" TIMEOUT=900 PROFILE=""
while [ $# -gt 0 ]; do
	case "$1" in
	--out) OUT=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--shell) VMT_SHELL=1; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 125 ;;
	*) [ -z "$PROFILE" ] || { usage >&2; exit 125; }; PROFILE=$1; shift ;;
	esac
done
[ -n "$PROFILE" ] || { usage >&2; exit 125; }
PROFILE_FILE=$VMT_ROOT/vm-tests/profiles/$PROFILE.sh
[ -f "$PROFILE_FILE" ] || vmt_die "unknown profile '$PROFILE' (see --help)"
# shellcheck source=/dev/null
. "$PROFILE_FILE"

VMT_CACHE=${VMT_CACHE:-$VMT_ROOT/target/vm-cache}
OUT=${OUT:-$VMT_ROOT/target/vm-tests/$PROFILE}
vmt_require_cmd qemu-system-x86_64 busybox xz dpkg apt-get gzip timeout ldd sha256sum

# The results directory is ours: wipe it only if an earlier run marked it, never a random dir.
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ]; then
	[ -e "$OUT/.vmt-out" ] || vmt_die "$OUT exists, is not empty and was not made by run.sh"
	rm -rf "$OUT"
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
touch "$OUT/.vmt-out"

t_prep=$(vmt_now_ms)
# Taken before the guest starts reading the tree; vm.json reports it.
VMT_COMMIT=$(git -C "$VMT_ROOT" describe --always --dirty 2>/dev/null || echo unknown)
vmt_kernel_prepare
vmt_bins_collect
VMT_APPARMOR_DIR="" VMT_DISK=""
if [ "$VMT_PROFILE_APPARMOR" = 1 ]; then
	vmt_apparmor_prepare
fi
case "${VMT_PROFILE_DISK:-}" in
systemd) vmt_systemd_image_prepare ;;
selinux) vmt_selinux_image_prepare ;;
esac
vmt_initramfs_build
t_boot=$(vmt_now_ms)
vmt_log "profile $PROFILE: kernel $VMT_KVER, binaries: ${!VMT_BINS[*]}, timeout ${TIMEOUT}s"
vmt_log "booting ($(vmt_accel_args | tr '\n' ' ')) -> $OUT"

append="$VMT_PROFILE_APPEND vmt.profile=$PROFILE"
# Suite settings travel through the share: the kernel command line cannot carry spaces.
for v in VMT_SUITE_ARGS VMT_SMOKE_RUNTIMES VMT_CONFORM_RUNTIMES VMT_JOBS VMT_SCENARIOS; do
	[ -n "${!v:-}" ] && printf '%s=%q\n' "$v" "${!v}"
done >"$OUT/suite.env"
qrc=0
vmt_qemu_boot "$OUT" "$TIMEOUT" "$append" || qrc=$?
t_end=$(vmt_now_ms)

rc=125
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	rc=124
	vmt_log "TIMEOUT: the VM ran longer than ${TIMEOUT}s and was killed"
elif [ -s "$OUT/rc" ]; then
	rc=$(cat "$OUT/rc")
else
	vmt_log "the VM stopped (qemu status $qrc) without a suite status"
fi
vmt_write_vm_json "$OUT" "$rc" "$t_prep" "$t_boot" "$t_end"
if [ "$rc" != 0 ] && [ -s "$OUT/serial.log" ]; then
	vmt_log "last lines of $OUT/serial.log:"
	tail -n 25 "$OUT/serial.log" >&2
fi
vmt_log "profile $PROFILE: $(cat "$OUT/vm.summary")"
exit "$rc"
