#!/bin/bash
# The test job: everything after scripts/setup.sh. Called by `make test` and `.ci/run`.
# Stages print a banner; any failure stops the run with a non-zero exit. The pack and the VM
# gate judge ferrun only: the reference runtimes' results are recorded and shown, and their
# flakes cannot fail the job. The last stage fails when the job left anything on the host.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { echo; echo "=== $* ==="; }
LEFTOVERS=$PWD/target/leftovers-before
scripts/leftovers.sh snapshot "$LEFTOVERS"

stage "build (release), the static probe, and lint"
cargo build --release --workspace --exclude ferrun-docgen
# oci-probe runs inside test containers: static, on the gnu target with crt-static.
RUSTFLAGS="-C target-feature=+crt-static" cargo build -p oci-probe --release --target x86_64-unknown-linux-gnu
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

stage "unit and root integration tests"
# Root tests are #[ignore]d for a plain `cargo test`; here they run, and a missing
# prerequisite (root, runc, busybox) fails them instead of skipping.
CARGO_LOG=target/ci-cargo-test.log
# The config-loading fuzz campaign (runtime/tests/config_fuzz.rs, 600 s by default) runs 30 s
# here; its 10-minute figure is in the README.
FERRUN_ROOT_TESTS=1 FERRUN_MANY_RUNS=1000 FERRUN_CONFIG_FUZZ_SECS=30 cargo test --workspace -- --include-ignored --test-threads=2 2>&1 \
  | tee "$CARGO_LOG"

stage "conformance pack: ferrun judged, runc beside it for reference"
OUT=$(mktemp -d /tmp/oci-conform-ci.XXXXXX)
chmod 0755 "$OUT"   # user-namespaced containers (uid 100000) must reach their bundles
rc=0
target/release/oci-conform run --runtime runc=/usr/sbin/runc --runtime "ferrun=$PWD/target/release/ferrun" \
  --judge ferrun --jobs 2 --report tap,junit,json,markdown --out "$OUT" scenarios/ || rc=$?
target/release/oci-conform matrix --only-diverging "$OUT/report.json" | head -60 || true
# The reports stay for the CI log's sake; the host keeps nothing of the run.
mkdir -p target/ci-pack && cp "$OUT"/report.* "$OUT"/junit.xml target/ci-pack/ 2>/dev/null || true
# The same matrix as a page for people (links reach scenarios/ from target/ci-pack).
target/release/oci-conform matrix --html target/ci-pack/matrix.html "$OUT/report.json" || true
rm -rf "$OUT"
[ "$rc" = 0 ] || { echo "conformance pack: exit $rc (1: ferrun FAILed/XPASSed, 2: ferrun ERRORed, 3: usage); reports in target/ci-pack"; exit "$rc"; }

stage "differential fuzz: a seeded run of ferrun against runc"
# The same 80 configs every run (about 40 s); a divergence no fuzz: entry of the expectation
# files explains fails CI, with its reproducing scenario in target/fuzz-ci/scenarios/fuzz/.
FUZZ_COUNT=80 scripts/fuzz-ci.sh

stage "mutation gate: mutants of ferrun that the pack must kill"
# ferrun, the judged runtime, is the reference the mutants wrap: a runc flake cannot turn this
# red, and a scenario ferrun passes is one a mutant must fail.
scripts/mutate-ci.sh "$PWD/target/release/ferrun"

if [ -d scripts/clients ]; then
  for s in scripts/clients/*.sh; do
    stage "client: $s"
    FERRUN="$PWD/target/release/ferrun" bash "$s"
  done
fi

stage "Debian package: make deb (the static ferrun), installed into a scratch root and used"
make deb
scripts/deb-test.sh

if [ -x vm-tests/ci.sh ]; then
  stage "vm-tests: cgroup-v2, rootless, cgroup-v1 (checkpoint) and systemd (driver) guests, gated against their baselines"
  vm-tests/ci.sh
fi
stage "vagrant: the offline debian12-local box booted by vagrant-libvirt (TCG), smoke + area:systemd"
# What it guards is the Vagrant path itself (box, vagrant-libvirt's boot, synced folder,
# provisioner): the scenarios are the systemd guest's selection, about 5 minutes in all
# (docs/vm-tests.md, "Vagrant"). As in the vm-tests stage, runc's smoke test proves the machine
# works and --judge ferrun keeps runc's scenario results out of the verdict. Up + suite take
# 90-250 s here; a guest not done 480 s after its boot began gave no verdict (the TCG wedge of
# docs/vm-tests.md stopped one in CI): it is examined, destroyed, and a fresh machine gets a
# second attempt. Worst case about 22 minutes, inside the hour.
vm-tests/vagrant/setup.sh
VMT_FERRUN="$PWD/target/release/ferrun" VMT_OCI_CONFORM="$PWD/target/release/oci-conform" \
  VMT_SMOKE_RUNTIMES=runc VMT_SUITE_ARGS="--filter area:systemd --judge ferrun" \
  VMT_VAGRANT_TIMEOUT=480 VMT_VAGRANT_ATTEMPTS=2 vm-tests/vagrant/test.sh

stage "nothing left behind: cgroups, mounts, state dirs, network namespaces, processes, /tmp"
scripts/leftovers.sh compare "$LEFTOVERS"
rm -rf "$LEFTOVERS"

# The closing count: every cargo test (none may be ignored: CI requests them all) and every
# scenario of the judged runtime. XFAILs are listed divergences with a reason, counted apart.
read -r t_pass t_fail t_ign < <(awk '/^test result:/ {p+=$4; f+=$6; i+=$8} END {print p+0, f+0, i+0}' "$CARGO_LOG")
read -r s_pass s_fail s_skip s_xfail < <(jq -r '[.results[] | select(.runtime == "ferrun") | .status]
  | [(map(select(. == "PASS")) | length), (map(select(. == "FAIL" or . == "ERROR" or . == "XPASS")) | length),
     (map(select(. == "SKIP" or . == "UNSUPPORTED")) | length), (map(select(. == "XFAIL")) | length)] | @tsv' target/ci-pack/report.json)
echo
echo "cargo test: $t_pass passed, $t_fail failed, $t_ign ignored"
echo "ferrun scenarios: $s_pass passed, $s_fail failed, $s_skip skipped, $s_xfail xfail"
echo "test.sh: all stages passed"
echo "total: $((t_pass + s_pass)) passed, $((t_fail + s_fail)) failed, $((t_ign + s_skip)) skipped"
