# shellcheck shell=bash
# Shared helpers for the host side of vm-tests (sourced by run.sh and ci.sh).
# Owns: logging, fatal errors with context, content hashing for the artifact cache.

vmt_log() { printf 'vm-tests: %s\n' "$*" >&2; }

# vmt_die MESSAGE [RC]: harness errors exit 125 so they never read like a suite result
# (the suite itself exits 0 pass, 1 test failure, 2 suite error).
vmt_die() {
	printf 'vm-tests: ERROR: %s\n' "$1" >&2
	exit "${2:-125}"
}

# Scratch directories of a half-built artifact are removed on any exit, so an interrupted run
# never leaves something the next run could mistake for a cache entry (those are mv'ed into
# place only when complete).
VMT_TMPDIRS=()
vmt_cleanup_tmpdirs() {
	local d
	for d in "${VMT_TMPDIRS[@]}"; do
		[ -d "$d" ] || continue
		# A build interrupted inside a chroot (the systemd image's apt step) may leave its /proc
		# mounted: unmount first, so rm never descends into a live filesystem.
		awk -v d="$d" 'index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
			while read -r m; do umount -l "$m"; done
		rm -rf "$d"
	done
	return 0
}
trap vmt_cleanup_tmpdirs EXIT

# vmt_tmpdir VAR PREFIX: VAR := a new directory PREFIX.XXXXXX, registered for removal at exit
# (sets a variable instead of printing: a $(...) subshell could not register it).
vmt_tmpdir() {
	local d
	mkdir -p "$(dirname "$2")"
	d=$(mktemp -d "$2.XXXXXX") || vmt_die "mktemp -d $2.XXXXXX failed"
	VMT_TMPDIRS+=("$d")
	printf -v "$1" '%s' "$d"
}

# Monotonic-enough wall clock in milliseconds (GNU date).
vmt_now_ms() { date +%s%3N; }

# vmt_strip_vagrant_progress: a filter dropping the progress bars vagrant draws with \r even
# into a pipe or a log file (a box upload makes thousands of them).
vmt_strip_vagrant_progress() { sed -u 's/\r\x1b\[KProgress:[^\r]*//g'; }

# vmt_secs START_MS [END_MS]: the seconds from one vmt_now_ms reading to another (default: now),
# with one decimal, as the timing lines print them.
vmt_secs() { awk -v a="$1" -v b="${2:-$(vmt_now_ms)}" 'BEGIN {printf "%.1f", (b - a) / 1000}'; }

# vmt_hash FILE...: one sha256 over the names and contents of the inputs; the cache key of an
# artifact built from them (a changed binary or init script gives a new initramfs).
vmt_hash() {
	local f
	for f in "$@"; do
		# Repository files by their path in the repository: two checkouts share a cache entry.
		printf '%s\n' "${f#"${VMT_ROOT:-}"/}"
		sha256sum <"$f"
	done | sha256sum | cut -c1-16
}

# vmt_require_cmd CMD...: fail early, naming the Debian package, instead of half-way through.
vmt_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || vmt_die "'$c' not found (apt-get install ${VMT_PKG_HINT[$c]:-$c})"
	done
}

declare -gA VMT_PKG_HINT=(
	[qemu-system-x86_64]=qemu-system-x86
	[busybox]=busybox-static
	[xz]=xz-utils
	[dpkg]=dpkg
	[apt-get]=apt
	[gzip]=gzip
	[timeout]=coreutils
	[ldd]=libc-bin
	[debootstrap]=debootstrap
)
