# ferrun + oci-conform. `make demo` is the main job, `make test` the test job; both install
# what they need on a fresh Debian 12 machine first (scripts/setup.sh, as root).
PREFIX ?= /usr/local
CARGO ?= cargo

.PHONY: all build man deb demo test install install-completions uninstall bench bench-scale bench-vm matrix-host runc-bats setup clean

all: build

setup:
	scripts/setup.sh

# ferrun ships as a static, non-PIE executable with opt-level "s" (glibc and libseccomp linked
# in) and its hot functions linked first. Peak RSS (issue 14, docs/proof.md):
# - static: no shared-library pages to map.
# - non-PIE (`-C relocation-model=static`, given to the ferrun binary only so its dependencies
#   are not rebuilt): a static-pie binary applies its ~11,500 relocations at every start, twice
#   per create/run/exec (the CVE-2019-5736 re-exec), which faults in and copies 210 KiB of
#   .data.rel.ro and reads 270 KiB of .rela.dyn each time. What it costs is ASLR of ferrun's
#   own code and data (stack, heap and mmaps stay randomised). That is acceptable for a
#   short-lived command run by root, which parses only what root gives it (config.json, the
#   command line) and talks to no network; runc's Go binary is non-PIE on many distributions.
# - runtime/hot-symbols.txt (scripts/hot-symbols.sh records it): the kernel maps text 64 KiB
#   around each fault, so RSS follows how many 64 KiB windows the executed code spans; the
#   ~1,200 functions a container's life runs, linked first, span a quarter of the text. It
#   needs lld, rustc's default linker for this target since Rust 1.90; older toolchains
#   build without the ordering. The names carry hashes that depend on the cargo profile, so
#   this build keeps its symbols (scripts/hot-symbols.sh reads them from the same build) and
#   `make install` strips the copy it installs. Its own target dir, so the workspace's
#   dynamic release build is not invalidated.
STATIC_FERRUN = target/static/x86_64-unknown-linux-gnu/release/ferrun
RUSTC_MINOR := $(shell rustc -V 2>/dev/null | sed -n 's/^rustc 1\.\([0-9]*\).*/\1/p')
ifeq ($(shell [ "$(RUSTC_MINOR)" -ge 90 ] 2>/dev/null && echo lld),lld)
ORDER_FLAGS = -C link-arg=-Wl,--symbol-ordering-file=$(CURDIR)/runtime/hot-symbols.txt \
  -C link-arg=-Wl,--no-warn-symbol-ordering
endif

build:
	$(CARGO) build --release --workspace --exclude ferrun-docgen
	CARGO_TARGET_DIR=target/static CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
	  CARGO_PROFILE_RELEASE_STRIP=false RUSTFLAGS="-C target-feature=+crt-static" \
	  LIBSECCOMP_LINK_TYPE=static LIBSECCOMP_LIB_PATH=/usr/lib/x86_64-linux-gnu \
	  $(CARGO) rustc --release -p ferrun --bin ferrun --target x86_64-unknown-linux-gnu -- \
	  -C relocation-model=static $(ORDER_FLAGS)

demo: setup
	scripts/demo.sh

test: setup
	scripts/test.sh

# Man pages (target/man/man8: ferrun.8 and ferrun-COMMAND.8; man1: oci-conform*.1) and bash,
# zsh and fish completions (target/completions/SHELL/), rendered from the clap definitions by
# tools/docgen, so they follow the command lines. The stale ones of a removed command go first.
# The generator runs in the dev profile: it only prints text, and the release profile's
# whole-program LTO would add a minute of linking to every `make build`.
man:
	rm -rf target/man target/completions
	$(CARGO) run -q -p ferrun-docgen -- target

# Where Debian's shells look: bash-completion reads $XDG_DATA_DIRS/bash-completion/completions
# (/usr/local/share and /usr/share by default); zsh's fpath has /usr/share/zsh/vendor-completions
# for packages and /usr/local/share/zsh/site-functions for local installs; fish reads
# vendor_completions.d under its own prefix and $XDG_DATA_DIRS.
MANDIR ?= $(PREFIX)/share/man
BASH_COMPLETIONS ?= $(PREFIX)/share/bash-completion/completions
ZSH_COMPLETIONS ?= $(PREFIX)/share/zsh/$(if $(filter /usr,$(PREFIX)),vendor-completions,site-functions)
FISH_COMPLETIONS ?= $(PREFIX)/share/fish/vendor_completions.d
PROGRAMS = ferrun oci-conform

install: build man
	install -D -s -m 0755 $(STATIC_FERRUN) $(DESTDIR)$(PREFIX)/sbin/ferrun
	install -D -m 0755 target/release/oci-conform $(DESTDIR)$(PREFIX)/bin/oci-conform
	install -D -m 0755 target/release/oci-seccomp-agent $(DESTDIR)$(PREFIX)/bin/oci-seccomp-agent
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man1
	install -m 0644 target/man/man8/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 target/man/man1/*.1 $(DESTDIR)$(MANDIR)/man1/
	$(MAKE) --no-print-directory install-completions

# The completions of PROGRAMS from target/completions (`make man`): `install` and the Debian
# package (scripts/deb.sh: PREFIX=/usr PROGRAMS=ferrun) both put them where this says.
install-completions:
	for p in $(PROGRAMS); do \
	  install -D -m 0644 target/completions/bash/$$p $(DESTDIR)$(BASH_COMPLETIONS)/$$p && \
	  install -D -m 0644 target/completions/zsh/_$$p $(DESTDIR)$(ZSH_COMPLETIONS)/_$$p && \
	  install -D -m 0644 target/completions/fish/$$p.fish $(DESTDIR)$(FISH_COMPLETIONS)/$$p.fish \
	  || exit 1; \
	done

# Removes what install put there: the pages by name pattern, so those of a command that no
# longer exists go too.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/ferrun $(DESTDIR)$(PREFIX)/bin/oci-conform \
	  $(DESTDIR)$(PREFIX)/bin/oci-seccomp-agent
	rm -f $(DESTDIR)$(MANDIR)/man8/ferrun.8 $(DESTDIR)$(MANDIR)/man8/ferrun-*.8 \
	  $(DESTDIR)$(MANDIR)/man1/oci-conform.1 $(DESTDIR)$(MANDIR)/man1/oci-conform-*.1
	for p in $(PROGRAMS); do \
	  rm -f $(DESTDIR)$(BASH_COMPLETIONS)/$$p $(DESTDIR)$(ZSH_COMPLETIONS)/_$$p \
	    $(DESTDIR)$(FISH_COMPLETIONS)/$$p.fish; \
	done

# target/deb/ferrun_VERSION-REVISION_amd64.deb: the static ferrun, its man pages and
# completions (scripts/deb.sh says what goes in and why dpkg-deb).
deb: build man
	scripts/deb.sh

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
