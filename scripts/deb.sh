#!/bin/bash
# `make deb`: target/deb/ferrun_<version>_amd64.deb, the version being packaging/deb/changelog's
# (upstream-revision, e.g. 0.1.0-1). It holds:
#   /usr/sbin/ferrun                              the shipped static binary, stripped
#   /usr/share/man/man8/ferrun*.8.gz              ferrun.8 and a page per command (gzip -9n)
#   /usr/share/{bash-completion,zsh,fish}/...     the completions
#   /usr/share/doc/ferrun/{copyright,changelog.Debian.gz}
#   /usr/share/lintian/overrides/ferrun           why the binary is static
# Built with dpkg-deb, not cargo-deb: dpkg-deb comes with dpkg, while cargo-deb is one more tool
# to compile from crates.io, which would rebuild ferrun its own way; the package must hold the
# Makefile's static non-PIE build (`make build`) and the generated pages (`make man`).
# oci-conform and oci-seccomp-agent stay out: they are dynamically linked test tools, useless
# without the scenario pack and the static probe of a source tree.
# Depends: none (static). Suggests: criu, which checkpoint and restore run.
set -euo pipefail
cd "$(dirname "$0")/.."
STATIC=${FERRUN_STATIC:-target/static/x86_64-unknown-linux-gnu/release/ferrun}
CHANGELOG=packaging/deb/changelog
OUT=target/deb
die() { echo "deb: $*" >&2; exit 1; }

version=$(dpkg-parsechangelog -l "$CHANGELOG" -S Version)
maintainer=$(dpkg-parsechangelog -l "$CHANGELOG" -S Maintainer)
upstream=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
[ "${version%-*}" = "$upstream" ] \
  || die "$CHANGELOG is at $version but the workspace at $upstream: add a changelog entry"
for f in "$STATIC" target/man/man8/ferrun.8 target/completions/bash/ferrun; do
  [ -e "$f" ] || die "$f is missing (make build man)"
done

mkdir -p "$OUT"
root=$(mktemp -d "$OUT/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
umask 022
chmod 0755 "$root"

install -D -m 0755 "$STATIC" "$root/usr/sbin/ferrun"
# As dh_strip does for an executable: symbols and the .comment/.note sections go.
strip --remove-section=.comment --remove-section=.note "$root/usr/sbin/ferrun"
install -d "$root/usr/share/man/man8"
for page in target/man/man8/ferrun.8 target/man/man8/ferrun-*.8; do
  gzip -9n <"$page" >"$root/usr/share/man/man8/${page##*/}.gz"
done
make --no-print-directory install-completions DESTDIR="$root" PREFIX=/usr PROGRAMS=ferrun >/dev/null
doc=$root/usr/share/doc/ferrun
install -D -m 0644 packaging/deb/copyright "$doc/copyright"
gzip -9n <"$CHANGELOG" >"$doc/changelog.Debian.gz"
install -D -m 0644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/ferrun"

# The static libraries inside the binary, by source package (Debian policy 7.8): their
# licenses ask that their source stays available with it.
built_using=$(dpkg-query -W -f='${source:Package} (= ${source:Version})\n' libc6-dev libseccomp-dev \
  | paste -sd, - | sed 's/,/, /g')
installed_size=$(du -sk --apparent-size "$root/usr" | cut -f1)
install -d -m 0755 "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<EOF
Package: ferrun
Version: $version
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $installed_size
Built-Using: $built_using
Suggests: criu
Section: admin
Priority: optional
Description: runc-compatible OCI container runtime
 ferrun creates and runs containers from OCI bundles as the OCI runtime
 specification describes. Its commands, flags, exit codes, state JSON and
 on-disk conventions follow runc, so podman, containerd and scripts can use
 it in runc's place (for example podman --runtime /usr/sbin/ferrun).
 .
 This package holds one static executable (the GNU C Library and libseccomp
 linked in), its man pages and its bash, zsh and fish completions.
 Checkpoint and restore need criu.
EOF
(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

deb=$OUT/ferrun_${version}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "deb: $deb ($(du -k "$deb" | cut -f1) KiB, Installed-Size $installed_size KiB)"
