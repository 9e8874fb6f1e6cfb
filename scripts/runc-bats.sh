#!/bin/bash
# Run runc's own bats integration suite against one or more runc-compatible runtimes and
# compare them side by side. The suite is runc 1.1.5's, the version Debian 12 ships; it is
# fetched at run time from Debian's source package and never part of this repository.
#
#   scripts/runc-bats.sh [--files "events exec ..."] [--newer] [--out DIR] RUNTIME...
#
# The first RUNTIME is the reference (e.g. /usr/sbin/runc): the report lists every test that
# passes on it and not on another runtime. --newer adds the test files runc 1.1.5 lacks
# (env, capabilities, ...) from Debian unstable's runc source: that version moves, so their
# numbers are only comparable between runs that print the same version.
# Env: FILE_TIMEOUT (s per file, default 600), BATS_TEST_TIMEOUT (per test, default off:
# bats 1.8's watchdog breaks tests that call a bare `wait`, such as events.bats).
# Exit: 0 when the runs completed (a comparison, not a gate), 2 when the setup failed.
# Interrupted (INT, TERM), it stops the file in progress, cleans up and exits 130.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
W=$REPO/target/runc-bats           # everything fetched, built and written lives here
DEB_VERSION=1.1.5+ds1-1+deb12u1     # /usr/sbin/runc on Debian 12
# runc 1.1.5's files minus those that need what is not set up here: checkpoint (criu, whose
# Debian 12 version fails on this host's newer kernel), cgroup_delegation (cgroup v2 and
# systemd), mounts_sshfs (sshfs). mounts_recursive is left out too; --files runs it.
DEFAULT_FILES="events debug exec tty cwd kill help version list state delete create start
start_detached start_hello run root spec pause ps update cgroups dev hooks mounts mask no_pivot
userns umask seccomp seccomp-notify seccomp-notify-compat"
# Files of newer runc that --newer adds (ulimit.bats and cpu_affinity.bats are in no Debian
# package runc 1.1.5's helpers can drive, so they are not fetched).
NEWER_FILES="env host-mntns rlimits personality capabilities scheduler"
PKGS=(bats jq golang-go golang-github-containerd-console-dev golang-github-urfave-cli-dev
	golang-golang-x-sys-dev busybox-static dpkg-dev xz-utils gcc libc6-dev
	golang-github-seccomp-libseccomp-golang-dev golang-github-sirupsen-logrus-dev
	golang-github-cyphar-filepath-securejoin-dev golang-github-opencontainers-specs-dev
	libseccomp-dev pkg-config)

die() { echo "runc-bats: setup failed: $*" >&2; exit 2; }
log() { echo "runc-bats: $*" >&2; }

FILES=$DEFAULT_FILES NEWER="" OUT=$W/out
while [ $# -gt 0 ]; do
	case $1 in
	--files) FILES=${2:?--files needs a list}; shift 2 ;;
	--newer) NEWER=1; shift ;;
	--out) OUT=${2:?--out needs a directory}; shift 2 ;;
	-h | --help) sed -n '2,15p' "$0"; exit 0 ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || die "no runtime given (usage: $0 [--files LIST] [--newer] RUNTIME...)"
[ "$(id -u)" = 0 ] || die "runc's suite needs root"
[ -n "$NEWER" ] && [ "$FILES" = "$DEFAULT_FILES" ] && FILES="$FILES $NEWER_FILES"
RUNTIMES=()
for rt in "$@"; do
	if ! rt=$(readlink -f "$rt") || [ ! -f "$rt" ] || [ ! -x "$rt" ]; then die "not an executable runtime: $1"; fi
	RUNTIMES+=("$rt")
	shift
done

# A private apt configuration: the deb-src lines the fetch needs, without touching /etc/apt.
APT_OPTS=(-o "Dir::Etc::SourceList=$W/apt/sources.list" -o "Dir::Etc::SourceParts=$W/apt/parts"
	-o "Dir::State::Lists=$W/apt/lists" -o "Dir::Cache=$W/apt/cache" -o DPkg::Lock::Timeout=600)
