#!/usr/bin/env bash
# scripts/fuzz-ci.sh: the CI's short differential fuzz run (docs/fuzz.md). A fixed seed and a
# fixed number of configs, so every CI run generates the same configs; a time cap bounds it.
# Exits 1 on a divergence class that no `fuzz:` entry of scenarios/expectations/*.yaml
# explains (the reproducing scenario is then in $FUZZ_OUT/scenarios/fuzz/), 2 when the
# harness could not run. Needs root and the release builds (ferrun, oci-conform, oci-probe).
#
#   FUZZ_SEED (20261207)  FUZZ_COUNT (40)  FUZZ_SECS (90, the cap)  FUZZ_OUT (target/fuzz-ci)
#   RUNC (/usr/sbin/runc)  FERRUN (target/release/ferrun)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${FUZZ_OUT:-target/fuzz-ci}
exec target/release/oci-conform fuzz \
	--runtimes "runc=${RUNC:-/usr/sbin/runc},ferrun=${FERRUN:-$PWD/target/release/ferrun}" \
	--seed "${FUZZ_SEED:-20261207}" --count "${FUZZ_COUNT:-40}" --time "${FUZZ_SECS:-90}" \
	--min-budget 24 --suite-dir scenarios --out "$OUT"
