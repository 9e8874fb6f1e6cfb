#!/usr/bin/env bash
# vm-tests/vagrant/box.sh: build (or find in the cache) the ferrun/debian12-local Vagrant box
# (vm-tests/lib/vagrant-box.sh) and print its path. `make vagrant-box` runs it.
# VMT_CACHE as for vm-tests/run.sh (default target/vm-cache).
set -euo pipefail
VMT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=vm-tests/lib/common.sh
. "$VMT_ROOT/vm-tests/lib/common.sh"
# shellcheck source=vm-tests/lib/kernel.sh
. "$VMT_ROOT/vm-tests/lib/kernel.sh"
# shellcheck source=vm-tests/lib/systemd-image.sh
. "$VMT_ROOT/vm-tests/lib/systemd-image.sh"
# shellcheck source=vm-tests/lib/vagrant-box.sh
. "$VMT_ROOT/vm-tests/lib/vagrant-box.sh"
VMT_CACHE=${VMT_CACHE:-$VMT_ROOT/target/vm-cache}
t0=$(vmt_now_ms)
vmt_vagrant_box_prepare
vmt_log "box $VMT_BOX_NAME: $VMT_BOX ($(du -h "$VMT_BOX" | cut -f1), $(vmt_secs "$t0") s)"
printf '%s\n' "$VMT_BOX"
