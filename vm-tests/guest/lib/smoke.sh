# The smoke test: a handful of real assertions run through a runc-compatible runtime, so the
# VM machinery is proven (and a runtime sanity-checked) even without oci-conform. POSIX sh.
# Each check_* sets MSG and returns 0 pass, 1 fail, 2 skip; smoke_runtime records them.
# Needs: results.sh, bundle.sh, watchdog.sh, WORK, CGROUP_MODE, ROOTLESS, REQUIRE_APPARMOR.

RES_LIMITS='{"memory":{"limit":67108864},"pids":{"limit":32},"cpu":{"quota":50000,"period":100000}}'

# RT_FLAGS: extra global flags (--systemd-cgroup), one word, empty for most checks.
RT_FLAGS=""
# A foreground `run` forwards timeout's SIGTERM to the container's PID 1, which ignores it
# (no handler), so without -k a hung container outlives the timeout. KILL after 10 more
# seconds bounds every runtime command to 130 s; watchdog.sh bounds a whole check.
# shellcheck disable=SC2086 # RT_FLAGS is zero or one word
rt() { timeout -k 10 120 "$RT_BIN" --root "$RT_ROOT" $RT_FLAGS "$@"; }

# rt_field ID KEY: a scalar from `RUNTIME state ID` (status, pid); empty when state fails.
rt_field() {
	rt state "$1" 2>/dev/null | tr -d '\n ' | sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p"
}

# wait_status ID WANT SECONDS
wait_status() {
	_n=0
	while [ "$_n" -lt $(($3 * 5)) ]; do
		[ "$(rt_field "$1" status)" = "$2" ] && return 0
		sleep 0.2 2>/dev/null || sleep 1
		_n=$((_n + 1))
	done
	return 1
}

# run_container ID: `RUNTIME run` of $BUNDLE; stdout in $WORK/ID.out, status in RUN_RC.
run_container() {
	track "$1"
	RUN_RC=0
	rt run --bundle "$BUNDLE" "$1" >"$WORK/$1.out" 2>"$WORK/$1.err" </dev/null || RUN_RC=$?
	RUN_OUT=$(cat "$WORK/$1.out")
}

# expect_out ID EXPECTED: the container's stdout must equal EXPECTED exactly.
expect_out() {
	[ "$RUN_OUT" = "$2" ] && return 0
	MSG="$1: stdout [$RUN_OUT] != expected [$2]; rc=$RUN_RC; stderr: $(head -c 300 "$WORK/$1.err")"
	return 1
}

cgroup_dir() { # cgroup_dir CONTROLLER ID: where the VM sees the container's cgroup
	if [ "$CGROUP_MODE" = v2 ]; then echo "/sys/fs/cgroup/$CG_PARENT/$2"; else echo "/sys/fs/cgroup/$1/$CG_PARENT/$2"; fi
}

check_exit_status() {
	_id=vmt-$RT_NAME-exit-$$
	make_bundle "$_id" exit7.sh
	run_container "$_id"
	[ "$RUN_RC" = 7 ] && return 0
	MSG="run exited $RUN_RC, the container exited 7; stderr: $(head -c 300 "$WORK/$_id.err")"
	return 1
}

check_lifecycle() {
	_id=vmt-$RT_NAME-life-$$ _res=""
	[ "$ROOTLESS" = 1 ] || _res='{"pids":{"limit":32}}'
	make_bundle "$_id" sleep.sh "$_res"
	_cg=""
	[ -n "$_res" ] && _cg=$(cgroup_dir pids "$_id")
	lifecycle "$_id" "$_cg"
}

# lifecycle ID CGROUP_DIR: create/state/start/state/kill/wait/delete/state of $BUNDLE; when
# CGROUP_DIR is set, the runtime must have put the container there with pids.max = 32 and
# removed it on delete.
lifecycle() {
	track "$1"
	rt create --bundle "$BUNDLE" "$1" >"$WORK/$1.out" 2>"$WORK/$1.err" </dev/null ||
		{ MSG="create failed: $(head -c 300 "$WORK/$1.err")"; return 1; }
	_st=$(rt_field "$1" status)
	[ "$_st" = created ] || { MSG="state after create: '$_st', want created"; return 1; }
	rt start "$1" || { MSG="start failed"; return 1; }
	wait_status "$1" running 10 || { MSG="not running 10s after start"; return 1; }
	_pid=$(rt_field "$1" pid)
	if [ -n "$2" ]; then
		_max=$(cat "$2/pids.max" 2>&1)
		[ "$_max" = 32 ] || { MSG="$2/pids.max = '$_max', want 32"; return 1; }
		grep -qx "$_pid" "$2/cgroup.procs" || { MSG="state pid $_pid not in $2/cgroup.procs"; return 1; }
	fi
	rt kill "$1" KILL || { MSG="kill KILL failed"; return 1; }
	wait_status "$1" stopped 10 || { MSG="not stopped 10s after kill KILL"; return 1; }
	rt delete "$1" || { MSG="delete failed"; return 1; }
	rt state "$1" >/dev/null 2>&1 && { MSG="state still succeeds after delete"; return 1; }
	if [ -n "$2" ] && [ -d "$2" ]; then
		MSG="cgroup $2 left behind after delete"
		return 1
	fi
	return 0
}

