#!/bin/bash
# The mutation gate: a fixed handful of mutants of runc, each against the few scenarios that
# must kill it (`oci-conform mutate --first-kill` with a narrow filter). It fails when one of
# them survives, i.e. when a change blunted the assertion that catches that broken promise.
# The full campaign (docs/conformance.md, "mutate") is too slow for every CI run.
# Usage: scripts/mutate-ci.sh [REFERENCE_RUNTIME]   (default /usr/sbin/runc; its file name is
#        the runtime name whose expectations apply, so CI's target/release/ferrun is "ferrun")
set -euo pipefail
cd "$(dirname "$0")/.."
REF=${1:-/usr/sbin/runc}
NAME=$(basename "$REF")
BIN=${OCI_CONFORM:-target/release/oci-conform}
OUT=$(mktemp -d /tmp/oci-conform-mutate-ci.XXXXXX)
WORK=$(mktemp -d /dev/shm/oci-conform-mutate-ci.XXXXXX 2>/dev/null || mktemp -d /tmp/oci-conform-mutate-ci-work.XXXXXX)
chmod 0755 "$OUT" "$WORK"
trap 'rm -rf "$OUT" "$WORK"' EXIT

# mutant                  filter (the scenarios that must kill it)
GATE=(
  "drop-masked-paths        id:masked.*"
  "extra-env                id:process.env-exact"
  "state-pid-lie            id:state.pid-from-state"
  "exec-ignores-user        id:exec.flags-override-process"
  "kill-ignored             id:lifecycle.kill-delivers-signal"
  "run-exit-zero            id:lifecycle.run-exit-code"
  "drop-rootfs-propagation  id:propagation.rootfs-*"
  "uid-changed              id:process.user-uid-gid"
  "seccomp-default-allow    id:seccomp.default-errno-ret"
  "hook-env-dropped         id:hooks.args-and-env"
  "drop-one-masked-path     id:masked.exec-sees-mask"
  "drop-mount-nosuid        id:mounts.tmpfs-flags"
)
survivors=()
start=$SECONDS
for entry in "${GATE[@]}"; do
  read -r mutant filter <<<"$entry"
  "$BIN" mutate --reference "$REF" --name "$NAME" --mutant "$mutant" --filter "$filter" --first-kill \
    --out "$OUT/$mutant" --work-dir "$WORK/$mutant" scenarios/ 2>"$OUT/$mutant.log" \
    | grep -E "^$mutant |^mutation score" || true
  # No mutate.json (a harness error) counts as a survivor: the gate proved nothing.
  left=$(jq -r '.survivors | length' "$OUT/$mutant/mutate.json" 2>/dev/null || echo error)
  if [ "$left" != 0 ]; then
    survivors+=("$mutant")
    tail -5 "$OUT/$mutant.log"
  fi
done
echo "mutation gate: ${#GATE[@]} mutant(s), ${#survivors[@]} survived, $((SECONDS - start)) s"
[ ${#survivors[@]} = 0 ] || { echo "mutation gate: survivors: ${survivors[*]}"; exit 1; }
