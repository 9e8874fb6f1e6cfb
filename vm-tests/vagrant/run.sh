#!/usr/bin/env bash
# vm-tests/vagrant/run.sh MACHINE: `vagrant up` (or re-provision) MACHINE from the Vagrantfile,
# copy its results to target/vm-tests/vagrant-MACHINE/ and exit with the suite's status.
# Needs vagrant + a provider (VirtualBox or libvirt); internet for the public boxes, none for
# debian12-local (vm-tests/vagrant/test.sh, `make vagrant-test`, sets that one up).
# VMT_VAGRANT_PROVIDER: passed to `vagrant up --provider`. VMT_VAGRANT_DEADLINE: the epoch second
# by which boot and suite must be done (default an hour from now); fetching the results and, when
# the suite did not finish, a post-mortem of the guest have bounds of their own after it. Writes
# OUT/vagrant.times (up_s: boot + synced folders, provision_s: the provisioners, i.e. the suite,
# fetch_s) and, when the suite did not finish, OUT/postmortem (one line: what the guest showed).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=vm-tests/lib/common.sh
. "$ROOT/vm-tests/lib/common.sh"
M=${1:?usage: vm-tests/vagrant/run.sh MACHINE (debian12-local ubuntu-v2 fedora-v2 ubuntu-v1 fedora-rootless)}
OUT=$ROOT/target/vm-tests/vagrant-$M
RESULTS=/var/tmp/vmt-results/$M
DEADLINE=${VMT_VAGRANT_DEADLINE:-$(($(date +%s) + 3600))}
cd "$ROOT"
# vg ARGS: vagrant with what is left until DEADLINE (--foreground: a terminal keeps working; the
# shell provisioner runs inside vagrant's own process); its progress bars are dropped when the
# output is not a terminal.
vg() {
	local left=$((DEADLINE - $(date +%s)))
	[ "$left" -gt 0 ] || return 124
	if [ -t 1 ]; then
		timeout --foreground -k 30 "$left" vagrant "$@"
	else
		timeout --foreground -k 30 "$left" vagrant "$@" | vmt_strip_vagrant_progress
	fi
}
# guest SECS COMMAND: COMMAND as root in the guest, over an ssh session of its own.
guest() { timeout -k 10 "$1" vagrant ssh "$M" -c "sudo sh -c '$2'" </dev/null; }

# post_mortem: the suite did not finish; print what the guest shows (the suite log's tail, its
# processes with their wait channels, the kernel log, the serial console) and keep the line a
# CI log's tail needs in OUT/postmortem.
post_mortem() {
	local summary suite_tail
	vmt_log "post-mortem of $M: the suite log's tail, processes, kernel log"
	if suite_tail=$(guest 30 "tail -n 30 $RESULTS/suite.log" 2>&1); then
		printf '%s\n' "$suite_tail" >&2
		guest 30 "ps -eo pid,stat,etimes,wchan:28,args --sort=start_time | grep -v \" \\[\"; dmesg | tail -n 20" \
			>"$OUT/postmortem.ps" 2>&1 || true
		cat "$OUT/postmortem.ps" >&2
		summary="the guest answers; the suite's last line: '$(printf '%s\n' "$suite_tail" | tail -n 1)'"
		summary="$summary; in D state: $(awk '$2 ~ /^D/ {printf "%s(%s) ", $5, $4}' "$OUT/postmortem.ps")"
	else
		summary="the guest does not answer ssh (a hung kernel or network)"
	fi
	if [ -n "${VMT_VAGRANT_SERIAL:-}" ] && [ -s "$VMT_VAGRANT_SERIAL" ]; then
		vmt_log "serial console (last 15 lines):"
		tail -n 15 "$VMT_VAGRANT_SERIAL" >&2
		summary="$summary; console: $(tail -n 1 "$VMT_VAGRANT_SERIAL" | cut -c1-160)"
	fi
	echo "$summary" >"$OUT/postmortem"
}

# Interrupted (test.sh's stop_runner sends the group a Ctrl-C): stop once vagrant has, with no
# fetch and no post-mortem.
trap 'exit 130' INT
trap 'exit 143' TERM
t_up=$(vmt_now_ms)
prov_rc=0
if vagrant status "$M" 2>/dev/null | grep -q "^$M *running"; then
	vg rsync "$M" || prov_rc=$?
	t_prov=$(vmt_now_ms)
	[ "$prov_rc" != 0 ] || vg provision "$M" --provision-with build,suite || prov_rc=$?
else
	# Boot and provisioning apart, so each has its own time.
	vg up "$M" --no-provision ${VMT_VAGRANT_PROVIDER:+--provider "$VMT_VAGRANT_PROVIDER"} || prov_rc=$?
	t_prov=$(vmt_now_ms)
	[ "$prov_rc" != 0 ] || vg provision "$M" || prov_rc=$?
fi
t_fetch=$(vmt_now_ms)
rm -rf "$OUT"
mkdir -p "$OUT"
# The results sit in the guest; a tar stream over `vagrant ssh` works with every provider.
guest 60 "[ ! -d $RESULTS ] || tar -C $RESULTS -cf - ." | tar -C "$OUT" -xf - 2>/dev/null || true
t_end=$(vmt_now_ms)
printf 'up_s=%s\nprovision_s=%s\nfetch_s=%s\n' "$(vmt_secs "$t_up" "$t_prov")" "$(vmt_secs "$t_prov" "$t_fetch")" \
	"$(vmt_secs "$t_fetch" "$t_end")" >"$OUT/vagrant.times"
if [ ! -s "$OUT/rc" ]; then
	# No verdict from the guest: boot or provisioning failed, or the deadline came first.
	if [ "$prov_rc" = 124 ] || [ "$prov_rc" = 137 ]; then
		vmt_log "TIMEOUT: vagrant up + suite of $M were not done by the deadline"
		prov_rc=124
	fi
	post_mortem
	echo "vagrant $M: no suite result (vagrant exit $prov_rc); $(cat "$OUT/postmortem" 2>/dev/null)"
	[ "$prov_rc" = 124 ] && exit 124
	exit 125
fi
rc=$(cat "$OUT/rc")
# The suite finished and its results are here, but vagrant's session did not end with it: say
# so, and let the suite's verdict stand (the results are complete).
[ "$prov_rc" = 0 ] || vmt_log "WARNING: vagrant exited $prov_rc after the suite finished in the guest (rc=$rc)"
echo "vagrant $M: suite rc=$rc; results in $OUT ($(tr '\n' ' ' <"$OUT/vagrant.times"))"
exit "$rc"
