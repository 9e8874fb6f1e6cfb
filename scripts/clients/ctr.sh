#!/bin/bash
# ctr.sh: containerd 1.6 drives ferrun through its runc shim
# (`ctr run --runtime io.containerd.runc.v2 --runc-binary $FERRUN`): run with output, exit
# codes, and a detached task killed and deleted. A private containerd (root, state and socket
# under a tempdir, CRI disabled) is started and stopped here; the image is the busybox rootfs
# turned into an OCI archive by podman (private storage too).
# Usage: FERRUN=target/release/ferrun scripts/clients/ctr.sh   (root; prints PASS/FAIL)
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/clients/lib.bash

[ "$(id -u)" = 0 ] || { skip "containerd client test needs root"; exit 0; }
FERRUN=$(ferrun_binary)
need_pkg containerd containerd
need_pkg podman podman

T=$(mktemp -d /tmp/ferrun-ctr.XXXXXX)
NS=ferrun-proof-$$
track_new_dirs /run/ferrun libpod_parent "$NS"
SOCK=$T/containerd.sock
C=(timeout 120 ctr -a "$SOCK" -n "$NS")   # bounded: a hung runtime fails, not hangs
RUN=(--runtime io.containerd.runc.v2 --runc-binary "$FERRUN")
P=(timeout 180 podman --root "$T/podman/root" --runroot "$T/podman/run" --tmpdir "$T/podman/tmp"
   --cgroup-manager=cgroupfs --events-backend=file)
IMG=localhost/ferrun-bb:latest
CTRD_PID=

cleanup() {
  if [ -n "$CTRD_PID" ]; then
    for t in $("${C[@]}" task ls -q 2>/dev/null); do
      "${C[@]}" task kill -s SIGKILL "$t" >/dev/null 2>&1
      "${C[@]}" task delete -f "$t" >/dev/null 2>&1
    done
    for c in $("${C[@]}" containers ls -q 2>/dev/null); do "${C[@]}" containers rm "$c" >/dev/null 2>&1; done
    stop_pid "$CTRD_PID"
  fi
  "${P[@]}" rmi -af >/dev/null 2>&1
  unmount_under "$T"
  rm -rf "$T" "/run/containerd/runc/$NS"
  remove_new_dirs
}
trap cleanup EXIT

start_private_containerd "$T" "$SOCK"
for _ in $(seq 100); do [ -S "$SOCK" ] && "${C[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
if "${C[@]}" version >/dev/null 2>&1; then pass "private containerd is up"
else fail "containerd did not start: $(tail -5 "$T/containerd.log")"; finish; fi

busybox_rootfs_tar "$T/bb.tar"
"${P[@]}" import "$T/bb.tar" "$IMG" >/dev/null 2>"$T/err" \
  && "${P[@]}" save --format oci-archive -o "$T/bb-oci.tar" "$IMG" >/dev/null 2>>"$T/err" \
  || { fail "building the OCI archive with podman: $(cat "$T/err")"; finish; }
if "${C[@]}" images import --all-platforms "$T/bb-oci.tar" >/dev/null 2>"$T/err"; then
  pass "ctr images import of the OCI archive"
else fail "ctr images import: $(cat "$T/err")"; finish; fi
"${C[@]}" images ls -q | grep -qx "$IMG" && pass "image $IMG listed" || fail "image not listed: $("${C[@]}" images ls -q)"

out=$("${C[@]}" run --rm "${RUN[@]}" "$IMG" t-echo sh -c 'echo hello from ferrun; echo err >&2' 2>"$T/err")
check "ctr run --rm prints the container's stdout" "hello from ferrun" "$out"
grep -qx err "$T/err" && pass "ctr run passes the container's stderr" || fail "stderr: $(cat "$T/err")"

"${C[@]}" run --rm "${RUN[@]}" "$IMG" t-exit sh -c 'exit 7' >/dev/null 2>&1
check "ctr run exits with the container's exit code" 7 "$?"

out=$("${C[@]}" run --rm "${RUN[@]}" --env FOO=bar --cwd /tmp "$IMG" t-env sh -c 'echo $FOO:$(pwd):$(id -u)' 2>"$T/err")
check "--env, --cwd reach the process" "bar:/tmp:0" "$out"

if "${C[@]}" run -d "${RUN[@]}" "$IMG" t-bg sleep 300 >/dev/null 2>"$T/err"; then
  pass "ctr run -d"
  st=$("${C[@]}" task ls 2>/dev/null | awk '$1 == "t-bg" {print $3}')
  check "task is RUNNING" RUNNING "$st"
  # The shim passes --root /run/containerd/runc/<namespace> to the runtime.
  st=$("$FERRUN" --root "/run/containerd/runc/$NS" state t-bg 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')
  check "ferrun's state for the task" running "$st"
  "${C[@]}" task kill -s SIGKILL t-bg >/dev/null 2>"$T/err" && pass "ctr task kill" || fail "task kill: $(cat "$T/err")"
  for _ in $(seq 100); do
    st=$("${C[@]}" task ls 2>/dev/null | awk '$1 == "t-bg" {print $3}'); [ "$st" = STOPPED ] && break; sleep 0.1
  done
  check "task is STOPPED after kill" STOPPED "$st"
  "${C[@]}" task delete t-bg >/dev/null 2>"$T/err" && pass "ctr task delete" || fail "task delete: $(cat "$T/err")"
  "${C[@]}" containers rm t-bg >/dev/null 2>"$T/err" && pass "ctr containers rm" || fail "containers rm: $(cat "$T/err")"
  [ -e "/run/containerd/runc/$NS/t-bg" ] && fail "ferrun state left for t-bg" || pass "ferrun state removed"
else
  fail "ctr run -d: $(cat "$T/err")"
fi

finish
