# vm-tests make targets; the root Makefile includes this file (`include vm-tests/vm.mk`).
#
#   make vm-test                  cgroup-v2 profile (build first, unless VMT_NO_BUILD=1)
#   make vm-test-all              every profile, one VM each, then a summary
#   make vm-matrix                vm-test-all, then docs/matrix-vm.md (every profile side by side)
#   make vm-test-PROFILE          one profile: cgroup-v2 cgroup-v1 apparmor rootless systemd selinux
#   make vm-ci                    what .ci/run runs: cgroup-v2 + oci-conform gate
#   make vm-selftest              proves the harness can fail (lying runtime, timeout)
#   make vm-lint                  shellcheck of every vm-tests script
#   make vagrant-box              the offline Vagrant box (ferrun/debian12-local), cached
#   make vagrant-test             that box booted by Vagrant (libvirt, TCG) offline, the suite
#                                 in it, reports in target/vm-tests/vagrant-debian12-local/
#   make vagrant-setup            the host packages vagrant-test needs (run by vagrant-test)
# Results land in target/vm-tests/<profile>/; see docs/vm-tests.md.

VMT_PROFILES ?= cgroup-v2 cgroup-v1 apparmor rootless systemd selinux
VMT_TRIPLE ?= x86_64-unknown-linux-gnu
# The whole pack takes 7-10 min per profile under TCG on 2 cores; the timeout leaves room for a
# loaded machine.
VMT_TIMEOUT ?= 1800
VMT_RUN := vm-tests/run.sh --timeout $(VMT_TIMEOUT)

.PHONY: vm-build vm-test vm-test-all vm-matrix vm-ci vm-selftest vm-lint $(addprefix vm-test-,$(VMT_PROFILES)) \
	vagrant-setup vagrant-box vagrant-test

# ferrun and oci-conform: release builds (run.sh copies their ldd libs into the guest); under
# TCG a debug ferrun makes the pack several times slower. oci-probe goes into container images
# without libc, so it is built static exactly as conformance/probe/README.md says.
# VMT_NO_BUILD=1 uses whatever is newest in target/.
vm-build:
ifneq ($(VMT_NO_BUILD),1)
	cargo build --release -p ferrun -p oci-conform
	RUSTFLAGS="-C target-feature=+crt-static" cargo build -p oci-probe --release --target $(VMT_TRIPLE)
endif

vm-test: vm-test-cgroup-v2

$(addprefix vm-test-,$(VMT_PROFILES)): vm-test-%: vm-build
	$(VMT_RUN) $*

# Every profile even when one fails; the exit status is the worst one.
vm-test-all: vm-build
	@rc=0; for p in $(VMT_PROFILES); do $(VMT_RUN) $$p || rc=1; done; \
	for p in $(VMT_PROFILES); do printf '%-10s ' $$p; cat target/vm-tests/$$p/vm.summary 2>/dev/null || echo '(no result)'; done; \
	exit $$rc

# Failed profiles are still in the matrix (with their rc); the exit status is vm-test-all's.
vm-matrix: vm-build
	@rc=0; $(MAKE) --no-print-directory vm-test-all VMT_NO_BUILD=1 || rc=$$?; \
	vm-tests/matrix.sh || rc=1; exit $$rc

vm-ci: vm-build
	vm-tests/ci.sh

vm-selftest:
	vm-tests/selftest.sh

vagrant-setup:
	vm-tests/vagrant/setup.sh

vagrant-box: vagrant-setup
	vm-tests/vagrant/box.sh

# The guest gets the shipped static ferrun: the root Makefile's `build` makes it (skipped, like
# vm-build, with VMT_NO_BUILD=1).
vagrant-test: vagrant-setup $(if $(filter 1,$(VMT_NO_BUILD)),,build) vm-build
	vm-tests/vagrant/test.sh

vm-lint:
	shellcheck vm-tests/run.sh vm-tests/ci.sh vm-tests/matrix.sh vm-tests/selftest.sh vm-tests/lib/*.sh vm-tests/profiles/*.sh vm-tests/vagrant/*.sh
	shellcheck -s sh vm-tests/guest/suite.sh vm-tests/guest/init vm-tests/guest/lib/*.sh vm-tests/guest/container/*.sh \
		vm-tests/selftest/* vm-tests/systemd/vmt-runner
