# ferrun + oci-conform. `make demo` is the main job, `make test` the test job; both install
# what they need on a fresh Debian 12 machine first (scripts/setup.sh, as root).
PREFIX ?= /usr/local
CARGO ?= cargo

.PHONY: all build demo test install uninstall bench bench-scale bench-vm matrix-host runc-bats setup clean

all: build

setup:
	scripts/setup.sh

# ferrun ships static-pie with opt-level "s" (glibc and libseccomp linked in): fewer pages to
# map, which is what keeps the runtime's peak RSS under 4 MiB (docs/proof.md). Its own target
# dir, so the workspace's dynamic release build is not invalidated.
STATIC_FERRUN = target/static/x86_64-unknown-linux-gnu/release/ferrun

build:
	$(CARGO) build --release --workspace
	CARGO_TARGET_DIR=target/static CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
	  RUSTFLAGS="-C target-feature=+crt-static" LIBSECCOMP_LINK_TYPE=static \
	  LIBSECCOMP_LIB_PATH=/usr/lib/x86_64-linux-gnu \
	  $(CARGO) build --release -p ferrun --target x86_64-unknown-linux-gnu

demo: setup
	scripts/demo.sh

test: setup
	scripts/test.sh

install: build
	install -D -m 0755 $(STATIC_FERRUN) $(DESTDIR)$(PREFIX)/sbin/ferrun
	install -D -m 0755 target/release/oci-conform $(DESTDIR)$(PREFIX)/bin/oci-conform
	install -D -m 0755 target/release/oci-seccomp-agent $(DESTDIR)$(PREFIX)/bin/oci-seccomp-agent

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/ferrun $(DESTDIR)$(PREFIX)/bin/oci-conform \
	  $(DESTDIR)$(PREFIX)/bin/oci-seccomp-agent

# ferrun beside crun, runc and the floor program: every figure of issue 14, then the scale
# checks (about 7 minutes; BENCH_ARGS=--quick for a 2-minute smoke run). bench-scale: the scale checks
# only. bench-vm: the per-container figures in the cgroup-v2 vm-tests guest (TCG: ratios).
BENCH_ARGS ?=
bench: setup build
	FERRUN=$(STATIC_FERRUN) scripts/bench.sh $(BENCH_ARGS)

bench-scale: setup build
	FERRUN=$(STATIC_FERRUN) scripts/bench.sh --scale $(BENCH_ARGS)

bench-vm: build
	FERRUN=$(STATIC_FERRUN) scripts/bench/vm.sh $(BENCH_ARGS)

# The pack on this host for runc, the shipped ferrun and crun -> docs/matrix-host.md.
matrix-host: build
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build -p oci-probe --release --target x86_64-unknown-linux-gnu
	FERRUN=$(CURDIR)/$(STATIC_FERRUN) scripts/matrix-host.sh

# runc's own bats suite (runc 1.1.5, fetched from Debian's source package at run time) on
# runc and RUNTIME side by side; FILES="events exec" narrows it. Informational: exits 0.
RUNTIME ?= target/release/ferrun
RUNC ?= /usr/sbin/runc
runc-bats:
	scripts/runc-bats.sh $(if $(FILES),--files "$(FILES)") $(RUNC) $(RUNTIME)

clean:
	$(CARGO) clean

-include vm-tests/vm.mk
