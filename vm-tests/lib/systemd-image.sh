# shellcheck shell=bash
# The systemd profile's root disk: Debian bookworm (minbase + systemd + runc/crun) made with
# debootstrap from the mirror apt uses, vm-tests/systemd/* installed, packed into a raw ext4
# image with `mkfs.ext4 -d` (no loop device, no root partition table: the initramfs mounts
# /dev/vda directly). Built once (~4 min) and cached as $VMT_CACHE/systemd/<hash>.img; the
# VM opens it with snapshot=on, so runs never change it. Sets: VMT_DISK.

VMT_SYSTEMD_PKGS=systemd,systemd-sysv,dbus,kmod,iproute2,procps,runc,crun,busybox-static
# podman, criu and the iptables criu runs to dump a network namespace: podman's
# checkpoint/restore through each runtime (scripts/clients/podman-checkpoint.sh). Installed
# with apt in a second step: debootstrap's own ordering fails to configure
# golang-github-containers-common.
VMT_SYSTEMD_APT_PKGS="podman criu iptables"

# The first Debian mirror apt is configured with (deb822 or one-line format).
vmt_debian_mirror() {
	if [ -n "${VMT_DEBIAN_MIRROR:-}" ]; then
		printf '%s\n' "$VMT_DEBIAN_MIRROR"
		return
	fi
	{
		grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
		grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'
	} | grep -v security | head -1 || true # a missing sources file is not an error here
}

vmt_systemd_image_prepare() {
	local key img root
	vmt_require_cmd debootstrap mkfs.ext4
	key=$(vmt_hash "$VMT_ROOT/vm-tests/lib/systemd-image.sh" "$VMT_ROOT"/vm-tests/systemd/*)
	img=$VMT_CACHE/systemd/bookworm-$key.img
	if [ ! -s "$img" ]; then
		vmt_tmpdir root "$VMT_CACHE/systemd/root"
		vmt_debian_root "$root"
		vmt_systemd_configure "$root"
		mkfs.ext4 -q -F -L vmtroot -d "$root" "$img.tmp" 2G >/dev/null || vmt_die "mkfs.ext4 -d $root failed"
		mv "$img.tmp" "$img"
		# One image is enough: older ones (a changed builder) are 2 GB sparse files each.
		find "$VMT_CACHE/systemd" -maxdepth 1 -name 'bookworm-*.img' ! -path "$img" -delete
	fi
	VMT_DISK=$img
}

# vmt_debian_root ROOT [APT_PKG...]: the image's Debian bookworm tree in ROOT, shared by the
# systemd, selinux and Vagrant images: debootstrap minbase with VMT_SYSTEMD_PKGS, then apt-get
# install of VMT_SYSTEMD_APT_PKGS and the caller's APT_PKGs. Output goes to ROOT.log, which is
# removed on success and named when a step fails.
vmt_debian_root() {
	local root=$1 mirror
	shift
	mirror=$(vmt_debian_mirror)
	[ -n "$mirror" ] || vmt_die "no Debian mirror in the apt sources (set VMT_DEBIAN_MIRROR)"
	vmt_log "debootstrap bookworm from $mirror (a few minutes, once)"
	debootstrap --variant=minbase --include="$VMT_SYSTEMD_PKGS" bookworm "$root" "$mirror" \
		>"$root.log" 2>&1 || vmt_die "debootstrap failed: see $root.log"
	VMT_SYSTEMD_APT_PKGS="$VMT_SYSTEMD_APT_PKGS $*" vmt_systemd_apt_install "$root" >>"$root.log" 2>&1 ||
		vmt_die "apt-get install $VMT_SYSTEMD_APT_PKGS $* in the image failed: see $root.log"
	rm -f "$root.log"
}

# vmt_systemd_apt_install ROOT: apt-get install the second-step packages inside ROOT, with the
# host's resolver and a /proc that is unmounted whatever happens.
vmt_systemd_apt_install() {
	local r=$1 rc=0
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	mount -t proc proc "$r/proc" || return 1
	# shellcheck disable=SC2086 # a list of package names on purpose
	DEBIAN_FRONTEND=noninteractive chroot "$r" apt-get install -y --no-install-recommends \
		$VMT_SYSTEMD_APT_PKGS || rc=$?
	umount "$r/proc"
	: >"$r/etc/resolv.conf"
	return "$rc"
}

vmt_systemd_configure() {
	local r=$1
	echo vmtest >"$r/etc/hostname"
	: >"$r/etc/fstab"
	install -m 0755 "$VMT_ROOT/vm-tests/systemd/vmt-runner" "$r/usr/local/sbin/vmt-runner"
	install -m 0644 "$VMT_ROOT/vm-tests/systemd/vmt-runner.service" "$r/etc/systemd/system/"
	ln -sf /etc/systemd/system/vmt-runner.service "$r/etc/systemd/system/multi-user.target.wants/"
	# Nothing on the console but the suite: no login prompt racing the runner's output.
	ln -sf /dev/null "$r/etc/systemd/system/serial-getty@ttyS0.service"
	ln -sf /dev/null "$r/etc/systemd/system/getty@tty1.service"
	rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
}