apt_private() {
	local want
	want="deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian-security bookworm-security main"
	[ -n "$NEWER" ] && want+=$'\n'"deb-src http://deb.debian.org/debian sid main"
	mkdir -p "$W/apt/parts" "$W/apt/lists/partial" "$W/apt/cache"
	if [ "$(cat "$W/apt/sources.list" 2>/dev/null)" != "$want" ] || [ -n "$NEWER" ]; then
		echo "$want" >"$W/apt/sources.list"
		apt-get "${APT_OPTS[@]}" update -q >"$W/apt/update.log" 2>&1 ||
			die "apt-get update with $W/apt/sources.list (see $W/apt/update.log)"
	fi
}

install_tools() {
	"$REPO/scripts/apt-install.sh" "${PKGS[@]}" >/dev/null || die "apt-get install of its tools"
}

# runc's source with Debian's patches applied, in $W/src/runc-1.1.5+ds1.
fetch_suite() {
	SRC=$W/src/runc-${DEB_VERSION%-*}
	[ -f "$SRC/tests/integration/helpers.bash" ] && return 0
	rm -rf "$W/src" && mkdir -p "$W/src"
	(cd "$W/src" && apt-get "${APT_OPTS[@]}" source -q "runc=$DEB_VERSION") >"$W/src.log" 2>&1 ||
		die "apt-get source runc=$DEB_VERSION (see $W/src.log)"
}

# The newer files, from whatever runc Debian unstable has today (printed in the header).
fetch_newer() {
	local d=$W/newer f
	rm -rf "$d" && mkdir -p "$d"
	(cd "$d" && apt-get "${APT_OPTS[@]}" source -q runc/sid) >"$W/newer.log" 2>&1 ||
		die "apt-get source runc/sid (see $W/newer.log)"
	NEWER_FROM=$(find "$d" -mindepth 1 -maxdepth 1 -type d -name 'runc-*' -printf '%f')
	for f in $NEWER_FILES; do
		cp "$d/$NEWER_FROM/tests/integration/$f.bats" "$IT/" || die "$f.bats is not in $NEWER_FROM"
	done
}

# runc's contrib helpers, built with Debian's Go and its packaged dependencies (GOPATH mode:
# the +ds1 source has no vendor/): recvtty (tty.bats and every test with terminal: true) and
# seccompagent (seccomp-notify*.bats; cgo and the `seccomp` tag, against libseccomp-dev).
build_contrib() {
	local name=$1 tags=${2:-}
	[ -x "$W/bin/$name" ] && return 0
	mkdir -p "$W/gopath/src/github.com/opencontainers" "$W/bin"
	ln -sfn "$SRC" "$W/gopath/src/github.com/opencontainers/runc"
	GO111MODULE=off GOPATH="$W/gopath:/usr/share/gocode" GOCACHE="$W/gocache" GOFLAGS="" \
		go build ${tags:+-tags "$tags"} -o "$W/bin/$name" "github.com/opencontainers/runc/contrib/cmd/$name" \
		>"$W/$name.log" 2>&1 || die "building $name (see $W/$name.log)"
}

# The images get-images.sh would download, built from busybox-static instead: /bin with
# every applet, and the users and groups of the docker busybox image the tests expect.
# The "debian" image (hooks.bats) adds the static ldconfig and the directories it reads.
build_images() {
	local td=$IT/testdata r=$W/rootfs a
	[ -f "$td/busybox-amd64.tar.xz" ] && [ -f "$td/debian-amd64.tar.xz" ] && return 0
	rm -rf "$r" && mkdir -p "$r"/{bin,sbin,dev,etc,home,proc,sys,tmp,usr/bin,usr/sbin,var/www,var/spool/mail,root}
	chmod 700 "$r/root" && chmod 1777 "$r/tmp"
	cp /bin/busybox "$r/bin/busybox" || die "busybox-static is not installed"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln "$r/bin/busybox" "$r/bin/$a"; done
	printf '%s\n' root:x:0:0:root:/root:/bin/sh daemon:x:1:1:daemon:/usr/sbin:/bin/false \
		bin:x:2:2:bin:/bin:/bin/false sys:x:3:3:sys:/dev:/bin/false sync:x:4:100:sync:/bin:/bin/sync \
		mail:x:8:8:mail:/var/spool/mail:/bin/false www-data:x:33:33:www-data:/var/www:/bin/false \
		operator:x:37:37:Operator:/var:/bin/false nobody:x:65534:65534:nobody:/home:/bin/false \
		>"$r/etc/passwd"
	printf '%s\n' root:x:0: daemon:x:1: bin:x:2: sys:x:3: adm:x:4: tty:x:5: disk:x:6: lp:x:7: \
		mail:x:8: kmem:x:9: wheel:x:10:root cdrom:x:11: dialout:x:18: floppy:x:19: video:x:28: \
		audio:x:29: tape:x:32: www-data:x:33: operator:x:37: utmp:x:43: plugdev:x:46: staff:x:50: \
		lock:x:54: netdev:x:82: users:x:100: nogroup:x:65534: >"$r/etc/group"
	printf '%s\n' 'root:*:10933:0:99999:7:::' 'nobody:*:10933:0:99999:7:::' >"$r/etc/shadow"
	chmod 640 "$r/etc/shadow"
	echo busybox-rootfs >"$r/etc/hostname"
	tar --numeric-owner --owner=0 --group=0 -C "$r" -cJf "$td/busybox-amd64.tar.xz" . || die "tar busybox"
	mkdir -p "$r/lib" "$r/usr/lib" "$r/etc/ld.so.conf.d"
	cp /sbin/ldconfig "$r/sbin/" && echo 'include /etc/ld.so.conf.d/*.conf' >"$r/etc/ld.so.conf"
	echo debian-mini >"$r/etc/hostname"
	tar --numeric-owner --owner=0 --group=0 -C "$r" -cJf "$td/debian-amd64.tar.xz" . || die "tar debian"
	rm -rf "$r"
}