# The systemd cgroup driver: cgroupsPath "slice:prefix:name" becomes the transient unit
# prefix-name.scope in that slice (runc's libcontainer/cgroups/systemd convention).
check_systemd_cgroup() {
	if [ ! -d /run/systemd/system ]; then
		MSG="PID 1 is not systemd"
		[ "$VMT_PROFILE" = systemd ] && return 1
		return 2
	fi
	need_cgroup_root && return 2
	[ "$CGROUP_MODE" = v2 ] || { MSG="only written for cgroup v2 (this is $CGROUP_MODE)"; return 2; }
	_id=vmt-$RT_NAME-sd-$$
	make_bundle "$_id" sleep.sh '{"pids":{"limit":32}}' "" "system.slice:vmt:$_id"
	RT_FLAGS=--systemd-cgroup
	_rc=0
	lifecycle "$_id" "/sys/fs/cgroup/system.slice/vmt-$_id.scope" || _rc=$?
	RT_FLAGS=""
	return "$_rc"
}

need_cgroup_root() {
	[ "$ROOTLESS" = 1 ] || return 1
	MSG="rootless: the cgroupfs driver has no delegated cgroup to limit"
	return 0
}

check_cgroup_limits() {
	need_cgroup_root && return 2
	_id=vmt-$RT_NAME-limits-$$
	make_bundle "$_id" limits.sh "$RES_LIMITS"
	run_container "$_id"
	if [ "$CGROUP_MODE" = v2 ]; then
		expect_out "$_id" "$(printf 'memory.max=67108864\npids.max=32\ncpu.max=50000 100000\ncgroup=0::/')"
	else
		expect_out "$_id" "$(printf 'memory.limit_in_bytes=67108864\npids.max=32\ncpu.cfs_quota_us=50000\ncpu.cfs_period_us=100000')"
	fi
}

check_pids_enforced() {
	need_cgroup_root && return 2
	_id=vmt-$RT_NAME-pids-$$
	make_bundle "$_id" pids.sh '{"pids":{"limit":8}}'
	run_container "$_id"
	_cur=$(echo "$RUN_OUT" | sed -n 's/^current=//p')
	_ev=$(echo "$RUN_OUT" | sed -n 's/^max_events=//p')
	if [ -n "$_cur" ] && [ "$_cur" -le 8 ] && [ -n "$_ev" ] && [ "$_ev" != none ] && [ "$_ev" -ge 1 ]; then
		return 0
	fi
	MSG="pids.current=$_cur (want <= 8), pids.events max=$_ev (want >= 1); rc=$RUN_RC; stderr: $(head -c 300 "$WORK/$_id.err")"
	return 1
}

check_oom_kill() {
	need_cgroup_root && return 2
	_id=vmt-$RT_NAME-oom-$$
	make_bundle "$_id" oom.sh '{"memory":{"limit":67108864}}'
	run_container "$_id"
	_dd=$(echo "$RUN_OUT" | sed -n 's/^dd=//p')
	_oom=$(echo "$RUN_OUT" | sed -n 's/^oom_kill=//p')
	if [ "$_dd" = 137 ] && [ -n "$_oom" ] && [ "$_oom" -ge 1 ]; then
		return 0
	fi
	MSG="dd status '$_dd' (want 137), oom_kill '$_oom' (want >= 1); rc=$RUN_RC; stderr: $(head -c 300 "$WORK/$_id.err")"
	return 1
}

