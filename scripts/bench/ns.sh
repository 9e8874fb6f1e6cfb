#!/bin/sh
# scripts/bench/ns.sh ARGV...: run ARGV in a private mount namespace of its own. On a cgroup v1
# hybrid host the empty cgroup2 at /sys/fs/cgroup/unified is unmounted there (crun 1.8 refuses
# the hybrid layout; every runtime is measured in the same namespace), never on the host.
set -eu
if [ -z "${BENCH_IN_NS:-}" ]; then
	BENCH_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && grep -q ' /sys/fs/cgroup/unified ' /proc/self/mounts; then
	umount /sys/fs/cgroup/unified
fi
exec "$@"
