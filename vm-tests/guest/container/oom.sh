# dd's 128 MiB buffer cannot fit under memory limit 64 MiB: the OOM killer must kill dd (137)
# and count it in the container's own cgroup.
dd if=/dev/zero of=/dev/null bs=128M count=1 2>/dev/null
echo "dd=$?"
if [ "$VMT_CGROUP_MODE" = v2 ]; then f=/sys/fs/cgroup/memory.events; else f=/sys/fs/cgroup/memory/memory.oom_control; fi
while read -r k v; do [ "$k" = oom_kill ] && echo "oom_kill=$v"; done <"$f"
