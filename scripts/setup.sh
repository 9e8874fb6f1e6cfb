#!/bin/bash
# Install everything ferrun's build, demo and tests need on a fresh Debian 12 machine.
# Idempotent (scripts/apt-install.sh skips installed packages). debootstrap and e2fsprogs
# build the systemd VM profile's image (vm-tests/lib/systemd-image.sh), which CI boots.
# docker.io is for scripts/clients/docker.sh, which starts a private dockerd of its own;
# chromium renders `oci-conform matrix --html` in conformance/tests/html_chromium.rs.
set -euo pipefail
PKGS=(build-essential pkg-config libseccomp-dev busybox-static runc crun jq
      podman containerd golang-github-opencontainers-specs-dev qemu-system-x86 uidmap xz-utils
      python3 strace criu iptables debootstrap e2fsprogs docker.io chromium
      # zsh, fish: the completion tests of tools/docgen; man-db, lintian: scripts/deb-test.sh
      zsh fish man-db lintian)
"$(dirname "$0")/apt-install.sh" "${PKGS[@]}"
command -v cargo >/dev/null || { echo "setup: cargo (Rust toolchain) is required" >&2; exit 1; }
# The static target for oci-probe is the host's gnu target with crt-static: nothing to download.
echo "setup: ok"
