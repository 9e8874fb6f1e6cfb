#!/usr/bin/env bash
# vm-tests/vagrant/test.sh (`make vagrant-test`): the in-guest suite in the Vagrant machine
# debian12-local, on this host, offline. Builds the box if needed (vm-tests/lib/vagrant-box.sh)
# and adds it to a private VAGRANT_HOME (target/vagrant/home; ~/.vagrant.d is not touched),
# stages the prebuilt binaries for the synced folder, then, inside a network namespace made for
# this run: a private libvirtd (its config, state, sockets and storage pool bind-mounted from
# target/vagrant/run in the mount namespace `ip netns exec` gives it), `vagrant up --provider
# libvirt` (qemu TCG), the suite as provisioner, the reports fetched into
# target/vm-tests/vagrant-debian12-local/, `vagrant destroy`. The management network (a libvirt
# bridge on 192.168.121.0/24 with its dnsmasq) and every iptables rule libvirt adds live in that
# namespace; the namespace, the daemons and every file of the run are removed on any exit,
# Ctrl-C included. Only the box stays cached.
#
# Exit: the suite's status (0 pass, 1 failures, 2 suite error); 125 for a harness error.
# Environment: VMT_FERRUN VMT_OCI_CONFORM VMT_OCI_PROBE VMT_OCI_SECCOMP_AGENT (binaries, as for
# vm-tests/run.sh), VMT_SUITE_ARGS VMT_SMOKE_RUNTIMES VMT_CONFORM_RUNTIMES VMT_JOBS VMT_SCENARIOS
# (passed to the guest's suite), VMT_MEM VMT_SMP, VMT_CACHE (where the box is cached),
# VMT_VAGRANT_TIMEOUT (seconds for the whole up + suite, default 3600; a guest that has not
# finished by then is examined, vm-tests/vagrant/run.sh), VMT_VAGRANT_ATTEMPTS (default 1: how
# many fresh machines a run without a suite verdict, exit 124 or 125, may take).
set -euo pipefail
VMT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=vm-tests/lib/common.sh
. "$VMT_ROOT/vm-tests/lib/common.sh"
# shellcheck source=vm-tests/lib/kernel.sh
. "$VMT_ROOT/vm-tests/lib/kernel.sh"
# shellcheck source=vm-tests/lib/initramfs.sh
. "$VMT_ROOT/vm-tests/lib/initramfs.sh"
# shellcheck source=vm-tests/lib/bins.sh
. "$VMT_ROOT/vm-tests/lib/bins.sh"
# shellcheck source=vm-tests/lib/systemd-image.sh
. "$VMT_ROOT/vm-tests/lib/systemd-image.sh"
# shellcheck source=vm-tests/lib/vagrant-box.sh
. "$VMT_ROOT/vm-tests/lib/vagrant-box.sh"

M=debian12-local
VD=$VMT_ROOT/target/vagrant
RUN=$VD/run
OUT=$VMT_ROOT/target/vm-tests/vagrant-$M
VMT_CACHE=${VMT_CACHE:-$VMT_ROOT/target/vm-cache}
# libvirtd's directories (system mode: compiled in); each gets a private bind mount.
LIBVIRT_DIRS="/etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt"
export VAGRANT_HOME=$VD/home VAGRANT_DOTFILE_PATH=$RUN/dotfile VAGRANT_CHECKPOINT_DISABLE=1 \
	VAGRANT_BOX_UPDATE_CHECK_DISABLE=1 VAGRANT_DEFAULT_PROVIDER=libvirt \
	LIBVIRT_DEFAULT_URI=qemu:///system VMT_VAGRANT_BINS=$VD/bin VMT_VAGRANT_POOL=$RUN/pool \
	VMT_VAGRANT_SERIAL=$RUN/serial.log
VMT_PKG_HINT+=([vagrant]=vagrant [libvirtd]=libvirt-daemon [virsh]=libvirt-clients
	[qemu-img]=qemu-utils [rsync]=rsync [dnsmasq]=dnsmasq-base [ip]=iproute2)

