# ferrun + oci-conform. `make demo` is the main job, `make test` the test job; both install
# what they need on a fresh Debian 12 machine first (scripts/setup.sh, as root).
PREFIX ?= /usr/local
CARGO ?= cargo

.PHONY: all build demo test install uninstall bench setup clean

all: build

setup:
	scripts/setup.sh

build:
	$(CARGO) build --release --workspace

demo: setup
	scripts/demo.sh

test: setup
	scripts/test.sh

install: build
	install -D -m 0755 target/release/ferrun $(DESTDIR)$(PREFIX)/sbin/ferrun
	install -D -m 0755 target/release/oci-conform $(DESTDIR)$(PREFIX)/bin/oci-conform

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/ferrun $(DESTDIR)$(PREFIX)/bin/oci-conform

bench: setup
	scripts/bench.sh

clean:
	$(CARGO) clean

-include vm-tests/vm.mk
