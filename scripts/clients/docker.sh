#!/bin/bash
# docker.sh: Docker 20.10 (Debian's docker.io) drives ferrun as an OCI runtime
# (`dockerd --add-runtime ferrun=$FERRUN`, `docker run --runtime ferrun`), and the same checks
# run with runc as the reference: run with stdout, stderr and exit code, -e/-w/-u, --ulimit,
# --memory and --pids-limit in the container's cgroup, -t, -d, exec, pause/unpause,
# update --memory, stop, kill, rm, and --read-only. Only ferrun's failures fail the script;
# runc's are reported as a warning.
# A private dockerd and containerd (state, sockets, pidfile and cgroup parent of their own,
# no bridge, no iptables) are started here and everything they made is removed on exit.
# Usage: FERRUN=target/release/ferrun [RUNC=/usr/sbin/runc] scripts/clients/docker.sh
#        (root; prints PASS/FAIL lines, a SUMMARY per runtime)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
. scripts/clients/lib.bash

[ "$(id -u)" = 0 ] || { skip "docker client test needs root"; exit 0; }
FERRUN=$(ferrun_binary)
# dockerd's built-in "runc" is whichever runc is first in PATH, and the name cannot be
# registered again: the reference is added as runc-ref with an explicit path ($RUNC).
RUNC=$(readlink -f "${RUNC:-/usr/sbin/runc}")
need_pkg dockerd docker.io
need_pkg containerd containerd

T=$(mktemp -d /tmp/ferrun-docker.XXXXXX)
CGP=ferrun-docker-$$ # the containers' cgroup parent: ours alone, so cleanup is certain
# dockerd 20.10 makes /run/docker/plugins whatever its --exec-root (a hard-coded plugin exec
# root, kept short for unix socket paths), and containerd 1.6's shims put their sockets in
# /run/containerd/s whatever containerd's state dir: removed if they were not there before
# and are empty.
track_new_dirs "$CGP" /run/docker /run/containerd
SOCK=$T/docker.sock
CSOCK=$T/containerd.sock
# dockerd 20.10 passes each runtime --root <exec-root>/runtime-runc/<containerd namespace>.
RTROOT=$T/exec/runtime-runc/moby
# The Debian client that comes with this dockerd (API 1.41), not whatever `docker` is first in
# PATH (a newer client may be installed in /usr/local/bin). DOCKER_CONFIG keeps it out of
# ~/.docker. Every call is bounded: a hung runtime must fail the script, not hang CI.
export DOCKER_CONFIG=$T/cli
D=(timeout 60 /usr/bin/docker -H "unix://$SOCK")
IMG=ferrun-bb:latest
# Unlike podman, dockerd 20.10 puts no rlimits in the spec unless asked (--ulimit, or its
# --default-ulimit): the container inherits dockerd's, so this host's missing
# CAP_SYS_RESOURCE is not in the way and no pin is needed (a run without them passes for both
# runtimes); the --ulimit check below lowers limits, which needs no capability.
R=(--network none)
CTRD_PID='' DOCKERD_PID=''

# pids_by_arg STRING: the processes whose command line holds STRING (our tempdir's paths).
pids_by_arg() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$1" && echo "${p#/proc/}"
  done
}

cleanup() {
  trap - EXIT INT TERM
  if [ -n "$DOCKERD_PID" ]; then
    local ids
    ids=$("${D[@]}" ps -aq 2>/dev/null)
    # shellcheck disable=SC2086 # a list of ids
    [ -z "$ids" ] || "${D[@]}" rm -f $ids >/dev/null 2>&1
    "${D[@]}" rmi -f "$IMG" >/dev/null 2>&1
    stop_pid "$DOCKERD_PID"
  fi
  # Containers dockerd could not remove (it hung or died): through the runtimes themselves.
  local rt id p
  for rt in "$FERRUN" "$RUNC"; do
    for id in $(timeout 10 "$rt" --root "$RTROOT" list -q 2>/dev/null); do
      timeout 10 "$rt" --root "$RTROOT" kill "$id" KILL >/dev/null 2>&1
      timeout 10 "$rt" --root "$RTROOT" delete -f "$id" >/dev/null 2>&1
    done
  done
  [ -z "$CTRD_PID" ] || stop_pid "$CTRD_PID"
  # The shims outlive containerd; they are the ones started with our socket's address.
  for p in $(pids_by_arg "$CSOCK"); do stop_pid "$p"; done
  unmount_under "$T"
  rm -rf "$T"
  remove_new_dirs
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A containerd of our own: dockerd 20.10 without --containerd uses /run/containerd/containerd.sock
# whenever that socket exists (the host's or another job's containerd) and only otherwise
# starts one; passing our own socket makes sure no one else's containerd runs our containers.
mkdir -p "$T/cli"
start_private_containerd "$T/containerd" "$CSOCK"

# dockerd: a config file of ours keeps /etc/docker/daemon.json out, and its
# deprecated-key-path (a config key, no flag, in 20.10) keeps dockerd's trust key out of
# /etc/docker/key.json; no bridge, iptables or ip_forward change on the host, and the cgroupfs
# driver (PID 1 is not systemd here).
printf '{"deprecated-key-path": "%s"}\n' "$T/key.json" > "$T/daemon.json"
dockerd --config-file "$T/daemon.json" --data-root "$T/data" --exec-root "$T/exec" \
  --pidfile "$T/docker.pid" -H "unix://$SOCK" --containerd "$CSOCK" \
  --add-runtime "ferrun=$FERRUN" --add-runtime "runc-ref=$RUNC" \
  --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
  --userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$CGP" \
  --storage-driver overlay2 > "$T/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 300); do
  [ -S "$SOCK" ] && "${D[@]}" version >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || break
  sleep 0.1
