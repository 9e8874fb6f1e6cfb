#!/bin/bash
# podman-systemd.sh: podman 4 with `--cgroup-manager=systemd` drives the runtime under test,
# as on most production hosts: podman hands it `--systemd-cgroup` and a cgroupsPath
# `machine.slice:libpod:<id>`, so the container must land in the transient scope
# `libpod-<id>.scope` with the limits podman asked for. Checks run (output, exit code), run -d
# with --memory and --pids-limit (the scope's MemoryMax/TasksMax and `systemctl status`
# showing them), exec (joins the scope), stop and rm (the scope is gone, no failed unit).
# Needs systemd as PID 1 and its D-Bus: elsewhere it SKIPs. The systemd VM profile runs it in
# its guest (vm-tests/guest/suite.sh) for each runtime.
# Usage: FERRUN=target/release/ferrun scripts/clients/podman-systemd.sh   (root)
#        RUNTIME=/usr/sbin/runc scripts/clients/podman-systemd.sh     (the reference)
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/clients/lib.bash

[ "$(id -u)" = 0 ] || { skip "podman systemd test needs root"; exit 0; }
[ -d /run/systemd/system ] || { skip "podman --cgroup-manager=systemd needs systemd as PID 1 (/run/systemd/system is missing)"; exit 0; }
[ -S /run/dbus/system_bus_socket ] || { skip "podman --cgroup-manager=systemd needs the D-Bus system bus"; exit 0; }
RT=${RUNTIME:-$(ferrun_binary)}
need_pkg podman podman

T=$(mktemp -d /tmp/ferrun-podman-sd.XXXXXX)
track_new_dirs /run/ferrun
# Every podman and systemctl call is bounded: a hung runtime or D-Bus must fail the script.
P=(timeout 180 podman --root "$T/root" --runroot "$T/run" --tmpdir "$T/tmp" --runtime "$RT"
   --cgroup-manager=systemd --events-backend=file)
SC=(timeout 20 systemctl)
R=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
IMG=localhost/ferrun-bb:latest

trap podman_cleanup EXIT

# unit_prop UNIT PROP: one property as systemctl show prints it.
unit_prop() { "${SC[@]}" show -p "$2" --value -- "$1" 2>/dev/null; }

# unit_gone UNIT: systemd forgets a stopped transient scope at once; a failed one stays.
unit_gone() {
  local i
  for i in $(seq 50); do
    [ "$(unit_prop "$1" LoadState)" = not-found ] && return 0
    sleep 0.1
  done
  return 1
}

busybox_rootfs_tar "$T/bb.tar"
"${P[@]}" import "$T/bb.tar" "$IMG" >/dev/null 2>"$T/err" || { fail "podman import: $(cat "$T/err")"; finish; }
check "podman uses the runtime under test" "$RT" "$("${P[@]}" info --format '{{.Host.OCIRuntime.Path}}' 2>/dev/null)"
check "podman's cgroup manager is systemd" systemd "$("${P[@]}" info --format '{{.Host.CgroupManager}}' 2>/dev/null)"

out=$("${P[@]}" run --rm "${R[@]}" "$IMG" sh -c 'echo hello; cat /proc/self/cgroup' 2>"$T/err" | tr '\n' ' ')
check "run --rm prints the container's output" "hello 0::/ " "$out"
[ -s "$T/err" ] && echo "  (stderr: $(head -c 300 "$T/err"))"
"${P[@]}" run --rm "${R[@]}" "$IMG" sh -c 'exit 7' >/dev/null 2>&1
check "run exits with the container's exit code" 7 "$?"

cid=$("${P[@]}" run -d "${R[@]}" --memory 64m --pids-limit 50 "$IMG" sleep 300 2>"$T/err")
if [ -z "$cid" ]; then
  fail "run -d --memory 64m --pids-limit 50: $(cat "$T/err")"
  finish
fi
pass "run -d started ${cid:0:12}"
scope=libpod-$cid.scope
check "the container is running" running "$("${P[@]}" inspect --format '{{.State.Status}}' "$cid" 2>/dev/null)"
check "$scope is active" active "$(unit_prop "$scope" ActiveState)"
check "$scope has Delegate=yes" yes "$(unit_prop "$scope" Delegate)"
check "$scope is in machine.slice" machine.slice "$(unit_prop "$scope" Slice)"
check "$scope MemoryMax (podman --memory 64m)" 67108864 "$(unit_prop "$scope" MemoryMax)"
check "$scope TasksMax (podman --pids-limit 50)" 50 "$(unit_prop "$scope" TasksMax)"
pid=$("${P[@]}" inspect --format '{{.State.Pid}}' "$cid" 2>/dev/null)
check "the container's init is in the scope" "0::/machine.slice/$scope" "$(cat "/proc/$pid/cgroup" 2>/dev/null)"
cg=/sys/fs/cgroup/machine.slice/$scope
check "memory.max in the scope's cgroup" 67108864 "$(cat "$cg/memory.max" 2>/dev/null)"
check "pids.max in the scope's cgroup" 50 "$(cat "$cg/pids.max" 2>/dev/null)"
# What an operator sees: systemctl status shows the scope's limits.
"${SC[@]}" status --no-pager --lines 0 -- "$scope" >"$T/status" 2>&1
echo "--- systemctl status $scope:"
sed 's/^/  /' "$T/status"
grep -q 'Tasks: .*(limit: 50)' "$T/status" && pass "systemctl status shows the tasks limit" || fail "systemctl status shows no 'limit: 50'"
grep -Eq 'Memory: .*max: 64\.0M' "$T/status" && pass "systemctl status shows the memory limit" || fail "systemctl status shows no 'max: 64.0M'"

out=$("${P[@]}" exec "$cid" cat /proc/self/cgroup 2>"$T/err")
check "exec runs in the container's cgroup namespace root" "0::/" "$out"
"${P[@]}" exec -d "$cid" sleep 300 >/dev/null 2>"$T/err" || fail "exec -d: $(cat "$T/err")"
sleep 1
check "exec -d joined the scope (2 processes in it)" 2 "$(wc -l <"$cg/cgroup.procs" 2>/dev/null)"

start=$(date +%s)
"${P[@]}" stop -t 2 "$cid" >/dev/null 2>"$T/err" && pass "podman stop" || fail "podman stop: $(cat "$T/err")"
[ $(($(date +%s) - start)) -lt 30 ] && pass "stop finished in time" || fail "stop took $(($(date +%s) - start)) s"
check "stopped container state" exited "$("${P[@]}" inspect --format '{{.State.Status}}' "$cid" 2>/dev/null)"
unit_gone "$scope" && pass "$scope is gone after stop" || fail "$scope remains after stop: $(unit_prop "$scope" ActiveState)/$(unit_prop "$scope" Result)"
[ -d "$cg" ] && fail "$cg remains after stop" || pass "the scope's cgroup is removed"
"${P[@]}" rm "$cid" >/dev/null 2>"$T/err" && pass "podman rm" || fail "podman rm: $(cat "$T/err")"
check "no container left in podman ps -a" "" "$("${P[@]}" ps -aq 2>/dev/null)"
check "no failed libpod unit" "" "$("${SC[@]}" list-units --failed --plain --no-legend 'libpod*' 2>/dev/null)"

finish
