#!/bin/sh
# scripts/bench/collect.sh PHASE...: the bench's measuring loops, POSIX sh so the same code
# runs on the host (scripts/bench.sh, inside a private mount namespace) and in the vm-tests
# guest (busybox; scripts/bench/vm.sh). It only writes raw records; report.py makes the tables.
#
# Phases: run idle life exec (the per-container figures) | list binds par mounts (the scale
#   checks) | cleanup (delete every container and cgroup of this bench, unmount its mounts).
# Every measured command goes through the launcher `$L`, which appends one line
#   "GROUP NAME ROUND utime_us stime_us maxrss_kib wall_ns status"
# to $RAW (NAME: a runtime or `floor`). Rounds are shuffled: each round runs every participant
# once in a fresh random order, so load drift on a shared host hits all of them alike.
#
# Environment (set by bench.sh or vm.sh):
#   W         work dir: rootfs/, bundle/ (/bin/true), bundle-sleep/, bundle-binds/ (200 binds),
#             mnts/; state roots W/root-NAME are made here
#   L FLOOR   the launcher and the floor program (scripts/bench/{launch,floor}.c, compiled)
#   RUNTIMES  "name=/path ..." (ferrun first)   RAW  record file   PREFIX  container id prefix
#   N NIDLE IDLE_SLEEP NLIST NLIST_ROUNDS NBIND_ROUNDS NPAR NPAR_ROUNDS NMNT NMNT_ROUNDS
# Word splitting is meant throughout: runtime names, argvs of paths under W and our ids.
# shellcheck disable=SC2046
set -eu

names() { for rt in $RUNTIMES; do printf '%s ' "${rt%%=*}"; done; }
bin_of() { for rt in $RUNTIMES; do [ "${rt%%=*}" = "$1" ] && { printf '%s' "${rt#*=}"; return; }; done; return 1; }
shuffled() { printf '%s\n' "$@" | shuf; }
log() { echo "bench: $*" >&2; }

# measure GROUP NAME ROUND [TIMEOUT] -- ARGV...: one launcher record; a failure stops the bench
# (a runtime that failed has measured nothing comparable). The runtimes' stderr goes to
# W/stderr.log, shown on failure.
measure() {
	g=$1 n=$2 r=$3 t=60
	shift 3
	[ "$1" = -- ] || { t=$1; shift; }
	shift
	if ! "$L" -o "$RAW" -l "$g $n $r" -t "$t" -- "$@" 2>>"$W/stderr.log"; then
		log "$g: '$*' failed (round $r); its stderr:"
		tail -n 5 "$W/stderr.log" >&2
		exit 1
	fi
}

# quiet NAME ARGV...: an unmeasured runtime command (setup, teardown), bounded like the rest.
quiet() {
	q=$1
	shift
	"$L" -o /dev/null -l "setup $q 0" -t 60 -- "$@" 2>>"$W/stderr.log"
}

rt() { # rt NAME SUBCOMMAND ARGS...: the argv of a runtime with this bench's state root
	n=$1
	shift
	printf '%s\n' "$(bin_of "$n")" --root "$W/root-$n" "$@"
}

run_rt() { # run_rt NAME SUBCOMMAND ARGS...: run it unmeasured
	n=$1
	shift
	quiet "$n" $(rt "$n" "$@")
}

# One `run` of /bin/true (or the floor program) per participant, shuffled, N rounds.
phase_run() { # phase_run GROUP ROUNDS SLEEP PARTICIPANTS...
	g=$1 rounds=$2 pause=$3
	shift 3
	i=0
	while [ "$i" -lt "$rounds" ]; do
		i=$((i + 1))
		for n in $(shuffled "$@"); do
			[ "$pause" = 0 ] || sleep "$pause"
			if [ "$n" = floor ]; then
				measure "$g" floor "$i" -- "$FLOOR" "$W/rootfs"
			else
				measure "$g" "$n" "$i" -- $(rt "$n" run -b "$W/bundle" "$PREFIX-$g$i-$n")
			fi
		done
	done
}

phase_life() { # create + start + delete --force, each step its own record
	i=0
	while [ "$i" -lt "$N" ]; do
		i=$((i + 1))
		for n in $(shuffled $(names)); do
			id=$PREFIX-l$i-$n
			{
				measure create "$n" "$i" -- $(rt "$n" create -b "$W/bundle" "$id")
				measure start "$n" "$i" -- $(rt "$n" start "$id")
				measure delete "$n" "$i" -- $(rt "$n" delete --force "$id")
			}
		done
	done
}

phase_exec() { # `exec /bin/true` into one running `sleep` container per runtime
	for n in $(names); do
		run_rt "$n" create -b "$W/bundle-sleep" "$PREFIX-x-$n"
		run_rt "$n" start "$PREFIX-x-$n"
	done
	i=0
	while [ "$i" -lt "$N" ]; do
		i=$((i + 1))
		for n in $(shuffled $(names)); do
			measure exec "$n" "$i" -- $(rt "$n" exec "$PREFIX-x-$n" /bin/true)
		done
	done
	for n in $(names); do run_rt "$n" delete --force "$PREFIX-x-$n"; done
}