# --- inside the namespace ---------------------------------------------------------------
LIBVIRTD_PID="" RUNNER=""
# stop_runner RC: on Ctrl-C or TERM, vagrant gets a Ctrl-C of its own and 60 s to stop its
# action (it holds the machine's lock, which `vagrant destroy` needs), then SIGKILL.
stop_runner() {
	local i
	if [ -n "$RUNNER" ]; then
		kill -INT -- "-$RUNNER" 2>/dev/null
		for i in $(seq 120); do kill -0 "$RUNNER" 2>/dev/null || break; sleep 0.5; done
		kill -KILL -- "-$RUNNER" 2>/dev/null
	fi
	exit "$1"
}
inner_cleanup() {
	local rc=$? i
	set +e
	vmt_log "destroying $M"
	timeout 180 vagrant destroy -f "$M" >&2
	# vagrant-libvirt keeps the management network while the daemon runs; the pool too.
	for n in $(virsh net-list --all --name 2>/dev/null); do
		virsh net-destroy "$n" >/dev/null 2>&1
	done
	virsh pool-destroy default >/dev/null 2>&1
	if [ -n "$LIBVIRTD_PID" ]; then
		kill "$LIBVIRTD_PID" 2>/dev/null
		for i in $(seq 50); do kill -0 "$LIBVIRTD_PID" 2>/dev/null || break; sleep 0.2; done
	fi
	cp "$VMT_VAGRANT_SERIAL" "$OUT/serial.log" 2>/dev/null
	exit "$rc"
}

libvirt_config() {
	local etc=$1
	mkdir -p "$etc"
	# Root only, through the socket's mode: no polkit (there is no polkitd here).
	cat >"$etc/libvirtd.conf" <<-CONF
		unix_sock_rw_perms = "0700"
		auth_unix_ro = "none"
		auth_unix_rw = "none"
	CONF
	# qemu as root without relabelling or chowning the box's files (they live under target/);
	# its console and log go to files, so no virtlogd is needed.
	cat >"$etc/qemu.conf" <<-CONF
		user = "root"
		group = "root"
		dynamic_ownership = 0
		remember_owner = 0
		security_driver = "none"
		stdio_handler = "file"
	CONF
}

# run_machine: vm-tests/vagrant/run.sh under a deadline VMT_VAGRANT_TIMEOUT seconds away. run.sh
# holds up + suite to it itself, then fetches the results or examines the guest (about 2 minutes
# at most); the timeout here is the backstop should it not return. In a session of its own, so
# that a Ctrl-C reaches it through stop_runner only, and `wait` (unlike a foreground command)
# lets the trap run at once.
run_machine() {
	local secs=${VMT_VAGRANT_TIMEOUT:-3600} rc=0
	VMT_VAGRANT_DEADLINE=$(($(date +%s) + secs)) VMT_VAGRANT_PROVIDER=libvirt \
		setsid timeout --kill-after=30 $((secs + 300)) "$VMT_ROOT/vm-tests/vagrant/run.sh" "$M" &
	RUNNER=$!
	wait "$RUNNER" || rc=$?
	RUNNER=""
	return "$rc"
}

# vcpu_state: where qemu's vCPUs are (the guest cannot say once it stops answering), as
# "CPU#0 RIP=... RFL=..." per vCPU. A wedged guest showed both vCPUs in the kernel with
# interrupts off (RFL without 0x200), one at the same RIP in every sample.
vcpu_state() {
	local dom
	dom=$(virsh list --name 2>/dev/null | head -n 1)
	[ -n "$dom" ] || { echo "no running domain"; return 0; }
	virsh qemu-monitor-command --hmp "$dom" "info registers -a" 2>/dev/null |
		awk '/^CPU#/ {cpu = $1} /^RIP=/ {printf "%s %s %s; ", cpu, $1, $2}'
}

