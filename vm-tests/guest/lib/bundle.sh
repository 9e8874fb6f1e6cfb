# Smoke-test bundles: one read-only busybox rootfs shared by every container, one bundle
# directory (config.json only) per container. POSIX sh.
# Needs: WORK, CG_PARENT (a cgroup name unique to this run), BUSYBOX (a static busybox), CGROUP_MODE (v2|v1|hybrid), ROOTLESS (0|1).

# The container-side scripts live in the rootfs (/vmt/*.sh), so config.json args stay simple.
make_rootfs() {
	ROOTFS=$WORK/rootfs
	mkdir -p "$ROOTFS/bin" "$ROOTFS/proc" "$ROOTFS/dev" "$ROOTFS/sys" "$ROOTFS/tmp" \
		"$ROOTFS/etc" "$ROOTFS/root" "$ROOTFS/vmt"
	cp "$BUSYBOX" "$ROOTFS/bin/busybox"
	for a in sh cat echo sleep dd awk grep head id true; do ln -sf busybox "$ROOTFS/bin/$a"; done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOTFS/etc/passwd"
	echo 'root:x:0:' >"$ROOTFS/etc/group"
	echo secret >"$ROOTFS/etc/vmt-secret"
	echo public >"$ROOTFS/etc/vmt-public"
	cp "$SUITE_DIR"/container/*.sh "$ROOTFS/vmt/"
}

# smoke_namespaces: pid/ipc/uts/mount/network always; cgroup on v2 (the container then sees
# its own cgroup as / and its limits at /sys/fs/cgroup/*.max); user when rootless.
smoke_namespaces() {
	printf '{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"network"}'
	[ "$CGROUP_MODE" = v2 ] && printf ',{"type":"cgroup"}'
	[ "$ROOTLESS" = 1 ] && printf ',{"type":"user"}'
	return 0
}

smoke_mounts() {
	printf '{"destination":"/proc","type":"proc","source":"proc"},'
	printf '{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},'
	printf '{"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},'
	printf '{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","mode=1777"]},'
	if [ "$ROOTLESS" = 1 ]; then
		# As `runc spec --rootless`: no gid= on devpts, sysfs by bind, no cgroup mount.
		printf '{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},'
		printf '{"destination":"/sys","type":"none","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]}'
	else
		printf '{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},'
		printf '{"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},'
		printf '{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]}'
	fi
}

# make_bundle ID SCRIPT [RESOURCES_JSON] [APPARMOR_PROFILE] [CGROUPS_PATH]: bundle dir
# $WORK/b/ID whose process runs /vmt/SCRIPT; with RESOURCES_JSON, cgroupsPath is CGROUPS_PATH
# or /$CG_PARENT/ID.
make_bundle() {
	_id=$1 _script=$2 _res=${3:-} _aa=${4:-} _cgpath=${5:-/$CG_PARENT/$1}
	_dir=$WORK/b/$_id
	mkdir -p "$_dir"
	_proc_extra="" _linux_extra=""
	[ -n "$_aa" ] && _proc_extra=",\"apparmorProfile\":\"$_aa\""
	if [ -n "$_res" ]; then
		_linux_extra=",\"cgroupsPath\":\"$_cgpath\",\"resources\":$_res"
	fi
	if [ "$ROOTLESS" = 1 ]; then
		_linux_extra="$_linux_extra,\"uidMappings\":[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1}]"
		_linux_extra="$_linux_extra,\"gidMappings\":[{\"containerID\":0,\"hostID\":$(id -g),\"size\":1}]"
	fi
	_caps='"CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"'
	cat >"$_dir/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/sh", "/vmt/$_script"],
    "env": ["PATH=/bin", "HOME=/root", "VMT_CGROUP_MODE=$CGROUP_MODE"],
    "cwd": "/",
    "capabilities": {"bounding": [$_caps], "effective": [$_caps], "permitted": [$_caps]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true$_proc_extra
  },
  "root": {"path": "$ROOTFS", "readonly": true},
  "hostname": "vmt-smoke",
  "mounts": [$(smoke_mounts)],
  "linux": {
    "namespaces": [$(smoke_namespaces)],
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]$_linux_extra
  }
}
JSON
	BUNDLE=$_dir
}