done
if "${D[@]}" version >/dev/null 2>&1; then pass "private dockerd is up ($("${D[@]}" version -f '{{.Server.Version}}'))"
else fail "dockerd did not start: $(tail -5 "$T/dockerd.log") $(tail -3 "$T/containerd/containerd.log")"; finish; fi

busybox_rootfs_tar "$T/bb.tar"
if "${D[@]}" import "$T/bb.tar" "$IMG" >/dev/null 2>"$T/err"; then pass "docker import of a busybox rootfs"
else fail "docker import: $(cat "$T/err")"; finish; fi

# status BIN ID: the runtime's own view of container ID ("" when it has none).
status() {
  timeout 10 "$1" --root "$RTROOT" state "$2" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'
}
inspect() { "${D[@]}" inspect -f "$1" "$2" 2>/dev/null; }
# cgread V1PATH V2FILE: a shell command printing the container's cgroup file (v1 or v2 host).
cgread() { echo "cat /sys/fs/cgroup/$1 2>/dev/null || cat /sys/fs/cgroup/$2"; }

# checks NAME BIN: the whole list for the docker runtime NAME whose binary is BIN.
checks() {
  local rt=$1 bin=$2 out cid start took
  local X=(--runtime "$rt" "${R[@]}")

  out=$("${D[@]}" run --rm "${X[@]}" "$IMG" sh -c 'echo hello from the container; echo err >&2' 2>"$T/err")
  check "run --rm prints the container's stdout" "hello from the container" "$out"
  if grep -qx err "$T/err"; then pass "run --rm passes the container's stderr"; else fail "stderr: $(cat "$T/err")"; fi

  "${D[@]}" run --rm "${X[@]}" "$IMG" sh -c 'exit 7' >/dev/null 2>&1
  check "run exits with the container's exit code" 7 "$?"

  # shellcheck disable=SC2016 # expanded by the container's shell
  out=$("${D[@]}" run --rm "${X[@]}" -u 65534:65534 -w /tmp -e FOO=bar "$IMG" sh -c 'echo $(id -u):$(id -g):$(pwd):$FOO' 2>"$T/err")
  check "-u, -w and -e" "65534:65534:/tmp:bar" "$out"

  out=$("${D[@]}" run --rm "${X[@]}" --memory 64m --pids-limit 50 "$IMG" sh -c \
    "$(cgread memory/memory.limit_in_bytes memory.max); $(cgread pids/pids.max pids.max)" 2>"$T/err" | tr '\n' ' ')
  check "--memory and --pids-limit reach the container's cgroup" "67108864 50 " "$out"

  # shellcheck disable=SC2016 # expanded by the container's shell
  out=$("${D[@]}" run --rm "${X[@]}" --ulimit nofile=512:1024 "$IMG" sh -c 'echo $(ulimit -Sn) $(ulimit -Hn)' 2>"$T/err")
  check "--ulimit nofile=512:1024 reaches the process" "512 1024" "$out"

  # -t without -i: the runtime makes the pty and hands its master to the shim over the
  # console socket.
  out=$("${D[@]}" run --rm -t "${X[@]}" "$IMG" sh -c 'tty' 2>"$T/err" </dev/null | tr -d '\r' | head -1)
  case "$out" in /dev/pts/*) pass "run -t gives the container a pty ($out)";; *) fail "run -t: got $(printf %q "$out"): $(cat "$T/err")";; esac

  # --read-only: docker mounts no tmpfs of its own at /tmp (unlike podman), so only the
  # kernel filesystems and /dev/shm stay writable.
  out=$("${D[@]}" run --rm --read-only "${X[@]}" "$IMG" sh -c \
    'touch /x 2>/dev/null && echo root-rw || echo root-ro; touch /tmp/x 2>/dev/null && echo tmp-rw || echo tmp-ro; touch /dev/shm/x && echo shm-rw' 2>"$T/err" | tr '\n' ' ')
  check "--read-only: / and /tmp refuse writes, /dev/shm takes them" "root-ro tmp-ro shm-rw " "$out"

  cid=$("${D[@]}" run -d "${X[@]}" --memory 64m "$IMG" sleep 300 2>"$T/err")
  if [ -z "$cid" ]; then fail "run -d: $(cat "$T/err")"; return; fi
  pass "run -d started ${cid:0:12}"
  check "docker records the runtime asked for" "$rt" "$(inspect '{{.HostConfig.Runtime}}' "$cid")"
  # The shim runs the binary_name of the runc options dockerd gave containerd (protobuf,
  # base64 in ctr's JSON): the binary's path must be in them.
  if timeout 10 ctr -a "$CSOCK" -n moby containers info "$cid" 2>"$T/err" \
    | jq -r '.Runtime.Options.value' | base64 -d 2>/dev/null | grep -qaF -- "$bin"; then
    pass "containerd's runtime options name $bin"
  else fail "containerd's runtime options do not name $bin: $(cat "$T/err")"; fi
  check "docker inspect: running" running "$(inspect '{{.State.Status}}' "$cid")"
  check "the runtime's own state: running" running "$(status "$bin" "$cid")"

  out=$("${D[@]}" exec "$cid" sh -c 'echo exec out; echo exec err >&2; exit 3' 2>"$T/err")
  check "exec exits with the process's exit code" 3 "$?"
  check "exec prints the process's stdout" "exec out" "$out"
  if grep -qx "exec err" "$T/err"; then pass "exec passes the process's stderr"; else fail "exec stderr: $(cat "$T/err")"; fi

  try "pause" "${D[@]}" pause "$cid"
  check "docker inspect after pause: paused" paused "$(inspect '{{.State.Status}}' "$cid")"
  check "the runtime's own state after pause: paused" paused "$(status "$bin" "$cid")"
  try "unpause" "${D[@]}" unpause "$cid"
  check "docker inspect after unpause: running" running "$(inspect '{{.State.Status}}' "$cid")"
  check "the runtime's own state after unpause: running" running "$(status "$bin" "$cid")"

  try "update --memory 96m" "${D[@]}" update --memory 96m "$cid"
  out=$("${D[@]}" exec "$cid" sh -c "$(cgread memory/memory.limit_in_bytes memory.max)" 2>"$T/err")
  check "update --memory reaches the container's cgroup" 100663296 "$out"

  # sleep as PID 1 ignores SIGTERM: stop waits its 2 s and then kills.
  start=$(date +%s)
  try "stop" "${D[@]}" stop -t 2 "$cid"
  took=$(( $(date +%s) - start ))
  if [ "$took" -lt 15 ]; then pass "stop finished in time ($took s)"; else fail "stop took $took s"; fi
  check "after stop: exited 137" "exited 137" "$(inspect '{{.State.Status}} {{.State.ExitCode}}' "$cid")"
  check "the runtime's state is gone after stop" "" "$(status "$bin" "$cid")"
  try "rm" "${D[@]}" rm "$cid"
  check "gone from docker ps -a" "" "$("${D[@]}" ps -aq --no-trunc -f "id=$cid" 2>/dev/null)"

  cid=$("${D[@]}" run -d "${X[@]}" "$IMG" sleep 300 2>"$T/err")
  if [ -z "$cid" ]; then fail "run -d (for kill): $(cat "$T/err")"; return; fi
  try "kill" "${D[@]}" kill "$cid"
  for _ in $(seq 50); do [ "$(inspect '{{.State.Status}}' "$cid")" = exited ] && break; sleep 0.1; done
  check "after kill: exited 137" "exited 137" "$(inspect '{{.State.Status}} {{.State.ExitCode}}' "$cid")"
  try "rm after kill" "${D[@]}" rm "$cid"

  # rm -f of a running container: docker kills it through the runtime, then deletes it.
  cid=$("${D[@]}" run -d "${X[@]}" "$IMG" sleep 300 2>"$T/err")
  if [ -z "$cid" ]; then fail "run -d (for rm -f): $(cat "$T/err")"; return; fi
  try "rm -f of a running container" "${D[@]}" rm -f "$cid"
  check "the runtime's state is gone after rm -f" "" "$(status "$bin" "$cid")"
  check "no container left in the runtime's root" "" "$(timeout 10 "$bin" --root "$RTROOT" list -q 2>/dev/null)"
}

for_runtime runc reference
checks runc-ref "$RUNC"
for_runtime ferrun gated
checks ferrun "$FERRUN"
finish