# Our tweaks to the fetched helpers.bash, each marked "ferrun-local", applied once.
patch_helpers() {
	local h=$IT/helpers.bash
	grep -q ferrun-local "$h" && return 0
	# the contrib helpers are ours, not built next to the runc binary
	sed -i -e "s|^RECVTTY=.*|RECVTTY=\"$W/bin/recvtty\" # ferrun-local|" \
		-e "s|^SD_HELPER=.*|SD_HELPER=\"$W/bin/sd-helper\" # ferrun-local: not built|" \
		-e "s|^SECCOMP_AGENT=.*|SECCOMP_AGENT=\"$W/bin/seccompagent\" # ferrun-local|" "$h"
	# newer files use `run -N` (bats >= 1.5) and write `runc -0 ...` / `runc ! ...`: hand
	# such a first argument to bats' run
	sed -i -e '/^# Root directory of integration tests/i bats_require_minimum_version 1.5.0 # ferrun-local\n' \
		-e 's|^\trun __runc "\$@"$|\tif [[ "${1:-}" =~ ^-[0-9]+$ \|\| "${1:-}" == "!" ]]; then local w=$1; shift; run "$w" __runc "$@"; else run __runc "$@"; fi # ferrun-local|' "$h"
	[ "$(grep -c ferrun-local "$h")" = 5 ] || die "helpers.bash of runc $DEB_VERSION changed: tweaks did not apply"
}

