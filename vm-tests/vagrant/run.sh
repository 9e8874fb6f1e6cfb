#!/usr/bin/env bash
# vm-tests/vagrant/run.sh MACHINE: `vagrant up` (or re-provision) MACHINE from the Vagrantfile,
# copy its results to target/vm-tests/vagrant-MACHINE/ and exit with the suite's status.
# Needs vagrant + a provider (VirtualBox or libvirt); internet for the public boxes, none for
# debian12-local (vm-tests/vagrant/test.sh, `make vagrant-test`, sets that one up).
# VMT_VAGRANT_PROVIDER: passed to `vagrant up --provider`. Writes OUT/vagrant.times
# (up_s: boot + synced folders, provision_s: the provisioners, i.e. the suite, fetch_s).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=vm-tests/lib/common.sh
. "$ROOT/vm-tests/lib/common.sh"
M=${1:?usage: vm-tests/vagrant/run.sh MACHINE (debian12-local ubuntu-v2 fedora-v2 ubuntu-v1 fedora-rootless)}
OUT=$ROOT/target/vm-tests/vagrant-$M
cd "$ROOT"
# vagrant's progress bars are dropped when the output is not a terminal.
vg() {
	if [ -t 1 ]; then
		vagrant "$@"
	else
		vagrant "$@" | vmt_strip_vagrant_progress
	fi
}
t_up=$(vmt_now_ms)
if vagrant status "$M" 2>/dev/null | grep -q "^$M *running"; then
	vg rsync "$M"
	t_prov=$(vmt_now_ms)
	vg provision "$M" --provision-with build,suite
else
	# Boot and provisioning apart, so each has its own time.
	vg up "$M" --no-provision ${VMT_VAGRANT_PROVIDER:+--provider "$VMT_VAGRANT_PROVIDER"}
	t_prov=$(vmt_now_ms)
	vg provision "$M"
fi
t_fetch=$(vmt_now_ms)
rm -rf "$OUT"
mkdir -p "$OUT"
# The results sit in the guest; a tar stream over `vagrant ssh` works with every provider.
vagrant ssh "$M" -c "sudo tar -C /var/tmp/vmt-results/$M -cf - ." | tar -C "$OUT" -xf -
t_end=$(vmt_now_ms)
printf 'up_s=%s\nprovision_s=%s\nfetch_s=%s\n' "$(vmt_secs "$t_up" "$t_prov")" "$(vmt_secs "$t_prov" "$t_fetch")" \
	"$(vmt_secs "$t_fetch" "$t_end")" >"$OUT/vagrant.times"
rc=$(cat "$OUT/rc" 2>/dev/null || echo 125)
echo "vagrant $M: suite rc=$rc; results in $OUT ($(tr '\n' ' ' <"$OUT/vagrant.times"))"
exit "$rc"