# checkpoint_restore: runtime checkpoint of a running container, the container is gone, restore
# brings it back running under the same id. Proves criu works in this guest (what the
# checkpoint scenarios need); skipped without criu and rootless (criu needs root).
check_checkpoint_restore() {
	command -v criu >/dev/null 2>&1 || { MSG="criu is not in this guest"; return 2; }
	[ "$ROOTLESS" = 1 ] && { MSG="criu needs root"; return 2; }
	_id=vmt-$RT_NAME-ckpt-$$ _img=$WORK/ckpt-$RT_NAME-$$
	make_bundle "$_id" ckpt.sh
	track "$_id"
	rt run --detach --bundle "$BUNDLE" "$_id" >"$WORK/$_id.out" 2>"$WORK/$_id.err" </dev/null ||
		{ MSG="run --detach failed: $(head -c 300 "$WORK/$_id.err")"; return 1; }
	rt checkpoint --image-path "$_img" "$_id" >>"$WORK/$_id.out" 2>>"$WORK/$_id.err" ||
		{ MSG="checkpoint failed: $(head -c 300 "$WORK/$_id.err"); criu: $(grep -h Error "$_img"/*.log 2>/dev/null | tail -n 3)"; return 1; }
	[ -z "$(rt_field "$_id" status)" ] || { MSG="the container still exists after checkpoint"; return 1; }
	rt restore --detach --bundle "$BUNDLE" --image-path "$_img" "$_id" >>"$WORK/$_id.out" 2>>"$WORK/$_id.err" </dev/null ||
		{ MSG="restore failed: $(head -c 300 "$WORK/$_id.err"); criu: $(grep -h Error "$_img"/*.log 2>/dev/null | tail -n 3)"; return 1; }
	_st=$(rt_field "$_id" status)
	[ "$_st" = running ] || { MSG="state after restore: '$_st', want running"; return 1; }
	rt delete --force "$_id" 2>/dev/null || { MSG="delete --force of the restored container failed"; return 1; }
	return 0
}

apparmor_ready() {
	[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] &&
		grep -q '^vmt-smoke ' /sys/kernel/security/apparmor/profiles 2>/dev/null
}

check_apparmor() {
	if ! apparmor_ready; then
		MSG="AppArmor is not enabled or profile vmt-smoke is not loaded"
		[ "$REQUIRE_APPARMOR" = 1 ] && return 1
		return 2
	fi
	# Control first: without the profile the same script is unconfined and reads the file.
	_id=vmt-$RT_NAME-aa0-$$
	make_bundle "$_id" apparmor.sh
	run_container "$_id"
	expect_out "$_id" "$(printf 'label=unconfined\nsecret=readable\npublic=public')" || return 1
	_id=vmt-$RT_NAME-aa1-$$
	make_bundle "$_id" apparmor.sh "" vmt-smoke
	run_container "$_id"
	expect_out "$_id" "$(printf 'label=vmt-smoke (enforce)\nsecret=denied\npublic=public')"
}

# smoke_runtime NAME BINARY: every check against one runtime, each bounded (watchdog.sh: a
# stalled check FAILs with a STALL report) and recorded.
smoke_runtime() {
	RT_NAME=$1 RT_BIN=$2 RT_ROOT=$WORK/state-$1
	mkdir -p "$RT_ROOT"
	for _c in exit_status lifecycle cgroup_limits pids_enforced oom_kill apparmor systemd_cgroup checkpoint_restore; do
		_t=$(uptime_ms) _rc=0
		bounded_check "$_c" || _rc=$?
		case "$_rc" in
		0) record "$RT_NAME" "$_c" pass "$_t" "" ;;
		2) record "$RT_NAME" "$_c" skip "$_t" "$MSG" ;;
		*) record "$RT_NAME" "$_c" fail "$_t" "$MSG" ;;
		esac
	done
}

# track ID: remember a container so smoke_cleanup can remove it even when a check fails.
track() { echo "$RT_BIN $RT_ROOT $1" >>"$WORK/ids"; }

# smoke_cleanup: force-delete every container this run created (and only those); the
# runtime removes their cgroups, the parent $CG_PARENT (unique to this run) goes last.
smoke_cleanup() {
	if [ -e "$WORK/ids" ]; then
		while read -r _bin _root _id; do
			timeout -k 5 60 "$_bin" --root "$_root" delete --force "$_id" >/dev/null 2>&1
		done <"$WORK/ids"
	fi
	for _d in /sys/fs/cgroup/"$CG_PARENT" /sys/fs/cgroup/*/"$CG_PARENT"; do
		[ -d "$_d" ] && rmdir "$_d" 2>/dev/null
	done
	return 0
}