inner() {
	local d i rc=0
	# `ip netns exec` put us into the namespace and a mount namespace of our own (its mounts are
	# slaves of the host's: nothing mounted here shows there).
	[ "$(ip netns identify $$)" = "${VMT_VAGRANT_NS:?}" ] || vmt_die "not inside network namespace $VMT_VAGRANT_NS"
	ip link set lo up
	libvirt_config "$RUN/etc/libvirt"
	# libvirtd resolves its compiled-in qemu user (libvirt-qemu, which libvirt-daemon-system would
	# create) even when qemu.conf says root: the namespace's own passwd and group name it, so
	# the host's stay as they are.
	if ! getent passwd libvirt-qemu >/dev/null; then
		{ cat /etc/passwd; echo 'libvirt-qemu:x:64055:64055:libvirt qemu:/var/lib/libvirt:/usr/sbin/nologin'; } >"$RUN/passwd"
		{ cat /etc/group; echo 'libvirt-qemu:x:64055:'; } >"$RUN/group"
		mount --bind "$RUN/passwd" /etc/passwd || vmt_die "mount --bind $RUN/passwd /etc/passwd failed"
		mount --bind "$RUN/group" /etc/group || vmt_die "mount --bind $RUN/group /etc/group failed"
	fi
	for d in $LIBVIRT_DIRS; do
		mkdir -p "$RUN$d"
		mount --bind "$RUN$d" "$d" || vmt_die "mount --bind $RUN$d $d failed"
	done
	mkdir -p "$VMT_VAGRANT_POOL" "$RUN/tmp"
	# Scratch files of vagrant (its rsync ssh control socket), libvirtd and qemu: removed with
	# the run, not left in /tmp.
	export TMPDIR=$RUN/tmp
	trap inner_cleanup EXIT
	trap 'stop_runner 130' INT
	trap 'stop_runner 143' TERM
	# Its own HOME and runtime dir too: what libvirtd and qemu write there (e.g. a sound
	# library's runtime files) goes away with the run.
	mkdir -p "$RUN/home" "$RUN/xdg"
	HOME=$RUN/home XDG_RUNTIME_DIR=$RUN/xdg libvirtd -d -p /run/libvirt/libvirtd.pid ||
		vmt_die "libvirtd did not start"
	# Its socket appears before its drivers are up (and goes again if one fails): ask it.
	for i in $(seq 60); do
		virsh version >/dev/null 2>&1 && break
		sleep 0.5
	done
	# (A daemon that is gone by now is killed with the namespace.)
	LIBVIRTD_PID=$(cat /run/libvirt/libvirtd.pid 2>/dev/null || true)
	virsh version >/dev/null || vmt_die "libvirtd (pid ${LIBVIRTD_PID:-?}) does not answer on /run/libvirt/libvirt-sock"
	cd "$VMT_ROOT"
	local attempt=1 note
	while :; do
		rc=0
		run_machine || rc=$?
		note=""
		case "$rc" in
		124 | 125)
			[ -s "$OUT/postmortem" ] || vmt_log "vm-tests/vagrant/run.sh gave no result (exit $rc)"
			note="; $(cat "$OUT/postmortem" 2>/dev/null || true); vCPUs: $(vcpu_state)"
			;;
		esac
		echo "attempt $attempt: exit $rc$note" >>"$RUN/attempts"
		# 124 and 125: the guest gave no verdict (a boot that failed, a guest that stopped
		# answering). That says nothing about the runtimes, so a fresh machine gets another try
		# when VMT_VAGRANT_ATTEMPTS allows; a verdict (0, 1, 2) is never retried.
		case "$rc" in 124 | 125) ;; *) break ;; esac
		[ "$attempt" -lt "${VMT_VAGRANT_ATTEMPTS:-1}" ] || break
		attempt=$((attempt + 1))
		vmt_log "no suite result from $M (exit $rc): destroying it, attempt $attempt on a fresh machine"
		timeout 180 vagrant destroy -f "$M" >&2 || true
	done
	t_destroy=$(vmt_now_ms)
	# inner_cleanup destroys; its time goes into the summary the outer part prints.
	echo "$t_destroy" >"$RUN/t_destroy"
	return "$rc"
}

if [ "${1:-}" = --in-netns ]; then
	rc=0
	inner || rc=$?
	exit "$rc"
fi

# --- on the host ------------------------------------------------------------------------
vmt_require_cmd vagrant libvirtd virsh qemu-img rsync dnsmasq ip qemu-system-x86_64
vagrant plugin list 2>/dev/null | grep -q '^vagrant-libvirt ' ||
	vmt_die "the vagrant-libvirt plugin is missing (apt-get install vagrant-libvirt)"