# list: NLIST created containers per runtime, all present at once, NLIST_ROUNDS shuffled lists.
phase_list() {
	for n in $(names); do
		log "list: creating $NLIST $n containers"
		j=0
		while [ "$j" -lt "$NLIST" ]; do
			j=$((j + 1))
			run_rt "$n" create -b "$W/bundle-sleep" "$PREFIX-L$j-$n"
		done
	done
	i=0
	while [ "$i" -lt "$NLIST_ROUNDS" ]; do
		i=$((i + 1))
		for n in $(shuffled $(names)); do
			measure list "$n" "$i" -- $(rt "$n" list)
		done
	done
	for n in $(names); do delete_all "$n"; done
}

phase_binds() { # create with 200 bind mounts in config.json (then an unmeasured delete)
	i=0
	while [ "$i" -lt "$NBIND_ROUNDS" ]; do
		i=$((i + 1))
		for n in $(shuffled $(names)); do
			measure binds "$n" "$i" -- $(rt "$n" create -b "$W/bundle-binds" "$PREFIX-b$i-$n")
			run_rt "$n" delete --force "$PREFIX-b$i-$n"
		done
	done
}

# NPAR creates started at once; the record is the wall until the last one is done. The sh
# below runs each create under its own bounded launcher and fails if any create failed.
phase_par() {
	i=0
	while [ "$i" -lt "$NPAR_ROUNDS" ]; do
		i=$((i + 1))
		for n in $(shuffled $(names)); do
			# shellcheck disable=SC2016 # expanded by the inner sh
			measure par "$n" "$i" 300 -- /bin/sh -c '
				L=$1 np=$2 id=$3; shift 3
				j=0; pids=""
				while [ "$j" -lt "$np" ]; do
					j=$((j + 1))
					"$L" -o /dev/null -l par -t 120 -- "$@" "$id-$j" & pids="$pids $!"
				done
				rc=0
				for p in $pids; do wait "$p" || rc=1; done
				exit "$rc"' par "$L" "$NPAR" "$PREFIX-p$i-$n" $(rt "$n" create -b "$W/bundle")
			delete_all "$n"
		done
	done
}

# `run` without, then with NMNT extra tmpfs mounts in this (private) mount namespace: the
# runtimes that read /proc/self/mountinfo, and every mount-namespace clone, pay for them.
phase_mounts() {
	phase_run mnt0 "$NMNT_ROUNDS" 0 $(names) floor
	log "mounts: mounting $NMNT tmpfs under $W/mnts (this mount namespace only)"
	mkdir -p "$W/mnts"
	j=0
	while [ "$j" -lt "$NMNT" ]; do
		j=$((j + 1))
		mkdir -p "$W/mnts/$j"
		mount -t tmpfs -o size=4k,mode=0755 "$PREFIX-m" "$W/mnts/$j"
	done
	phase_run mnt1 "$NMNT_ROUNDS" 0 $(names) floor
	umount_all
}

umount_all() {
	[ -d "$W/mnts" ] || return 0
	for m in "$W"/mnts/*; do
		[ -d "$m" ] || continue
		umount "$m" 2>/dev/null || true
		rmdir "$m" 2>/dev/null || true
	done
}

delete_all() { # delete_all NAME: every container in the runtime's bench state root
	for d in "$W/root-$1"/"$PREFIX"-*; do
		[ -e "$d" ] || continue
		run_rt "$1" delete --force "${d##*/}" || log "cleanup: $1 delete ${d##*/} failed"
	done
}

phase_cleanup() {
	for n in $(names); do
		[ -d "$W/root-$n" ] && delete_all "$n"
	done
	umount_all
	# A runtime killed mid-create can leave its cgroup: only ours (named after PREFIX) go.
	# On a hybrid host crun 1.8 also writes into the tmpfs dir under the unmounted
	# /sys/fs/cgroup/unified (plain directories and files, hidden on the host): remove those.
	for d in /sys/fs/cgroup/*/"$PREFIX"-* /sys/fs/cgroup/*/*/"$PREFIX"-* /sys/fs/cgroup/"$PREFIX"-*; do
		[ -d "$d" ] || continue
		if [ "$(stat -fc %T "$d")" = tmpfs ]; then
			rm -rf "$d"
		else
			rmdir "$d" 2>/dev/null || log "cleanup: cannot remove cgroup $d"
		fi
	done
	return 0
}

# Whatever happens (a failure, Ctrl-C), nothing of ours stays behind.
trap phase_cleanup EXIT
trap 'exit 130' INT TERM
for phase in "$@"; do
	case "$phase" in
	run)
		log "run: $N rounds of $(names)floor"
		phase_run warm 3 0 $(names) floor # page cache, cgroup hierarchy; report.py skips it
		phase_run run "$N" 0 $(names) floor
		;;
	idle)
		log "idle: $NIDLE rounds, ${IDLE_SLEEP}s before each run"
		phase_run idle "$NIDLE" "$IDLE_SLEEP" $(names) floor
		;;
	life) log "create+start+delete: $N rounds"; phase_life ;;
	exec) log "exec: $N rounds"; phase_exec ;;
	list) phase_list ;;
	binds) log "create with 200 binds: $NBIND_ROUNDS rounds"; phase_binds ;;
	par) log "$NPAR parallel creates: $NPAR_ROUNDS rounds"; phase_par ;;
	mounts) log "run with $NMNT host mounts: $NMNT_ROUNDS rounds each"; phase_mounts ;;
	cleanup) ;; # the EXIT trap does it
	*) log "unknown phase $phase"; exit 2 ;;
	esac
done
