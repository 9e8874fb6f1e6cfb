# The kernel's CFS-bandwidth switch in a guest: turned on with one CPU online before any
# container runs, held on by a cgroup of the suite's own, and given back the same way at the end.
# POSIX sh.
#
# Why: the first cgroup with a CPU quota turns on the static key behind cfs_bandwidth_used(),
# and the kernel rewrites the scheduler's code at every site that tests it (jump labels,
# text_poke). Under qemu 7.2's multi-threaded TCG (Debian 12's qemu, which runs every guest
# here) a rewrite while the other vCPU runs the scheduler can wedge the guest for good: both
# vCPUs stay in the kernel with interrupts off, at the rewritten branch in update_curr or
# dequeue_entity, although memory already holds the new jump (read from qemu's monitor), and
# the guest answers nothing any more. It struck runc's first cgroup_limits smoke check, the
# first quota after boot, in systemd guests now and then; switching a quota on and off while
# both vCPUs are busy wedges a guest within 200 switches. With the key held on, the containers'
# quotas never switch it.
# Needs: CGROUP_MODE (v2|v1|hybrid).

# one_cpu CMD...: CMD while every CPU but CPU 0 is offline (no other vCPU runs kernel code
# then), the others online again afterwards.
one_cpu() {
	_offline=""
	for _o in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ -w "$_o" ] && [ "$(cat "$_o")" = 1 ] && echo 0 >"$_o" && _offline="$_offline $_o"
	done
	_r=0
	"$@" || _r=$?
	for _o in $_offline; do echo 1 >"$_o" || _r=1; done
	return "$_r"
}

# quota_dir: a new cgroup of the cpu controller to carry the switching quota, or nothing.
quota_dir() {
	if [ "$CGROUP_MODE" = v2 ]; then
		grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null || return 1
		grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control ||
			echo +cpu >/sys/fs/cgroup/cgroup.subtree_control || return 1
		echo "/sys/fs/cgroup/vmt-cfs-switch-$$"
	else
		# cpu is the hierarchy's name or a link to cpu,cpuacct, as smoke.sh's cgroup_dir has it.
		[ -e /sys/fs/cgroup/cpu/cpu.cfs_quota_us ] || return 1
		echo "/sys/fs/cgroup/cpu/vmt-cfs-switch-$$"
	fi
}

# set_quota DIR VALUE: VALUE (a quota in microseconds, or max) on DIR, in v2's or v1's file.
set_quota() {
	if [ -e "$1/cpu.max" ]; then
		echo "$2 100000" >"$1/cpu.max"
	elif [ "$2" = max ]; then
		echo -1 >"$1/cpu.cfs_quota_us"
	else
		echo "$2" >"$1/cpu.cfs_quota_us"
	fi
}

BANDWIDTH_DIR=""
# bandwidth_hold: the switch turned on and held, in a QEMU guest (never elsewhere: it takes
# CPUs offline for a moment), as root; says what it did. A quota of ten CPUs' worth throttles
# nothing. Without the cpu controller, or with one CPU, there is nothing to hold or to fear.
bandwidth_hold() {
	[ "$(cat /sys/class/dmi/id/sys_vendor 2>/dev/null)" = QEMU ] || return 0
	[ "$(id -u)" = 0 ] || return 0
	[ -e /sys/devices/system/cpu/cpu1/online ] || return 0
	_qd=$(quota_dir) || { echo "--- CFS bandwidth: no cpu controller here"; return 0; }
	mkdir "$_qd" || return 1
	BANDWIDTH_DIR=$_qd
	one_cpu set_quota "$_qd" 1000000 || return 1
	echo "--- CFS bandwidth: switched on with one CPU online, held by $_qd"
}

# bandwidth_release: the held quota back to max with one CPU online (where it was the last
# quota the key goes off then, not later), then its cgroup removed.
bandwidth_release() {
	[ -n "$BANDWIDTH_DIR" ] || return 0
	one_cpu set_quota "$BANDWIDTH_DIR" max
	rmdir "$BANDWIDTH_DIR"
	BANDWIDTH_DIR=""
}
