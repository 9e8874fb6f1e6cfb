#!/bin/bash
# The main job: build ferrun and run a demo container on a busybox rootfs made here.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p ferrun
F=target/release/ferrun
B=$(mktemp -d /tmp/ferrun-demo.XXXXXX)
trap 'rm -rf "$B"' EXIT
FERRUN=$F scripts/busybox-bundle.sh "$B"
echo "== ferrun run demo"
"$F" run --bundle "$B" "demo-$$"
echo "== create / list / start / state / delete"
FERRUN=$F scripts/busybox-bundle.sh "$B" sleep 5
"$F" create --bundle "$B" "demo2-$$"
"$F" list
"$F" start "demo2-$$"
"$F" state "demo2-$$"
"$F" kill "demo2-$$" KILL
for _ in $(seq 100); do "$F" state "demo2-$$" | grep -q '"stopped"' && break; sleep 0.05; done
"$F" delete "demo2-$$"
echo "demo: ok"
