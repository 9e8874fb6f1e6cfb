#!/usr/bin/env bash
# scripts/leftovers.sh snapshot DIR | compare DIR
#
# What tests leave behind on the host. `snapshot` records the host into DIR; `compare` records
# it again and fails (exit 1) on any difference a test job can cause:
#   cgroups     every directory under /sys/fs/cgroup
#   mounts      mount point, type and source of every line of /proc/self/mountinfo
#   state       /run/ferrun*, /run/runc*, /run/crun*, /run/oci-conform* (two levels)
#   netns       `ip netns list` and /run/netns
#   processes   a new process of a runtime or a container (ferrun, runc, crun, oci-probe,
#               probe, busybox, oci-conform, conmon), or any new child of pid 1 (an orphan)
#   tmp         new entries directly under /tmp
# Differences that are not a test's doing are ignored, precisely: user sessions (cgroups and
# mounts under user.slice and /run/user, `systemd --user`), systemd's own units in
# system.slice unless named like a runtime's, and binfmt_misc's automount.
# LEFTOVERS_IGNORE: an extended regex of further lines to ignore (e.g. another job's /tmp).
set -euo pipefail
export LC_ALL=C

cgroups() {
	# Runtime-named units under system.slice are ours (the systemd cgroup driver).
	find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null |
		awk '!/\/user\.slice(\/|$)/ && (!/\/system\.slice\// || /ferrun|runc|crun|oci-conform|libpod/)' |
		sort
}

mounts() {
	# Mount IDs change across remounts; what stays is where, what and from where.
	awk '{ for (i = 7; $i != "-"; i++); print $5, $(i + 1), $(i + 2) }' /proc/self/mountinfo |
		grep -Ev '^/run/user/|^/proc/sys/fs/binfmt_misc ' | sort
}

state() {
	local d
	for d in /run/ferrun* /run/runc* /run/crun* /run/oci-conform*; do
		if [ -e "$d" ]; then find "$d" -maxdepth 2 2>/dev/null || true; fi
	done | sort
}

netns() {
	{
		ip netns list 2>/dev/null | awk '{ print "ip-netns", $1 }' || true
		if [ -d /run/netns ]; then ls -A /run/netns | sed 's/^/run-netns /'; fi
	} | sort
}

# pid, start time (so a reused pid is a new process), ppid, argv0's and exe's names, argv.
processes() {
	local p stat exe argv0 argv ppid start f
	for p in /proc/[0-9]*; do
		stat=$(cat "$p/stat" 2>/dev/null) || continue
		stat=${stat##*) }
		read -r -a f <<<"$stat"
		ppid=${f[1]} start=${f[19]}
		[ "$ppid" = 2 ] || [ "${p#/proc/}" = 2 ] && continue # kernel threads
		exe=$(readlink "$p/exe" 2>/dev/null || true)
		argv=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null || true)
		argv0=${argv%% *}
		echo "${p#/proc/}:$start ppid=$ppid exe=${exe##*/} argv0=${argv0##*/} $argv"
	done | sort
}

tmp() {
	ls -A /tmp | sort
}

record() {
	local dir=$1
	mkdir -p "$dir"
	cgroups >"$dir/cgroups"
	mounts >"$dir/mounts"
	state >"$dir/state"
	netns >"$dir/netns"
	processes >"$dir/processes"
	tmp >"$dir/tmp"
}

# Lines only in the second file (what appeared), minus LEFTOVERS_IGNORE.
appeared() {
	comm -13 "$1" "$2" | { if [ -n "${LEFTOVERS_IGNORE:-}" ]; then grep -Ev "$LEFTOVERS_IGNORE" || true; else cat; fi; }
}

ours='^(ferrun|runc|runc:\[.*|crun|oci-probe|probe|busybox|oci-conform|conmon)$'

# A new process that a runtime or a test container left, or a new orphan (ppid 1) that is not
# a user session's or a system daemon's.
new_processes() {
	local before=$1 after=$2 self=$$
	awk '{ print $1 }' "$before" | sort >"$before.keys"
	while read -r key ppid exe argv0 rest; do
		local pid=${key%%:*}
		grep -qxF "$key" "$before.keys" && continue
		[ "$pid" = "$self" ] && continue
		[ "$ppid" = "ppid=$self" ] && continue # this script's own pipelines
		[ "$argv0" = argv0= ] && continue      # gone while it was listed
		exe=${exe#exe=} argv0=${argv0#argv0=}
		if [[ $exe =~ $ours || $argv0 =~ $ours ]]; then
			echo "$key $ppid $exe $rest"
		elif [ "$ppid" = ppid=1 ] && ! [[ $argv0 =~ ^(systemd|\(sd-pam\)|sshd|sshd:|cron|agetty|login|dbus-daemon|polkitd|udevadm|apt-get|apt|unattended-upgr)$ ]]; then
			echo "$key $ppid $exe $rest (orphan)"
		fi
	done <"$after" | { if [ -n "${LEFTOVERS_IGNORE:-}" ]; then grep -Ev "$LEFTOVERS_IGNORE" || true; else cat; fi; }
}

compare() {
	local dir=$1 now found=0 what
	now=$(mktemp -d /tmp/leftovers-now.XXXXXX)
	record "$now"
	for what in cgroups mounts state netns tmp; do
		local diff
		diff=$(appeared "$dir/$what" "$now/$what" | grep -v "^${now##*/}$" || true)
		if [ -n "$diff" ]; then
			found=1
			echo "leftovers: $what appeared since the snapshot:"
			echo "$diff" | sed 's/^/  /'
		fi
	done
	local procs
	procs=$(new_processes "$dir/processes" "$now/processes")
	if [ -n "$procs" ]; then
		found=1
		echo "leftovers: processes appeared since the snapshot:"
		echo "$procs" | sed 's/^/  /'
	fi
	rm -rf "$now"
	if [ "$found" = 0 ]; then
		echo "leftovers: none (cgroups, mounts, state dirs, network namespaces, processes, /tmp)"
	fi
	return "$found"
}

case "${1:-}" in
snapshot) record "${2:?snapshot DIR}" ;;
compare) compare "${2:?compare DIR}" ;;
*) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
