#!/bin/bash
# apt-install.sh PKG...: install whichever of Debian's packages PKG... are missing, without
# recommends. Idempotent: when all are installed it touches neither apt nor the network, so a
# set-up host runs it offline. Used by scripts/setup.sh, vm-tests/vagrant/setup.sh and
# scripts/runc-bats.sh.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "apt-install: ${missing[*]}" >&2
apt-get -o DPkg::Lock::Timeout=600 update -q
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
