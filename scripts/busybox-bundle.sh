#!/bin/bash
# busybox-bundle.sh DIR [ARGS...]: a bundle with a busybox-static rootfs and a config like
# `ferrun spec` (terminal off, so it runs without a tty), process.args = ARGS (default: sh -c
# a short greeting). No docker needed: the rootfs is /bin/busybox plus its applet links.
set -euo pipefail
DIR=${1:?usage: busybox-bundle.sh DIR [ARGS...]}; shift || true
FERRUN=${FERRUN:-target/release/ferrun}
mkdir -p "$DIR/rootfs/bin" "$DIR/rootfs/etc" "$DIR/rootfs/tmp" "$DIR/rootfs/root"
cp /bin/busybox "$DIR/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$DIR/rootfs/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$DIR/rootfs/etc/passwd"
printf 'root:x:0:\n' > "$DIR/rootfs/etc/group"
rm -f "$DIR/config.json"
"$FERRUN" spec --bundle "$DIR"
if [ $# -eq 0 ]; then set -- sh -c 'echo "hello from $(hostname), pid $$ in a ferrun container"'; fi
ARGS=$(printf '%s\n' "$@" | jq -R . | jq -s .)
jq --argjson a "$ARGS" '.process.terminal=false | .process.args=$a' "$DIR/config.json" > "$DIR/config.json.tmp"
mv "$DIR/config.json.tmp" "$DIR/config.json"
