#!/bin/bash
# vm-tests/vagrant/setup.sh (`make vagrant-setup`, run by `make vagrant-test`): the host packages
# of the offline Vagrant test, without recommends (with them, vagrant-libvirt alone pulls
# libguestfs, a second kernel and an NFS server: ~290 packages instead of ~90). Idempotent: an
# installed package is skipped, so a set-up host needs no network. Kept out of scripts/setup.sh
# so that `make demo` does not pull vagrant's Ruby stack; CI's vagrant stage runs this first.
#   vagrant vagrant-libvirt   Vagrant 2.3 and its libvirt provider (0.11)
#   libvirt-daemon libvirt-daemon-driver-qemu   libvirtd with the qemu driver (no -system
#                             package: its init scripts, polkit and default network are not
#                             wanted; vm-tests/vagrant/test.sh starts a private libvirtd)
#   libvirt-clients           virsh (the test tears the network and pool down with it)
#   dnsmasq-base              DHCP on the management network
#   qemu-system-x86 qemu-utils   the emulator; qemu-img for the box
#   rsync                     the synced folder; debootstrap e2fsprogs: the box's image
set -euo pipefail
"$(dirname "$0")/../../scripts/apt-install.sh" vagrant vagrant-libvirt libvirt-daemon \
  libvirt-daemon-driver-qemu libvirt-clients dnsmasq-base qemu-system-x86 qemu-utils rsync \
  debootstrap e2fsprogs iproute2
echo "vagrant-setup: ok"
