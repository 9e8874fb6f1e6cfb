# vm-tests make targets; the root Makefile includes this file (`include vm-tests/vm.mk`).
#
#   make vm-test                  cgroup-v2 profile (build first, unless VMT_NO_BUILD=1)
#   make vm-test-all              every profile, one VM each, then a summary
#   make vm-test-PROFILE          one profile: cgroup-v2 cgroup-v1 apparmor rootless systemd
#   make vm-ci                    what .ci/run runs: cgroup-v2 + oci-conform gate
#   make vm-selftest              proves the harness can fail (lying runtime, timeout)
#   make vm-lint                  shellcheck of every vm-tests script
# Results land in target/vm-tests/<profile>/; see docs/vm-tests.md.

VMT_PROFILES ?= cgroup-v2 cgroup-v1 apparmor rootless systemd
VMT_TRIPLE ?= x86_64-unknown-linux-gnu
VMT_RUN := vm-tests/run.sh

.PHONY: vm-build vm-test vm-test-all vm-ci vm-selftest vm-lint $(addprefix vm-test-,$(VMT_PROFILES))

# ferrun and oci-conform: the ordinary incremental dev build (run.sh copies their ldd libs
# into the guest). oci-probe goes into container images without libc, so it is built static
# exactly as conformance/probe/README.md says. VMT_NO_BUILD=1 uses whatever is in target/.
vm-build:
ifneq ($(VMT_NO_BUILD),1)
	cargo build -p ferrun -p oci-conform
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

vm-ci: vm-build
	vm-tests/ci.sh

vm-selftest:
	vm-tests/selftest.sh

vm-lint:
	shellcheck vm-tests/run.sh vm-tests/ci.sh vm-tests/selftest.sh vm-tests/lib/*.sh vm-tests/profiles/*.sh vm-tests/vagrant/*.sh
	shellcheck -s sh vm-tests/guest/suite.sh vm-tests/guest/init vm-tests/guest/lib/*.sh vm-tests/guest/container/*.sh \
		vm-tests/selftest/* vm-tests/systemd/vmt-runner
