#!/bin/bash
# podman.sh: podman 4 drives ferrun as its OCI runtime (`--runtime $FERRUN`): run with output,
# exit codes, resource limits, and `run -d` + `stop` + `rm`. Private storage under a tempdir,
# removed on exit. This host lacks CAP_SYS_RESOURCE, so rlimits are pinned with --ulimit
# (podman's defaults would raise them and fail with EPERM under any runtime).
# Usage: FERRUN=target/release/ferrun scripts/clients/podman.sh   (root; prints PASS/FAIL)
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/clients/lib.bash

[ "$(id -u)" = 0 ] || { skip "podman client test needs root"; exit 0; }
FERRUN=$(ferrun_binary)
need_pkg podman podman

T=$(mktemp -d /tmp/ferrun-podman.XXXXXX)
track_new_dirs /run/ferrun libpod_parent
# Every podman call is bounded: a hung runtime must fail the script, not hang CI.
P=(timeout 180 podman --root "$T/root" --runroot "$T/run" --tmpdir "$T/tmp" --runtime "$FERRUN"
   --cgroup-manager=cgroupfs --events-backend=file)
R=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
IMG=localhost/ferrun-bb:latest

trap podman_cleanup EXIT

busybox_rootfs_tar "$T/bb.tar"
if "${P[@]}" import "$T/bb.tar" "$IMG" >/dev/null 2>"$T/err"; then pass "podman import of a busybox rootfs"
else fail "podman import: $(cat "$T/err")"; finish; fi

check "podman uses ferrun" "$FERRUN" "$("${P[@]}" info --format '{{.Host.OCIRuntime.Path}}' 2>/dev/null)"

out=$("${P[@]}" run --rm "${R[@]}" "$IMG" sh -c 'echo hello from ferrun; echo err >&2' 2>"$T/err")
check "run --rm prints the container's stdout" "hello from ferrun" "$out"
grep -qx err "$T/err" && pass "run --rm passes the container's stderr" || fail "stderr: $(cat "$T/err")"

"${P[@]}" run --rm "${R[@]}" "$IMG" sh -c 'exit 7' >/dev/null 2>&1
check "run exits with the container's exit code" 7 "$?"

out=$("${P[@]}" run --rm "${R[@]}" --memory 64m --pids-limit 50 "$IMG" sh -c \
  'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max' 2>"$T/err" | tr '\n' ' ')
check "--memory and --pids-limit reach the container's cgroup" "67108864 50 " "$out"

out=$("${P[@]}" run --rm "${R[@]}" --user 65534:65534 --workdir /tmp -e FOO=bar "$IMG" sh -c 'echo $(id -u):$(id -g):$(pwd):$FOO' 2>"$T/err")
check "--user, --workdir and -e" "65534:65534:/tmp:bar" "$out"

# -t: conmon hands ferrun a --console-socket and receives the pty master over it.
out=$("${P[@]}" run --rm -t "${R[@]}" "$IMG" sh -c 'tty; stty size' 2>"$T/err" </dev/null | tr -d '\r' | head -1)
case "$out" in /dev/pts/*) pass "run -t gives the container a pty ($out)";; *) fail "run -t: got $(printf %q "$out"): $(cat "$T/err")";; esac

cid=$("${P[@]}" run -d "${R[@]}" "$IMG" sleep 300 2>"$T/err")
if [ -n "$cid" ]; then
  pass "run -d started $cid"
  check "podman ps shows it running" "running" "$("${P[@]}" inspect --format '{{.State.Status}}' "$cid" 2>/dev/null)"
  # podman gives the runtime no --root for non-tty containers: ferrun's default root.
  st=$("$FERRUN" state "$cid" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')
  check "ferrun's state for the podman container" "running" "$st"
  start=$(date +%s)
  "${P[@]}" stop -t 2 "$cid" >/dev/null 2>"$T/err" && pass "podman stop" || fail "podman stop: $(cat "$T/err")"
  [ $(( $(date +%s) - start )) -lt 15 ] && pass "stop finished in time" || fail "stop took too long"
  check "stopped container state" "exited" "$("${P[@]}" inspect --format '{{.State.Status}}' "$cid" 2>/dev/null)"
  "${P[@]}" rm "$cid" >/dev/null 2>"$T/err" && pass "podman rm" || fail "podman rm: $(cat "$T/err")"
  check "container gone from podman ps -a" "" "$("${P[@]}" ps -aq 2>/dev/null)"
  "$FERRUN" state "$cid" >/dev/null 2>&1 && fail "ferrun still has state for $cid" || pass "ferrun state removed"
else
  fail "run -d: $(cat "$T/err")"
fi

finish
