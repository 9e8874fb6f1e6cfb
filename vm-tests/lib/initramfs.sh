# shellcheck shell=bash
# Initramfs artifact: busybox-static, the binaries under test (+ the shared libraries ldd says
# they load; a crt-static build has none), the kernel modules the guest needs, optionally
# apparmor_parser, and vm-tests/guest/init as /init. Cached as
# $VMT_CACHE/initramfs/<hash>.cpio.gz where the hash covers every input file, so a rebuilt
# ferrun gives a new image and an unchanged tree reuses the old one (build ≈ 1-2 s).
#
# Needs: VMT_KVER, VMT_KDIR (kernel.sh), VMT_ROOT, VMT_CACHE, VMT_BINS (assoc name -> path).
# Sets: VMT_INITRAMFS.

# Modules the guest loads (cgroups, namespaces, seccomp, overlay's deps are built in).
# dummy/macvlan/ipvlan/tun: network scenarios this host's kernel cannot run (no dummy here).
# loop + bfq: blkio throttling needs a real block device (7:0) and blkio.bfq.weight only
# exists with the BFQ scheduler loaded. ext4 asks for crc32c through the crypto API, a
# request_module this initramfs cannot serve, so crc32c_generic comes first.
# The rest is for criu: `criu check` dumps sockets through the sock_diag modules (without them
# "Diag module missing"), probes nftables set concatenation at start-up (nf_tables; without
# it kerndat fails and so does every criu command), dumps a network namespace's conntrack
# entries over ctnetlink (nf_conntrack_netlink; without it netlink answers EINVAL and the dump
# fails), and `--tcp-established` locks the network with iptables (legacy tables, by mark).
VMT_MODULES="virtio_pci virtio_blk virtio_rng 9pnet_virtio 9p overlay veth bridge dummy tun macvlan ipvlan loop bfq crc32c_generic ext4"
VMT_MODULES+=" unix_diag inet_diag tcp_diag udp_diag raw_diag netlink_diag af_packet_diag nfnetlink nf_tables nf_conntrack nf_conntrack_netlink"
VMT_MODULES+=" x_tables ip_tables iptable_filter ip6_tables ip6table_filter xt_mark xt_tcpudp"

# Tools criu runs, only when criu goes into the guest. Its network lock and the dump of a
# network namespace run iptables-restore/-save and ip6tables-* (legacy backend: the modules
# above, no nft_compat); the multi-call binary dispatches on its name, its matches (`-m mark`,
# `-p tcp`) are plugins from the xtables directory. busybox's tar and ip lack what criu asks
# for (GNU tar's --create/--extract options for tmpfs contents such as the container's /dev;
# iproute2's `ip route save` / `ip rule save` for the network namespace), so the host's go to
# /bin, where `busybox --install` does not replace them.
VMT_XTABLES_MULTI=/usr/sbin/xtables-legacy-multi
VMT_XTABLES_PLUGINS=/usr/lib/x86_64-linux-gnu/xtables
VMT_XTABLES_NAMES="iptables iptables-restore iptables-save ip6tables ip6tables-restore ip6tables-save"
VMT_CRIU_TOOLS="tar ip"

vmt_want_xtables() { [ -n "${VMT_BINS[criu]:-}" ] && [ -x "$VMT_XTABLES_MULTI" ]; }

# vmt_criu_tool NAME: the host's real NAME (not busybox), or nothing.
vmt_criu_tool() {
	local p
	p=$(command -v "$1") || return 0
	p=$(readlink -f "$p")
	[ "${p##*/}" = busybox ] || printf '%s\n' "$p"
}

# What apparmor_parser reads besides its binary: parser.conf names the kernel feature ABI file
# (without it every load fails), profiles may include tunables/abstractions/abi.
VMT_APPARMOR_DATA=(etc/apparmor etc/apparmor.d usr/share/apparmor-features)

# vmt_ldd_libs BIN: the libraries (and loader) BIN needs; nothing for a static binary.
vmt_ldd_libs() {
	ldd "$1" 2>/dev/null | awk '/=> \// {print $3} /^[[:space:]]*\/[^ ]*ld-linux/ {print $1}'
}

