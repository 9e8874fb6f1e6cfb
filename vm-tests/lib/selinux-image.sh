# shellcheck shell=bash
# The selinux profile's root disk: the systemd profile's Debian bookworm image (the same
# debootstrap and wiring, through vm-tests/lib/systemd-image.sh's helpers) plus Debian's
# reference policy (selinux-policy-default) and its tools, labelled at build time. The image
# is built on a host without SELinux, so `setfiles` runs in the chroot against the policy
# file (-c) and writes the security.selinux xattrs, which `mkfs.ext4 -d` copies into the
# image; the build checks that they arrived. Booted with `security=selinux`, systemd loads the
# policy from /etc/selinux/config (permissive) before it starts anything, so no first-boot
# relabel (and reboot) is needed. Cached as $VMT_CACHE/selinux/<hash>.img, apart from the
# plain systemd image (its builder prunes its own directory). Sets: VMT_DISK.

# seinfo (setools) lets the suite check which types the loaded policy has.
VMT_SELINUX_APT_PKGS="selinux-basics selinux-policy-default policycoreutils setools"

vmt_selinux_image_prepare() {
	local key img root
	vmt_require_cmd debootstrap mkfs.ext4 debugfs
	key=$(vmt_hash "$VMT_ROOT/vm-tests/lib/systemd-image.sh" "$VMT_ROOT/vm-tests/lib/selinux-image.sh" \
		"$VMT_ROOT"/vm-tests/systemd/*)
	img=$VMT_CACHE/selinux/bookworm-selinux-$key.img
	if [ ! -s "$img" ]; then
		vmt_tmpdir root "$VMT_CACHE/selinux/root"
		# shellcheck disable=SC2086 # a list of package names on purpose
		vmt_debian_root "$root" $VMT_SELINUX_APT_PKGS
		vmt_systemd_configure "$root"
		vmt_selinux_configure "$root" >"$root.log" 2>&1 || vmt_die "labelling the image failed: see $root.log"
		rm -f "$root.log"
		mkfs.ext4 -q -F -L vmtroot -d "$root" "$img.tmp" 2G >/dev/null || vmt_die "mkfs.ext4 -d $root failed"
		vmt_selinux_check_labels "$img.tmp"
		mv "$img.tmp" "$img"
		find "$VMT_CACHE/selinux" -maxdepth 1 -name 'bookworm-selinux-*.img' ! -path "$img" -delete
	fi
	VMT_DISK=$img
}

# vmt_selinux_configure ROOT: permissive mode with the default (refpolicy) policy, then every
# file labelled from the policy's file_contexts. Permissive: the runtimes under test run from a
# systemd service the policy has no domain for; labels are computed, set and shown all the
# same, which is what the scenarios check.
vmt_selinux_configure() {
	local r=$1 policy
	printf 'SELINUX=permissive\nSELINUXTYPE=default\n' >"$r/etc/selinux/config"
	# selinux-activate would also edit GRUB and ask for a first-boot relabel: neither applies.
	rm -f "$r/.autorelabel"
	policy=$(cd "$r" && ls -1 etc/selinux/default/policy/policy.* | sort -V | tail -1)
	[ -n "$policy" ] || { echo "no binary policy under $r/etc/selinux/default/policy"; return 1; }
	# -F: set the full context (user and role too); -c: validate against the policy file, since
	# the build host has no policy loaded. setfiles labels through /proc/self/fd, so the chroot
	# gets a /proc for it (excluded from the walk), unmounted whatever happens.
	local rc=0
	mount -t proc proc "$r/proc" || return 1
	chroot "$r" setfiles -F -e /proc -c "/$policy" /etc/selinux/default/contexts/files/file_contexts / || rc=$?
	umount "$r/proc"
	return "$rc"
}

# vmt_selinux_check_labels IMG: the image's files carry their labels (mkfs.ext4 -d copies
# xattrs); without them every file would be unlabeled_t in the guest.
vmt_selinux_check_labels() {
	local got
	got=$(debugfs -R 'ea_get /usr/sbin/runc security.selinux' "$1" 2>/dev/null | tr -d '\0')
	case "$got" in
	*:object_r:*) vmt_log "image labelled: /usr/sbin/runc is $got" ;;
	*) vmt_die "the image lost its SELinux labels (debugfs ea_get /usr/sbin/runc: '$got')" ;;
	esac
}
