#!/bin/bash
# The test job: everything after scripts/setup.sh. Called by `make test` and `.ci/run`.
# Stages print a banner; any failure stops the run with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { echo; echo "=== $* ==="; }

stage "build (release) and lint"
cargo build --release --workspace
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

stage "unit and root integration tests"
cargo test --workspace -- --test-threads=2

if [ -d scripts/clients ]; then
  for s in scripts/clients/*.sh; do
    stage "client: $s"
    FERRUN="$PWD/target/release/ferrun" bash "$s"
  done
fi

if [ -x vm-tests/ci.sh ]; then
  stage "vm-tests: cgroup v2 guest"
  vm-tests/ci.sh
fi
echo; echo "test.sh: all stages passed"