# vmt_module_files: relative paths of the wanted modules and their dependencies.
vmt_module_files() {
	local md=$VMT_KDIR/lib/modules/$VMT_KVER m re line
	for m in $VMT_MODULES; do
		re="/$(printf '%s' "$m" | sed 's/[-_]/[-_]/g')\.ko(\.xz|\.zst)?"
		if line=$(grep -E "${re}:" "$md/modules.dep"); then
			# shellcheck disable=SC2086 # split the dependency list into one path per line
			printf '%s\n' ${line%%:*} ${line#*:}
		elif ! grep -qE "${re}\$" "$md/modules.builtin"; then
			vmt_die "kernel $VMT_KVER has module $m neither as a file nor built in"
		fi
	done | sort -u
}

# vmt_initramfs_inputs: every host file that goes into the image, one per line.
vmt_initramfs_inputs() {
	local name f
	printf '%s\n' "$VMT_ROOT/vm-tests/guest/init" "$(command -v busybox)"
	for name in $(printf '%s\n' "${!VMT_BINS[@]}" | sort); do
		printf '%s\n' "${VMT_BINS[$name]}"
		vmt_ldd_libs "${VMT_BINS[$name]}"
	done
	if [ -n "${VMT_APPARMOR_DIR:-}" ]; then
		printf '%s\n' "$VMT_APPARMOR_DIR/sbin/apparmor_parser"
		find "${VMT_APPARMOR_DATA[@]/#/$VMT_APPARMOR_DIR/}" -type f | sort
		vmt_ldd_libs "$VMT_APPARMOR_DIR/sbin/apparmor_parser"
	fi
	for f in $VMT_MODULE_FILES; do
		printf '%s\n' "$VMT_KDIR/lib/modules/$VMT_KVER/$f"
	done
	if vmt_want_xtables; then
		printf '%s\n' "$VMT_XTABLES_MULTI"
		vmt_ldd_libs "$VMT_XTABLES_MULTI"
		find "$VMT_XTABLES_PLUGINS" -type f | sort
		for name in $VMT_CRIU_TOOLS; do
			f=$(vmt_criu_tool "$name")
			[ -n "$f" ] && printf '%s\n' "$f" && vmt_ldd_libs "$f"
		done
	fi
}

vmt_initramfs_xtables() {
	local w=$1 n
	vmt_want_xtables || return 0
	vmt_copy_with_libs "$VMT_XTABLES_MULTI" /usr/sbin/xtables-legacy-multi "$w"
	for n in $VMT_XTABLES_NAMES; do
		ln -s xtables-legacy-multi "$w/usr/sbin/$n"
	done
	mkdir -p "$w$(dirname "$VMT_XTABLES_PLUGINS")"
	cp -a "$VMT_XTABLES_PLUGINS" "$w$VMT_XTABLES_PLUGINS"
	for n in $VMT_CRIU_TOOLS; do
		f=$(vmt_criu_tool "$n")
		if [ -n "$f" ]; then
			vmt_copy_with_libs "$f" "/bin/$n" "$w"
		else
			vmt_log "criu needs $n (GNU/iproute2, not busybox) in the guest; the host has none"
		fi
	done
}

# vmt_copy_with_libs SRC DEST_IN_IMAGE WORKDIR
vmt_copy_with_libs() {
	local src=$1 dest=$2 w=$3 lib
	mkdir -p "$w$(dirname "$dest")"
	cp -L "$src" "$w$dest"
	for lib in $(vmt_ldd_libs "$src"); do
		[ -e "$w$lib" ] && continue
		mkdir -p "$w$(dirname "$lib")"
		cp -L "$lib" "$w$lib"
	done
}

vmt_initramfs_populate() {
	local w=$1 name f md=$VMT_KDIR/lib/modules/$VMT_KVER
	mkdir -p "$w"/{bin,sbin,dev,proc,sys,tmp,run,mnt,etc,root,var,opt/vmt/bin,usr/bin,usr/sbin}
	cp "$(command -v busybox)" "$w/bin/busybox"
	cp "$VMT_ROOT/vm-tests/guest/init" "$w/init"
	chmod 0755 "$w/init"
	for name in "${!VMT_BINS[@]}"; do
		vmt_copy_with_libs "${VMT_BINS[$name]}" "/opt/vmt/bin/$name" "$w"
	done
	if [ -n "${VMT_APPARMOR_DIR:-}" ]; then
		vmt_copy_with_libs "$VMT_APPARMOR_DIR/sbin/apparmor_parser" /sbin/apparmor_parser "$w"
		for f in "${VMT_APPARMOR_DATA[@]}"; do
			mkdir -p "$w/$(dirname "$f")"
			cp -a "$VMT_APPARMOR_DIR/$f" "$w/$f"
		done
	fi
	vmt_initramfs_xtables "$w"
	mkdir -p "$w/lib/modules/$VMT_KVER"
	for f in $VMT_MODULE_FILES; do
		mkdir -p "$w/lib/modules/$VMT_KVER/$(dirname "$f")"
		cp "$md/$f" "$w/lib/modules/$VMT_KVER/$f"
		grep -E "^$f:" "$md/modules.dep" >>"$w/lib/modules/$VMT_KVER/modules.dep"
	done
	# vmt: the unprivileged user of the rootless profile.
	printf 'root:x:0:0:root:/root:/bin/sh\nvmt:x:1000:1000:vmt:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$w/etc/passwd"
	printf 'root:x:0:\nvmt:x:1000:\nnogroup:x:65534:\n' >"$w/etc/group"
	printf '%s\n' "${!VMT_BINS[@]}" | sort >"$w/opt/vmt/manifest"
	# shellcheck disable=SC2086 # one module per line
	printf '%s\n' $VMT_MODULES >"$w/etc/vmt-modules"
}

vmt_initramfs_build() {
	local inputs=() key out w
	# Resolved here, in the main shell, so a missing module stops the run.
	VMT_MODULE_FILES=$(vmt_module_files) || exit 125
	mapfile -t inputs < <(vmt_initramfs_inputs)
	[ "${#inputs[@]}" -gt 0 ] || vmt_die "no initramfs inputs"
	key=$(printf '%s\n' "$VMT_KVER" "${!VMT_BINS[@]}" "$VMT_MODULES" | sha256sum | cut -c1-8)-$(vmt_hash "${inputs[@]}")
	out=$VMT_CACHE/initramfs/$key.cpio.gz
	if [ ! -s "$out" ]; then
		vmt_log "building initramfs $key"
		mkdir -p "$VMT_CACHE/initramfs"
		vmt_tmpdir w "$VMT_CACHE/initramfs/work"
		vmt_initramfs_populate "$w"
		# busybox cpio: no cpio package needed; gzip -1 because the kernel unpacks it either way.
		(cd "$w" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 >"$out.tmp") ||
			vmt_die "cpio of $w failed"
		mv "$out.tmp" "$out"
		rm -rf "$w"
		# Every rebuilt binary makes a new 13-30 MB image: keep the newest few only.
		ls -1t "$VMT_CACHE"/initramfs/*.cpio.gz | tail -n +"$((${VMT_KEEP_IMAGES:-6} + 1))" | xargs -r rm -f
	fi
	VMT_INITRAMFS=$out
}