NS=ferrun-vagrant-$$
CREATED_DIRS="" NETNS_MOUNTED=1
outer_cleanup() {
	local rc=$? p d
	set +e
	vmt_cleanup_tmpdirs
	if ip netns list | grep -qw "$NS"; then
		# Whatever the inner part could not stop (qemu, dnsmasq, a stuck libvirtd): ours by
		# construction, since everything in this namespace was started by this run.
		for p in $(ip netns pids "$NS"); do kill "$p" 2>/dev/null; done
		sleep 1
		for p in $(ip netns pids "$NS"); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$NS"
	fi
	# The first `ip netns add` on a host makes /run/netns a mount point; put it back as it was
	# when no other namespace is there (a mount this run added is a leftover).
	if [ "$NETNS_MOUNTED" = 0 ] && mountpoint -q /run/netns && [ -z "$(ls -A /run/netns)" ]; then
		umount /run/netns
	fi
	rm -rf "$RUN"
	for d in $CREATED_DIRS; do rmdir "$d" 2>/dev/null; done
	exit "$rc"
}
trap outer_cleanup EXIT
# Bash runs these once the foreground command (the inner part, which cleans up first) returns.
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(vmt_now_ms)
vmt_vagrant_box_prepare
t_box=$(vmt_now_ms)
if [ "$(cat "$VAGRANT_HOME/ferrun-box.key" 2>/dev/null)" != "$VMT_BOX_KEY" ] ||
	! vagrant box list 2>/dev/null | grep -q "^$VMT_BOX_NAME "; then
	vmt_log "vagrant box add $VMT_BOX_NAME (VAGRANT_HOME=$VAGRANT_HOME)"
	vagrant box add --force --name "$VMT_BOX_NAME" "$VMT_BOX" 2>&1 | vmt_strip_vagrant_progress >&2 ||
		vmt_die "vagrant box add failed"
	echo "$VMT_BOX_KEY" >"$VAGRANT_HOME/ferrun-box.key"
fi
t_add=$(vmt_now_ms)

# The binaries under test, for the synced folder: the shipped static ferrun when it is built.
ferrun=$VMT_ROOT/target/static/x86_64-unknown-linux-gnu/release/ferrun
[ -x "$ferrun" ] || ferrun=$(vmt_find_in_target ferrun)
vmt_bin_add ferrun VMT_FERRUN "$ferrun" 1
vmt_bin_add oci-conform VMT_OCI_CONFORM "$(vmt_find_in_target oci-conform)" 1
vmt_bin_add oci-seccomp-agent VMT_OCI_SECCOMP_AGENT "$(vmt_find_in_target oci-seccomp-agent)" 0
vmt_bin_add oci-probe VMT_OCI_PROBE "$(vmt_find_in_target oci-probe static)" 1
rm -rf "$VMT_VAGRANT_BINS"
mkdir -p "$VMT_VAGRANT_BINS"
for n in "${!VMT_BINS[@]}"; do
	cp -L "${VMT_BINS[$n]}" "$VMT_VAGRANT_BINS/$n"
	vmt_log "guest binary $n: ${VMT_BINS[$n]}"
done

rm -rf "$RUN" "$OUT"
mkdir -p "$RUN" "$OUT"
for d in $LIBVIRT_DIRS; do
	[ -d "$d" ] || { mkdir -p "$d"; CREATED_DIRS="$d $CREATED_DIRS"; }
done
NETNS_MOUNTED=0
mountpoint -q /run/netns && NETNS_MOUNTED=1
[ -d /run/netns ] || CREATED_DIRS="/run/netns $CREATED_DIRS"
ip netns add "$NS" || vmt_die "ip netns add $NS failed"
rc=0
VMT_VAGRANT_NS=$NS ip netns exec "$NS" "$VMT_ROOT/vm-tests/vagrant/test.sh" --in-netns || rc=$?
t_end=$(vmt_now_ms)
if [ -s "$OUT/vagrant.times" ]; then
	# shellcheck source=/dev/null
	. "$OUT/vagrant.times"
	{
		printf 'box_s=%s\nbox_add_s=%s\n' "$(vmt_secs "$t0" "$t_box")" "$(vmt_secs "$t_box" "$t_add")"
		[ -s "$RUN/t_destroy" ] && printf 'destroy_s=%s\n' "$(vmt_secs "$(cat "$RUN/t_destroy")" "$t_end")"
		printf 'total_s=%s\n' "$(vmt_secs "$t0" "$t_end")"
	} >>"$OUT/vagrant.times"
	vmt_log "vagrant $M: rc=$rc, $(tr '\n' ' ' <"$OUT/vagrant.times")"
fi
# Last, so that the tail of a CI log says why the suite gave no result.
if [ -s "$RUN/attempts" ] && { [ "$rc" != 0 ] || [ "$(wc -l <"$RUN/attempts")" -gt 1 ]; }; then
	sed "s/^/vm-tests: $M: /" "$RUN/attempts" >&2
fi
exit "$rc"
