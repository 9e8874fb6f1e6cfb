# Fork past pids.max in a subshell (a failed fork may end a non-interactive shell), then read
# the counters with builtins only: at the limit, $(cat ...) could not fork either.
d=/sys/fs/cgroup
[ "$VMT_CGROUP_MODE" = v2 ] || d=/sys/fs/cgroup/pids
(
	i=0
	while [ $i -lt 16 ]; do
		sleep 60 &
		i=$((i + 1))
	done
) 2>/dev/null
read -r cur <"$d/pids.current"
ev=none
while read -r k v; do [ "$k" = max ] && ev=$v; done <"$d/pids.events"
echo "current=$cur"
echo "max_events=$ev"
