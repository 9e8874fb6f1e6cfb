#!/bin/bash
# Vagrant provisioning, deliberately thin: the tests themselves are vm-tests/guest/suite.sh,
# the same script the qemu path runs. Runs as root in the guest; the tree is at /vagrant.
#   provision.sh deps                  build dependencies, runc, busybox-static, Rust (rustup)
#   provision.sh build                 make -f vm-tests/vm.mk vm-build (ferrun, oci-conform,
#                                      static oci-probe)
#   provision.sh cgroup-v1             kernel flags for the legacy hierarchy (reboot follows)
#   provision.sh suite [--label L] [--rootless] [--expect-cgroup v1|v2] [--bin-dir DIR]
#                                      run the suite; results in /var/tmp/vmt-results/L
#                                      (vm-tests/vagrant/run.sh copies them to the host);
#                                      --bin-dir: prebuilt binaries (ferrun, oci-conform,
#                                      oci-probe) found there first, as /opt/vmt/bin in the
#                                      qemu guests; VMT_SUITE_ARGS etc. pass through
set -euo pipefail
SRC=/vagrant
RESULTS=/var/tmp/vmt-results
ROOTLESS_USER=vmt-rootless

deps() {
	if command -v apt-get >/dev/null; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		apt-get install -y -q --no-install-recommends build-essential pkg-config libseccomp-dev \
			runc busybox-static curl ca-certificates make
	elif command -v dnf >/dev/null; then
		dnf -y --setopt=install_weak_deps=False install gcc make glibc-static libseccomp-devel \
			runc busybox curl
	else
		echo "provision: no apt-get or dnf: unsupported box" >&2
		exit 1
	fi
	# rust-version 1.85 is newer than some distro toolchains: rustup, minimal profile.
	if [ ! -x /root/.cargo/bin/cargo ]; then
		curl -fsSL https://sh.rustup.rs | sh -s -- -y --profile minimal
	fi
}

build() {
	# shellcheck source=/dev/null
	. /root/.cargo/env
	make -C "$SRC" -f vm-tests/vm.mk vm-build
	chmod -R a+rX "$SRC/target"
}

cgroup_v1() {
	# systemd >= 256 also wants SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1; older ones ignore it.
	local flags="systemd.unified_cgroup_hierarchy=0 SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1"
	if command -v grubby >/dev/null; then
		grubby --update-kernel=ALL --args="$flags"
	else
		echo "GRUB_CMDLINE_LINUX=\"\$GRUB_CMDLINE_LINUX $flags\"" >/etc/default/grub.d/99-vmt-cgroup-v1.cfg
		update-grub
	fi
}

suite() {
	local label=vagrant rootless=0 expect="" bindir="" rc=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--label) label=$2; shift 2 ;;
		--bin-dir) bindir=$2; shift 2 ;;
		--rootless) rootless=1; shift ;;
		--expect-cgroup) expect=$2; shift 2 ;;
		*) echo "provision: unknown suite option $1" >&2; exit 2 ;;
		esac
	done
	if [ "$expect" = v1 ] && grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts; then
		echo "provision: FAIL: expected cgroup v1 after the reboot, /sys/fs/cgroup is cgroup2" >&2
		exit 1
	fi
	local out=$RESULTS/$label
	rm -rf "$out"
	mkdir -p "$out"
	local env=(VMT_OUT="$out" VMT_SRC="$SRC" VMT_PROFILE="vagrant-$label")
	[ -n "$bindir" ] && env+=(PATH="$bindir:$PATH")
	cut -d' ' -f1 /proc/uptime >"$out/guest-suite-start"
	if [ "$rootless" = 1 ]; then
		id "$ROOTLESS_USER" >/dev/null 2>&1 || useradd -m "$ROOTLESS_USER"
		chown "$ROOTLESS_USER" "$out"
		sudo -u "$ROOTLESS_USER" env "${env[@]}" sh "$SRC/vm-tests/guest/suite.sh" 2>&1 | tee "$out/suite.log" || rc=$?
	else
		# pipefail: rc is the suite's, tee's copy is the suite.log the qemu guests write too.
		env "${env[@]}" sh "$SRC/vm-tests/guest/suite.sh" 2>&1 | tee "$out/suite.log" || rc=$?
	fi
	echo "$rc" >"$out/rc"
	cut -d' ' -f1 /proc/uptime >"$out/guest-suite-end"
	echo "provision: suite rc=$rc; results in $out (vm-tests/vagrant/run.sh fetches them)"
	# The provisioner's own status stays 0 so `vagrant up` finishes and results can be fetched;
	# vm-tests/vagrant/run.sh exits with the suite's status from $out/rc.
}

case "${1:-}" in
deps) deps ;;
build) build ;;
cgroup-v1) cgroup_v1 ;;
suite) shift; suite "$@" ;;
*) echo "usage: provision.sh deps|build|cgroup-v1|suite [options]" >&2; exit 2 ;;
esac
