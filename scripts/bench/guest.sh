#!/bin/sh
# scripts/bench/guest.sh: the bench in the vm-tests guest. scripts/bench/vm.sh boots the guest
# with a copy of vm-tests whose guest/suite.sh is this file, so the guest's /init runs it from
# the 9p share (/mnt/src) instead of the conformance suite. It measures the per-container
# figures (collect.sh: run idle life exec) for the runtimes the image carries, writes the raw
# records to VMT_OUT/raw.tsv (the host makes the tables) and exits 0, or 2 if it could not run.
set -u
SRC=$VMT_SRC
set -a # N NIDLE IDLE_SLEEP PREFIX, written by vm.sh, for collect.sh
# shellcheck source=/dev/null
. "$SRC/bench/env"
set +a
export W=/tmp/fbench # the path vm.sh wrote into the bundles' root.path
export L=$W/launch FLOOR=$W/floor RAW=$W/raw.tsv
mkdir -p "$W/rootfs/bin" "$W/rootfs/etc" "$W/rootfs/proc" "$W/rootfs/dev" "$W/rootfs/sys" "$W/rootfs/tmp" "$W/bindsrc"
cp -r "$SRC/bench/bundle" "$SRC/bench/bundle-sleep" "$SRC/bench/bundle-binds" "$W/"
cp "$SRC/bench/launch" "$SRC/bench/floor" "$W/"
cp /bin/busybox "$W/rootfs/bin/busybox"
for b in true sh sleep; do ln -s busybox "$W/rootfs/bin/$b"; done
RUNTIMES=""
for n in ferrun crun runc youki; do
	[ -x "/opt/vmt/bin/$n" ] && RUNTIMES="$RUNTIMES $n=/opt/vmt/bin/$n"
done
export RUNTIMES
cg=v1
grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts && cg=v2
{
	echo "#meta where vm-tests guest, profile ${VMT_PROFILE:-?} ($cg cgroups; TCG: ratios only)"
	echo "#meta cgroup $cg"
	echo "#meta kernel $(uname -r)"
	for rt in $RUNTIMES; do
		echo "#meta ${rt%%=*} $("${rt#*=}" --version 2>/dev/null | head -n 1)"
	done
	echo "#meta cpus $(nproc)"
	for v in N NIDLE IDLE_SLEEP; do eval "echo \"#meta $v \$$v\""; done
} >"$RAW"
echo "bench: in the guest: $RUNTIMES, $N rounds, $NIDLE idle rounds"
start=$(cut -d. -f1 /proc/uptime)
"$L" -R -t 3000 -- /bin/sh "$SRC/scripts/bench/collect.sh" run idle life exec
rc=$?
echo "#meta duration $(($(cut -d. -f1 /proc/uptime) - start)) s (guest)" >>"$RAW"
cp "$RAW" "$VMT_OUT/raw.tsv"
[ "$rc" = 0 ] || exit 2
