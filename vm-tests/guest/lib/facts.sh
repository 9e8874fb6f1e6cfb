# What this machine is and where the binaries are. POSIX sh.
# Sets: CGROUP_MODE (v2|hybrid|v1), ROOTLESS (0|1), REQUIRE_APPARMOR (0|1).

cgroup_mode() {
	if grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts; then
		echo v2
	elif grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/mounts; then
		echo hybrid
	else
		echo v1
	fi
}

apparmor_state() { cat /sys/module/apparmor/parameters/enabled 2>/dev/null || echo absent; }

describe_machine() {
	CGROUP_MODE=$(cgroup_mode)
	ROOTLESS=0
	[ "$(id -u)" = 0 ] || ROOTLESS=1
	REQUIRE_APPARMOR=0
	[ "$VMT_PROFILE" = apparmor ] && REQUIRE_APPARMOR=1
	echo "--- machine: profile=$VMT_PROFILE kernel=$(uname -r) cgroup=$CGROUP_MODE euid=$(id -u) apparmor=$(apparmor_state) cpus=$(nproc)"
	if [ "$CGROUP_MODE" = v2 ]; then
		echo "--- cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
	else
		echo "--- cgroup v1 hierarchies: $(grep ' cgroup ' /proc/mounts | awk '{print $2}' | tr '\n' ' ')"
	fi
	describe_criu
	describe_selinux
}

# SELinux as oci-conform sees it (`requires: {selinux: true}`): selinuxfs mounted and a policy
# loaded (a task label other than `kernel`).
selinux_state() {
	if [ ! -e /sys/fs/selinux/enforce ]; then
		echo absent
	elif [ "$(tr -d '\0' </proc/self/attr/current 2>/dev/null)" = kernel ]; then
		echo no-policy
	elif [ "$(cat /sys/fs/selinux/enforce)" = 1 ]; then
		echo enforcing
	else
		echo permissive
	fi
}

describe_selinux() {
	echo "--- selinux: $(selinux_state) (our label: $(tr -d '\0' </proc/self/attr/current 2>/dev/null || echo none))"
}

# The selinux profile exists to run the SELinux scenarios: without a loaded policy they would
# all SKIP, which must not read as a pass.
check_selinux() {
	[ "$VMT_PROFILE" = selinux ] || return 0
	case "$(selinux_state)" in
	enforcing | permissive) return 0 ;;
	*) echo "ERROR: profile selinux, but SELinux is $(selinux_state)"; return 1 ;;
	esac
}

# criu's own verdict, as oci-conform's host facts see it (`requires: {criu: works}`): its last
# lines when `criu check` fails, so a SKIP of the checkpoint scenarios has a visible cause.
describe_criu() {
	command -v criu >/dev/null 2>&1 || { echo "--- criu: absent"; return 0; }
	if out=$(criu check 2>&1); then
		echo "--- criu: $(criu --version | sed -n 's/^Version: //p'): check ok"
	else
		echo "--- criu: check FAILED:"
		printf '%s\n' "$out" | tail -n 8 | sed 's/^/    /'
	fi
}

# AppArmor profiles the smoke test attaches; loaded only where AppArmor is on and we are root.
# A failure to load counts as a suite error (the apparmor check then fails, not skips).
load_apparmor_profiles() {
	[ "$(apparmor_state)" = Y ] || return 0
	[ "$ROOTLESS" = 0 ] || return 0
	if ! command -v apparmor_parser >/dev/null 2>&1; then
		echo "SKIP: AppArmor is on but apparmor_parser is missing: profiles not loaded"
		[ "$REQUIRE_APPARMOR" = 1 ] && return 1
		return 0
	fi
	for p in "$SUITE_DIR"/apparmor/*; do
		if ! apparmor_parser -r "$p"; then
			echo "ERROR: apparmor_parser -r $p failed"
			return 1
		fi
		echo "--- apparmor: loaded $(basename "$p")"
	done
}

# find_bin NAME: VMT_<NAME> if set (empty = absent), else PATH, else (outside the vm-tests
# initramfs, e.g. Vagrant) the newest target/{debug,release}/NAME of the source tree.
find_bin() {
	_var=VMT_$(echo "$1" | tr 'a-z-' 'A-Z_')
	eval "_set=\${$_var+x} _val=\${$_var:-}"
	if [ -n "$_set" ]; then
		[ -n "$_val" ] && [ -x "$_val" ] && { echo "$_val"; return 0; }
		return 1
	fi
	command -v "$1" 2>/dev/null && return 0
	[ -e /opt/vmt/manifest ] && return 1
	# shellcheck disable=SC2012 # names are ours, newest first is what ls -t is for
	_p=$(ls -1t "$VMT_SRC"/target/*/release/"$1" "$VMT_SRC"/target/*/debug/"$1" \
		"$VMT_SRC"/target/release/"$1" "$VMT_SRC"/target/debug/"$1" 2>/dev/null | head -1)
	[ -n "$_p" ] && echo "$_p"
}

find_busybox() {
	for b in "${VMT_BUSYBOX:-}" /bin/busybox /usr/bin/busybox /usr/sbin/busybox; do
		[ -n "$b" ] && [ -x "$b" ] && { echo "$b"; return 0; }
	done
	return 1
}

runtime_version() { "$1" --version 2>/dev/null | head -1 | tr -d '"\134'; }

# write_summary FILE CONFORM_RC
write_summary() {
	{
		printf '{\n  "profile": "%s",\n  "kernel": "%s",\n  "cgroup": "%s",\n' "$VMT_PROFILE" "$(uname -r)" "$CGROUP_MODE"
		printf '  "apparmor": "%s",\n  "rootless": %s,\n  "runtimes": {' "$(apparmor_state)" "$([ "$ROOTLESS" = 1 ] && echo true || echo false)"
		_sep=""
		for _n in runc crun ferrun oci-conform; do
			_b=$(find_bin "$_n") || continue
			printf '%s\n    "%s": {"path": "%s", "version": "%s"}' "$_sep" "$_n" "$_b" "$(runtime_version "$_b")"
			_sep=","
		done
		printf '\n  },\n  "smoke": {"pass": %s, "fail": %s, "skip": %s},\n' \
			"$(count_status pass)" "$(count_status fail)" "$(count_status skip)"
		printf '  "oci_conform_rc": %s,\n  "rc": %s\n}\n' "$2" "$SUITE_RC"
	} >"$1"
}