# Move this script (and so every runtime it starts) into a cgroup of its own in every
# hierarchy: a container without cgroupsPath lands in <caller's cgroup>/<id>, so a run here
# never shares such a cgroup with anything else on the host.
ISO_DIRS=() ISO_HOME=()
isolate() {
	local line ctl path mnt d cg
	cg=$(cat /proc/$$/cgroup)
	while IFS= read -r line; do
		ctl=${line#*:} && path=${ctl#*:} && ctl=${ctl%%:*}
		case $ctl in "") mnt=/sys/fs/cgroup/unified ;; *) mnt=/sys/fs/cgroup/${ctl#name=} ;; esac
		[ -d "$mnt$path" ] || mnt=/sys/fs/cgroup # cgroup v2 only
		d=$mnt${path%/}/runc-bats-$$
		mkdir -p "$d" 2>/dev/null || continue
		[ -f "$d/cpuset.cpus" ] && cat "$mnt$path/cpuset.cpus" >"$d/cpuset.cpus" &&
			cat "$mnt$path/cpuset.mems" >"$d/cpuset.mems"
		if echo $$ >"$d/cgroup.procs" 2>/dev/null; then ISO_DIRS+=("$d") ISO_HOME+=("$mnt$path"); else rmdir "$d"; fi
	done <<<"$cg"
}
# shellcheck disable=SC2317 # run by the EXIT trap
on_exit() {
	local i
	[ ${#CUR[@]} -gt 0 ] && cleanup_file "${CUR[@]}"
	for i in "${!ISO_DIRS[@]}"; do
		echo $$ >"${ISO_HOME[$i]}/cgroup.procs" 2>/dev/null
		find "${ISO_DIRS[$i]}" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rmdir "$W/tmp" 2>/dev/null
}

# What a file's tests left behind when they failed or timed out: recvtty helpers, frozen
# cgroups, containers, mounts, the test cgroups, then the file's TMPDIR itself.
cleanup_file() {
	local rt=$1 tmp=$2 f d ct cgs=("${ISO_DIRS[@]}")
	# interrupted: stop the file's bats first (timeout passes the signal on)
	[ -n "${3:-}" ] && kill -TERM "$3" 2>/dev/null && wait "$3"
	find "$tmp" -name pid -path '*/tty/*' 2>/dev/null | while read -r f; do
		kill -9 "$(cat "$f")" 2>/dev/null
	done
	# where set_cgroups_path puts containers (one parent, shared by every run on the host)
	shopt -s nullglob
	cgs+=(/sys/fs/cgroup/*/runc-cgroups-integration-test* /sys/fs/cgroup/runc-cgroups-integration-test*)
	shopt -u nullglob
	# a test that hung with its container paused: thaw it, or delete cannot kill it
	[ ${#cgs[@]} -gt 0 ] && find "${cgs[@]}" \( -name freezer.state -o -name cgroup.freeze \) 2>/dev/null |
		while read -r f; do
			case $f in
			*freezer.state) grep -q FROZEN "$f" && echo THAWED >"$f" ;;
			*) grep -q 1 "$f" && echo 0 >"$f" ;;
			esac
		done
	find "$tmp" -maxdepth 4 -type d -name state 2>/dev/null | while read -r d; do
		for ct in $("$rt" --root "$d" list -q 2>/dev/null); do
			timeout 30 "$rt" --root "$d" delete -f "$ct" >/dev/null 2>&1
		done
	done
	awk -v t="$tmp" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m"; done
	rm -rf "$tmp"
	for d in "${cgs[@]}"; do
		find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
		case $d in *runc-cgroups-integration-test*) rmdir "$d" 2>/dev/null ;; esac
	done
	CUR=()
}

# One .bats file on one runtime, under a pseudo-terminal as runc's CI runs them (`docker
# run -t`): tests that run a terminal:true container in the foreground need a /dev/tty.
run_file() {
	local rt=$1 f=$2 tap=$3 tmp cmd rc
	tmp=$(mktemp -d "$W/tmp/run.XXXXXX") && chmod 755 "$tmp"
	CUR=("$rt" "$tmp") # cleaned by the EXIT trap too if the run is interrupted
	cmd=$(printf '%q ' bats --tap "$f.bats")
	# In the background so that a signal to this script is handled at once (bash defers
	# traps until a foreground child ends). 8>&-: the run lock stays with this script.
	(cd "$IT" && RUNC=$rt TMPDIR=$tmp exec timeout -k 10 "${FILE_TIMEOUT:-600}" \
		script -qec "$cmd >$(printf %q "$tap") 2>&1" /dev/null) </dev/null >/dev/null 2>&1 8>&- &
	CUR+=("$!")
	wait "$!"
	rc=$?
	cleanup_file "$rt" "$tmp" # not "${CUR[@]}": timeout has ended
	[ $rc = 124 ] && echo "# runc-bats: FILE TIMEOUT after ${FILE_TIMEOUT:-600}s" >>"$tap"
	return 0
}

# tests/passed/failed/skipped of one TAP file ("-" when the file was not run).
counts() {
	[ -r "$1" ] || { echo "-"; return; }
	awk '/^ok .* # skip/ {s++; next} /^ok / {p++} /^not ok / {f++}
		/FILE TIMEOUT/ {t=" TIMEOUT"} END {printf "%d/%d/%d/%d%s\n", p+f+s, p, f, s, t}' "$1"
}

# Tests that pass in the reference TAP and do not pass in the other (failed, skipped or
# never reached), each with where its TAP excerpt starts.
regressions() {
	awk -v ref="$1" -v oth="$2" '
		function name(l) { sub(/^(not )?ok [0-9]+ /, "", l); sub(/ # (skip|timeout).*$/, "", l); return l }
		FILENAME == ref && /^ok / && !/ # skip/ { pass[name($0)] = 1; order[++n] = name($0); next }
		FILENAME == oth && /^(not )?ok / { st[name($0)] = (/^ok / && !/ # skip/) ? "pass" : (/^ok/ ? "skip" : "FAIL"); at[name($0)] = FNR }
		END { for (i = 1; i <= n; i++) { t = order[i]; if (st[t] != "pass")
			printf "  %s: %s  (%s)\n", t, st[t] ? st[t] : "not run", st[t] ? oth ":" at[t] : oth } }
	' "$1" "$2" 2>/dev/null
}

summary() {
	local f i n ref oth hdr
	printf '%-16s' "file"
	for i in "${!RUNTIMES[@]}"; do printf ' %-20s' "${LABELS[$i]}"; done
	printf '\n%-16s' ""
	for i in "${!RUNTIMES[@]}"; do printf ' %-20s' "tests/pass/fail/skip"; done
	echo
	for f in $FILES; do
		printf '%-16s' "$f"
		for i in "${!RUNTIMES[@]}"; do printf ' %-20s' "$(counts "$OUT/${LABELS[$i]}/$f.tap")"; done
		echo
	done
	printf '%-16s' total
	for i in "${!RUNTIMES[@]}"; do
		printf ' %-20s' "$(for f in $FILES; do cat "$OUT/${LABELS[$i]}/$f.tap" 2>/dev/null; done | counts /dev/stdin)"
	done
	echo
	for i in "${!RUNTIMES[@]}"; do
		[ "$i" = 0 ] && continue
		echo
		echo "Pass on ${LABELS[0]}, not on ${LABELS[$i]} (file: test: result (TAP excerpt)):"
		n=0
		for f in $FILES; do
			ref=$OUT/${LABELS[0]}/$f.tap
			[ -f "$ref" ] || continue
			oth=$OUT/${LABELS[$i]}/$f.tap
			[ -f "$oth" ] || oth=/dev/null # not run at all: every reference pass is listed
			hdr=$(regressions "$ref" "$oth")
			[ -n "$hdr" ] || continue
			echo "$f.bats" && echo "$hdr"
			n=$((n + $(grep -c . <<<"$hdr")))
		done
		echo "  ($n tests)"
	done
}

install_tools
mkdir -p "$W/tmp" "$OUT" || die "cannot create $W"
export TMPDIR=$W/tmp # go build and dpkg-source too: nothing of ours goes to /tmp
exec 8>"$W/.lock"
flock -n 8 || die "another runc-bats run holds $W/.lock (one run at a time: they share test cgroups)"
apt_private
fetch_suite
IT=$SRC/tests/integration
if [ -n "$NEWER" ]; then
	fetch_newer
else # a previous --newer run's copies: without --newer the run is runc 1.1.5's alone
	for f in $NEWER_FILES; do rm -f "$IT/$f.bats"; done
fi
build_contrib recvtty
build_contrib seccompagent seccomp
build_images
patch_helpers

LABELS=()
for i in "${!RUNTIMES[@]}"; do LABELS+=("$((i + 1))-$(basename "${RUNTIMES[$i]}")"); done
CUR=()
isolate
trap on_exit EXIT
trap 'exit 130' INT TERM # so that on_exit runs
{
	echo "runc's bats suite: runc $DEB_VERSION (Debian 12)${NEWER:+, newer files from $NEWER_FROM (Debian unstable)}"
	for i in "${!RUNTIMES[@]}"; do
		echo "  ${LABELS[$i]}: ${RUNTIMES[$i]} ($("${RUNTIMES[$i]}" --version 2>/dev/null | head -1))"
	done
} | tee "$OUT/header.txt"
for i in "${!RUNTIMES[@]}"; do
	mkdir -p "$OUT/${LABELS[$i]}"
	for f in $FILES; do
		[ -f "$IT/$f.bats" ] || { log "$f.bats: not in the suite, skipped"; continue; }
		rm -f "$OUT/${LABELS[$i]}/$f.tap"
		run_file "${RUNTIMES[$i]}" "$f" "$OUT/${LABELS[$i]}/$f.tap"
		log "${LABELS[$i]} $f: $(counts "$OUT/${LABELS[$i]}/$f.tap") (tests/pass/fail/skip)"
	done
done
echo
summary | tee "$OUT/summary.txt"
exit 0
