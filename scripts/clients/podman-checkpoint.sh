#!/bin/bash
# podman-checkpoint.sh: podman 4 drives the runtime's `checkpoint` and `restore` (through
# conmon): `podman container checkpoint` of a container counting in memory, `restore` in
# place, `checkpoint --export` + `rm` + `restore --import`, then exec, stop and rm of the
# restored container. The count must go on from where it was, not start again.
# Needs a kernel that criu supports: where `criu check` fails (this repository's CI host, whose
# kernel is newer than Debian 12's criu), it SKIPs with criu's own reason. The systemd VM
# profile runs it in its guest (vm-tests/guest/suite.sh) for each runtime.
# Usage: FERRUN=target/release/ferrun scripts/clients/podman-checkpoint.sh   (root)
#        RUNTIME=/usr/sbin/runc scripts/clients/podman-checkpoint.sh     (the reference)
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/clients/lib.bash

[ "$(id -u)" = 0 ] || { skip "podman checkpoint test needs root"; exit 0; }
RT=${RUNTIME:-$(ferrun_binary)}
need_pkg podman podman
need_pkg criu criu
if ! why=$(criu check 2>&1); then
  skip "podman checkpoint: criu cannot checkpoint on this kernel ($(uname -r)): $(printf '%s\n' "$why" | grep -m2 Error | tr '\n' ' ')"
  exit 0
fi

T=$(mktemp -d /tmp/ferrun-podman-cr.XXXXXX)
track_new_dirs /run/ferrun libpod_parent
# Every podman call is bounded: a hung runtime or criu must fail the script, not hang CI.
P=(timeout 180 podman --root "$T/root" --runroot "$T/run" --tmpdir "$T/tmp" --runtime "$RT"
   --cgroup-manager=cgroupfs --events-backend=file)
R=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
IMG=localhost/ferrun-bb:latest
# The counter writes a token drawn once at its start with its count: a restore that restarted
# the process instead of continuing it shows a new token, whatever the timing.
COUNTER='t=$RANDOM$RANDOM; i=0; while :; do i=$((i+1)); echo "$t $i" >/tmp/count; sleep 0.2; done'

trap podman_cleanup EXIT

count() { "${P[@]}" exec "$1" cat /tmp/count 2>>"$T/exec.err"; }

# went_on BEFORE AFTER: both read, the same token (the same process), a higher count.
went_on() {
  [ -n "$1" ] && [ -n "$2" ] && [ "${1% *}" = "${2% *}" ] && [ "${2#* }" -gt "${1#* }" ]
}

# criu_log NAME: criu's first error with the lines that led to it, and its last errors, from
# the newest NAME (dump.log, restore.log) podman kept: the runtime's message only names the file.
criu_log() {
  local f
  f=$(find "$T/root" -name "$1" -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -1 | cut -d' ' -f2-)
  [ -n "$f" ] || return 0
  grep -m1 -B10 'Error' "$f"
  echo ...
  grep 'Error' "$f" | tail -4
}

# ckpt_roundtrip CID: checkpoint, check it stopped, restore, check the count went on.
ckpt_roundtrip() {
  local cid=$1 before after
  before=$(count "$cid")
  "${P[@]}" container checkpoint "$cid" >/dev/null 2>"$T/err" \
    && pass "podman container checkpoint ($(basename "$RT"))" || { fail "checkpoint: $(cat "$T/err") $(criu_log dump.log)"; return 1; }
  check "checkpointed container is exited" exited "$("${P[@]}" inspect --format '{{.State.Status}}' "$cid" 2>/dev/null)"
  "${P[@]}" container restore "$cid" >/dev/null 2>"$T/err" \
    && pass "podman container restore" || { fail "restore: $(cat "$T/err") $(criu_log restore.log)"; return 1; }
  check "restored container is running" running "$("${P[@]}" inspect --format '{{.State.Status}}' "$cid" 2>/dev/null)"
  sleep 1
  after=$(count "$cid")
  if went_on "$before" "$after"; then
    pass "the count went on after restore ($before -> $after)"
  else
    fail "the count after restore: before='$before' after='$after' (token and count; expected the same token, a higher count) $(cat "$T/exec.err")"
  fi
}

busybox_rootfs_tar "$T/bb.tar"
"${P[@]}" import "$T/bb.tar" "$IMG" >/dev/null 2>"$T/err" || { fail "podman import: $(cat "$T/err")"; finish; }
check "podman uses the runtime under test" "$RT" "$("${P[@]}" info --format '{{.Host.OCIRuntime.Path}}' 2>/dev/null)"

cid=$("${P[@]}" run -d "${R[@]}" "$IMG" sh -c "$COUNTER" 2>"$T/err") || { fail "run -d: $(cat "$T/err")"; finish; }
sleep 2
ckpt_roundtrip "$cid"

# Export to a tarball, remove the container, restore it from the tarball.
before=$(count "$cid")
if "${P[@]}" container checkpoint --export "$T/cp.tar.gz" "$cid" >/dev/null 2>"$T/err"; then
  pass "checkpoint --export"
  "${P[@]}" rm -f "$cid" >/dev/null 2>&1
  if new=$("${P[@]}" container restore --import "$T/cp.tar.gz" 2>"$T/err"); then
    pass "restore --import of a removed container"
    sleep 1
    after=$(count "$new")
    went_on "$before" "$after" \
      && pass "the imported container counts on ($before -> $after)" \
      || fail "imported container's count: before='$before' after='$after' $(cat "$T/exec.err")"
    "${P[@]}" stop -t 2 "$new" >/dev/null 2>"$T/err" && pass "stop of the restored container" || fail "stop: $(cat "$T/err")"
    "${P[@]}" rm "$new" >/dev/null 2>"$T/err" && pass "rm of the restored container" || fail "rm: $(cat "$T/err")"
  else
    fail "restore --import: $(cat "$T/err")"
  fi
else
  fail "checkpoint --export: $(cat "$T/err")"
fi
check "no container left in podman ps -a" "" "$("${P[@]}" ps -aq 2>/dev/null)"

finish
