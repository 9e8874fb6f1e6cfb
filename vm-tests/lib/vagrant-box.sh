# shellcheck shell=bash
# The Vagrant box of `make vagrant-test` (ferrun/debian12-local, libvirt provider): the systemd
# profile's Debian bookworm tree (vmt_debian_root in systemd-image.sh: the same debootstrap,
# packages and wiring), plus what Vagrant needs: openssh-server, sudo, rsync (the synced folder
# type), a `vagrant` user with Vagrant's insecure public key and passwordless sudo, DHCP on
# eth0 through systemd-networkd, and Debian's kernel (linux-image-amd64: its modules and the
# initramfs-tools initrd). The disk is the same raw ext4 without a partition table, converted
# to qcow2; the box's Vagrantfile (vm-tests/vagrant/box/Vagrantfile) boots the box's kernel
# directly. Cached as $VMT_CACHE/vagrant/debian12-local-<hash>.box, the hash over its builders.
# Sets: VMT_BOX (the .box file), VMT_BOX_KEY.

VMT_BOX_NAME=ferrun/debian12-local
VMT_BOX_APT_PKGS="openssh-server sudo rsync linux-image-amd64"
# Sparse: the qcow2 holds only the used blocks (~1 GB); the rest is room for the suite's bundles.
VMT_BOX_SIZE_GB=8

# vmt_vagrant_pubkey: Vagrant's well-known insecure public key, as Debian's vagrant ships it.
vmt_vagrant_pubkey() {
	local k
	for k in /usr/share/rubygems-integration/all/gems/vagrant-[0-9]*/keys/vagrant.pub \
		/usr/lib/ruby/vendor_ruby/vagrant/keys/vagrant.pub; do
		[ -s "$k" ] && { printf '%s\n' "$k"; return 0; }
	done
	vmt_die "Vagrant's insecure public key (keys/vagrant.pub) not found: apt-get install vagrant"
}

vmt_vagrant_box_prepare() {
	local key box root w pub
	vmt_require_cmd debootstrap mkfs.ext4 qemu-img
	pub=$(vmt_vagrant_pubkey)
	key=$(vmt_hash "$VMT_ROOT/vm-tests/lib/systemd-image.sh" "$VMT_ROOT/vm-tests/lib/vagrant-box.sh" \
		"$VMT_ROOT"/vm-tests/systemd/* "$VMT_ROOT/vm-tests/vagrant/box/Vagrantfile" "$pub")
	box=$VMT_CACHE/vagrant/debian12-local-$key.box
	if [ ! -s "$box" ]; then
		vmt_tmpdir root "$VMT_CACHE/vagrant/root"
		vmt_tmpdir w "$VMT_CACHE/vagrant/box"
		# shellcheck disable=SC2086 # a list of package names on purpose
		vmt_debian_root "$root" $VMT_BOX_APT_PKGS
		vmt_systemd_configure "$root"
		vmt_vagrant_box_configure "$root" "$pub"
		vmt_vagrant_box_kernel "$root" "$w"
		vmt_log "packing the box: mkfs.ext4 -d, qemu-img convert, tar"
		mkfs.ext4 -q -F -L vmtroot -d "$root" "$w/root.raw" "${VMT_BOX_SIZE_GB}G" >/dev/null ||
			vmt_die "mkfs.ext4 -d $root failed"
		qemu-img convert -f raw -O qcow2 "$w/root.raw" "$w/box.img" || vmt_die "qemu-img convert failed"
		rm -f "$w/root.raw"
		printf '{"provider": "libvirt", "format": "qcow2", "virtual_size": %s}\n' "$VMT_BOX_SIZE_GB" >"$w/metadata.json"
		cp "$VMT_ROOT/vm-tests/vagrant/box/Vagrantfile" "$w/Vagrantfile"
		# Not compressed: `vagrant box add` then only copies, and qcow2 holds no zero blocks.
		tar -C "$w" -cf "$box.tmp" metadata.json Vagrantfile box.img vmlinux initrd.img ||
			vmt_die "tar of the box failed"
		mv "$box.tmp" "$box"
		# One box is enough: older ones (a changed builder) are ~1 GB each.
		find "$VMT_CACHE/vagrant" -maxdepth 1 -name 'debian12-local-*.box' ! -path "$box" -delete
	fi
	VMT_BOX=$box
	VMT_BOX_KEY=$key
}

# vmt_vagrant_box_configure ROOT PUBKEY: what `vagrant up` expects of a box.
vmt_vagrant_box_configure() {
	local r=$1 pub=$2
	# sudo resolves the host name: without it every `sudo` warns.
	echo debian12-local >"$r/etc/hostname"
	printf '127.0.0.1 localhost\n127.0.1.1 debian12-local\n' >"$r/etc/hosts"
	chroot "$r" useradd -m -s /bin/bash vagrant || vmt_die "useradd vagrant in the image failed"
	echo vagrant:vagrant | chroot "$r" chpasswd || vmt_die "chpasswd in the image failed"
	install -d -m 0700 "$r/home/vagrant/.ssh"
	install -m 0600 "$pub" "$r/home/vagrant/.ssh/authorized_keys"
	chroot "$r" chown -R vagrant:vagrant /home/vagrant/.ssh
	printf 'vagrant ALL=(ALL) NOPASSWD: ALL\nDefaults:vagrant !requiretty\n' >"$r/etc/sudoers.d/vagrant"
	chmod 0440 "$r/etc/sudoers.d/vagrant"
	# The management network's DHCP (libvirt's dnsmasq) gives eth0 its address; vagrant-libvirt
	# reads it from the lease.
	printf '[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n' >"$r/etc/systemd/network/10-eth0.network"
	chroot "$r" systemctl enable systemd-networkd.service >/dev/null 2>&1 ||
		vmt_die "systemctl enable systemd-networkd in the image failed"
	# Nothing waits for "online" (sshd does not need it), and no timer reaches for the network:
	# the box boots offline.
	ln -sf /dev/null "$r/etc/systemd/system/systemd-networkd-wait-online.service"
	ln -sf /dev/null "$r/etc/systemd/system/apt-daily.timer"
	ln -sf /dev/null "$r/etc/systemd/system/apt-daily-upgrade.timer"
	printf 'UseDNS no\n' >"$r/etc/ssh/sshd_config.d/vagrant.conf"
	# As the qemu guests' initramfs does: io.bfq.weight exists only with BFQ loaded
	# (cgroups.v2-io-bfq-weight SKIPs without it).
	printf 'bfq\n' >"$r/etc/modules-load.d/vmt-bfq.conf"
}

# vmt_vagrant_box_kernel ROOT DIR: the image's kernel as an ELF vmlinux (qemu's PVH entry,
# about twice as fast as the bzImage under TCG) and its initrd, into DIR.
vmt_vagrant_box_kernel() {
	local r=$1 w=$2 vmlinuz initrd
	vmlinuz=$(ls -1 "$r"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
	[ -n "$vmlinuz" ] || vmt_die "linux-image-amd64 left no /boot/vmlinuz-* in the image"
	initrd=$r/boot/initrd.img-${vmlinuz##*/vmlinuz-}
	[ -s "$initrd" ] || vmt_die "no $initrd: update-initramfs did not run in the image"
	vmt_kernel_extract_vmlinux "$vmlinuz" "$w/vmlinux"
	cp "$initrd" "$w/initrd.img"
}
