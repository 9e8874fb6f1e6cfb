#!/usr/bin/env bash
# vm-tests/vagrant/run.sh MACHINE: `vagrant up` (or re-provision) MACHINE from the Vagrantfile,
# copy its results to target/vm-tests/vagrant-MACHINE/ and exit with the suite's status.
# Needs vagrant + a provider (VirtualBox or libvirt) and internet for the boxes.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
M=${1:?usage: vm-tests/vagrant/run.sh MACHINE (ubuntu-v2 fedora-v2 ubuntu-v1 fedora-rootless)}
OUT=$ROOT/target/vm-tests/vagrant-$M
cd "$ROOT"
if vagrant status "$M" 2>/dev/null | grep -q "^$M *running"; then
	vagrant rsync "$M"
	vagrant provision "$M" --provision-with build,suite
else
	vagrant up "$M"
fi
rm -rf "$OUT"
mkdir -p "$OUT"
# The results sit in the guest; a tar stream over `vagrant ssh` works with every provider.
vagrant ssh "$M" -c "sudo tar -C /var/tmp/vmt-results/$M -cf - ." | tar -C "$OUT" -xf -
rc=$(cat "$OUT/rc" 2>/dev/null || echo 125)
echo "vagrant $M: suite rc=$rc; results in $OUT"
exit "$rc"
