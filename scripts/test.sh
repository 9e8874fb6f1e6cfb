#!/bin/bash
# The test job: everything after scripts/setup.sh. Called by `make test` and `.ci/run`.
# Stages print a banner; any failure stops the run with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { echo; echo "=== $* ==="; }

stage "build (release), the static probe, and lint"
cargo build --release --workspace
# oci-probe runs inside test containers: static, on the gnu target with crt-static.
RUSTFLAGS="-C target-feature=+crt-static" cargo build -p oci-probe --release --target x86_64-unknown-linux-gnu
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

stage "unit and root integration tests"
FERRUN_MANY_RUNS=1000 cargo test --workspace -- --test-threads=2

stage "conformance pack: ferrun and runc side by side"
OUT=$(mktemp -d /tmp/oci-conform-ci.XXXXXX)
chmod 0755 "$OUT"   # user-namespaced containers (uid 100000) must reach their bundles
target/release/oci-conform run --runtime runc=/usr/sbin/runc --runtime "ferrun=$PWD/target/release/ferrun" \
  --jobs 2 --report tap,junit,json,markdown --out "$OUT" scenarios/
target/release/oci-conform matrix --only-diverging "$OUT/report.json" | head -60

if [ -d scripts/clients ]; then
  for s in scripts/clients/*.sh; do
    stage "client: $s"
    FERRUN="$PWD/target/release/ferrun" bash "$s"
  done
fi

if [ -x vm-tests/ci.sh ]; then
  stage "vm-tests: cgroup-v2 and rootless guests, gated against their baselines"
  vm-tests/ci.sh
fi
echo; echo "test.sh: all stages passed"
