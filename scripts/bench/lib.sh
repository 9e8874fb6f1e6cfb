# shellcheck shell=bash
# Shared by scripts/bench.sh (host) and scripts/bench/vm.sh (cgroup-v2 guest): the tools, the
# bundles and the round counts. Sourced from the repository root.

# bench_tools DIR [static]: compile the launcher and the floor program into DIR (static for
# the guest, which has no compiler and no libc of ours).
bench_tools() {
	local flags=(-O2 -Wall)
	[ "${2:-}" = static ] && flags+=(-static)
	cc "${flags[@]}" -o "$1/launch" scripts/bench/launch.c
	cc "${flags[@]}" -o "$1/floor" scripts/bench/floor.c
}

# bench_configs DIR WORK: the bundles' config.json files into DIR/{bundle,bundle-sleep,
# bundle-binds}, for a rootfs that will be at WORK/rootfs (made by bench_rootfs). runc's own
# `runc spec` config, no terminal; the ambient set is dropped: runc warns and ignores ambient
# caps that are not inheritable, ferrun refuses them (see docs/proof.md).
bench_configs() {
	local dir=$1 work=$2 runc=$3
	mkdir -p "$dir/bundle" "$dir/bundle-sleep" "$dir/bundle-binds"
	"$runc" spec --bundle "$dir/bundle"
	jq --arg root "$work/rootfs" '.process.terminal=false | .process.args=["/bin/true"]
		| del(.process.capabilities.ambient) | .root.path=$root' \
		"$dir/bundle/config.json" >"$dir/bundle/config.json.new"
	mv "$dir/bundle/config.json.new" "$dir/bundle/config.json"
	jq '.process.args=["sleep","3600"]' "$dir/bundle/config.json" >"$dir/bundle-sleep/config.json"
	jq --arg src "$work/bindsrc" '.mounts += [range(200) | {destination: "/mnt/b\(.)",
		type: "bind", source: $src, options: ["rbind", "ro"]}]' \
		"$dir/bundle/config.json" >"$dir/bundle-binds/config.json"
}

# bench_rootfs WORK BUSYBOX: busybox as /bin/{true,sh,sleep}, the 200 bind mountpoints.
bench_rootfs() {
	local r=$1/rootfs i
	mkdir -p "$r/bin" "$r/etc" "$r/proc" "$r/dev" "$r/sys" "$r/tmp" "$1/bindsrc"
	cp "$2" "$r/bin/busybox"
	for i in true sh sleep; do ln -sf busybox "$r/bin/$i"; done
	for i in $(seq 0 199); do mkdir -p "$r/mnt/b$i"; done
}

# bench_rounds full|quick|vm: the round counts collect.sh reads (BENCH_<NAME> overrides each).
bench_rounds() {
	local v
	case "$1" in
	full) set -- 200 40 0.4 500 15 20 100 3 1000 40 ;;
	quick) set -- 20 6 0.4 100 5 3 20 1 1000 5 ;;
	vm) set -- 30 20 0.5 0 0 0 0 0 0 0 ;; # TCG: a `runc run` takes ~2.5 s
	esac
	for v in N NIDLE IDLE_SLEEP NLIST NLIST_ROUNDS NBIND_ROUNDS NPAR NPAR_ROUNDS NMNT NMNT_ROUNDS; do
		local o=BENCH_$v
		export "$v=${!o:-$1}"
		shift
	done
}

# bench_cgroup_mode: v2 (pure unified), hybrid (v1 controllers + a cgroup2 at unified) or v1.
bench_cgroup_mode() {
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		echo v2
	elif grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/self/mounts; then
		echo hybrid
	else
		echo v1
	fi
}
