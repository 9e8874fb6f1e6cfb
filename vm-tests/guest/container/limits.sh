# Print the limits the container sees (key=value); the suite compares them with config.json.
# v2 with a cgroup namespace: the container's own cgroup is / and its files are at the top.
# v1 (no cgroup namespace): runc bind-mounts the container's cgroup of each hierarchy.
if [ "$VMT_CGROUP_MODE" = v2 ]; then
	for f in memory.max pids.max cpu.max; do echo "$f=$(cat /sys/fs/cgroup/$f)"; done
	echo "cgroup=$(cat /proc/self/cgroup)"
else
	echo "memory.limit_in_bytes=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
	echo "pids.max=$(cat /sys/fs/cgroup/pids/pids.max)"
	echo "cpu.cfs_quota_us=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"
	echo "cpu.cfs_period_us=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"
fi
