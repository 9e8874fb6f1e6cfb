# A bound on one smoke check, and what the guest looked like when a check overran it. POSIX sh
# (busybox ash in the initramfs, dash in Vagrant).
#
# Every runtime command of a check is bounded already (smoke.sh's rt: 130 s), so a check that
# runs longer is stuck where no timeout reaches: a process in uninterruptible sleep, a
# container cgroup that never gets CPU, a script waiting on something else. The report goes to
# the console, so the suite log shows where. (A guest that stops as a whole cannot report; the
# Vagrant stage reads its vCPUs from qemu instead, and bandwidth.sh removes the one such
# wedge seen here.)
# Needs: WORK, CG_PARENT.

# kill_tree PID: SIGKILL PID and every process below it (a D-state one dies when it wakes).
kill_tree() {
	for _k in $(tree_pids "$1"); do kill -9 "$_k" 2>/dev/null; done
	return 0
}

# proc_table [STAT_FILE...]: "pid state ppid" of every process, or of those stat files' (the
# command name in field 2 may hold spaces and parentheses, so the fields after it count from
# its last ')').
proc_table() {
	[ $# -gt 0 ] || set -- /proc/[0-9]*/stat
	awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print $1, f[1], f[2] }' "$@" 2>/dev/null
}

# tree_pids PID: PID and its descendants.
tree_pids() {
	proc_table | awk -v root="$1" '
		{ kids[$3] = kids[$3] " " $1 }
		END {
			q = root; out = ""
			while (q != "") {
				n = split(q, a, " "); q = ""
				for (i = 1; i <= n; i++) { out = out " " a[i]; q = q kids[a[i]] }
			}
			print out
		}'
}

# proc_line PID: "pid state wchan cmdline" of one process, and each of its threads' kernel
# stack when it is not running (only root can read them).
proc_line() {
	_st=$(proc_table "/proc/$1/stat" | cut -d' ' -f2)
	[ -n "$_st" ] || return 0
	echo "  $1 $_st $(cat "/proc/$1/wchan" 2>/dev/null) $(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | cut -c1-160)"
	[ "$_st" = R ] && return 0
	for _t in /proc/"$1"/task/*; do
		[ -r "$_t/stack" ] || continue
		_stk=$(head -n 8 "$_t/stack" 2>/dev/null | sed 's/^\[<[0-9a-f]*>\] //' | tr '\n' ' ')
		[ -n "$_stk" ] && echo "    task ${_t##*/}: $_stk"
	done
	return 0
}

# stall_report PID CHECK: the check's processes, every process in uninterruptible sleep, the
# run's container cgroups (members, throttling, freezer), pressure and the kernel's last words.
stall_report() {
	echo "=== STALL: $2 still running after ${SMOKE_CHECK_SECS}s (uptime $(cut -d' ' -f1 /proc/uptime) s, load $(cut -d' ' -f1-3 /proc/loadavg))"
	echo "--- processes of the check (pid state wchan cmdline):"
	for _p in $(tree_pids "$1"); do proc_line "$_p"; done
	echo "--- other processes in uninterruptible sleep:"
	for _p in $(proc_table | awk '$2 == "D" {print $1}'); do proc_line "$_p"; done
	for _d in /sys/fs/cgroup/"$CG_PARENT"/* /sys/fs/cgroup/*/"$CG_PARENT"/*; do
		[ -d "$_d" ] || continue
		echo "--- cgroup $_d: procs $(tr '\n' ' ' <"$_d/cgroup.procs" 2>/dev/null)"
		for _f in cgroup.events cgroup.freeze cpu.stat memory.events pids.current; do
			[ -r "$_d/$_f" ] && echo "    $_f: $(tr '\n' ' ' <"$_d/$_f")"
		done
		for _p in $(cat "$_d/cgroup.procs" 2>/dev/null); do proc_line "$_p"; done
	done
	for _f in cpu memory io; do
		[ -r "/proc/pressure/$_f" ] && echo "--- pressure $_f: $(tr '\n' ' ' <"/proc/pressure/$_f")"
	done
	echo "--- dmesg (last 25 lines):"
	dmesg 2>/dev/null | tail -n 25
	echo "=== END STALL"
}

# SMOKE_CHECK_SECS: the bound of one check, above rt's 130 s so that a runtime command's own
# timeout speaks first.
SMOKE_CHECK_SECS=${VMT_SMOKE_CHECK_SECS:-150}

# bounded_check CHECK: check_CHECK in a subshell (its MSG comes back through a file), polled
# against the bound; on overrun, the stall report, the check's processes killed, status 3.
# Polled rather than a plain `wait`: busybox ash's wait can miss the SIGCHLD of a child that
# exits at once and sleep on until some other child ends (a skipped check sat out the whole
# bound in the cgroup-v1 guest). `kill -0` fails only once the shell has reaped the check,
# and then `wait` returns its status at once.
bounded_check() {
	rm -f "$WORK/check.msg"
	(
		MSG="" _r=0
		"check_$1" || _r=$?
		printf '%s' "$MSG" >"$WORK/check.msg"
		exit "$_r"
	) &
	_chk=$!
	read -r _up _rest </proc/uptime
	_deadline=$((${_up%.*} + SMOKE_CHECK_SECS))
	while kill -0 "$_chk" 2>/dev/null; do
		read -r _up _rest </proc/uptime
		if [ "${_up%.*}" -ge "$_deadline" ]; then
			stall_report "$_chk" "$RT_NAME $1"
			kill_tree "$_chk"
			MSG="did not finish in ${SMOKE_CHECK_SECS}s; its processes were killed (STALL report above)"
			return 3
		fi
		sleep 0.1
	done
	_r=0
	wait "$_chk" || _r=$?
	MSG=$(cat "$WORK/check.msg" 2>/dev/null)
	return "$_r"
}
