# shellcheck shell=bash
# Kernel artifact: the Debian `-amd64` flavour (the `-cloud-amd64` one has no 9p), fetched with
# `apt-get download` (no install), extracted, depmod'ed with busybox (kmod may be absent) and
# decompressed to an ELF vmlinux so qemu boots it through the PVH entry point (~2x faster than
# the bzImage through SeaBIOS under TCG). Everything is cached under $VMT_CACHE/kernel/<kver>/.
#
# Sets: VMT_KVER, VMT_KDIR (extracted tree), VMT_VMLINUX.

# The ABI number (e.g. 6.1.0-56) moves when the mirror updates: resolve it through the
# linux-image-amd64 metapackage each time; offline, fall back to the newest cached tree.
vmt_kernel_resolve_pkg() {
	if [ -n "${VMT_KERNEL_PKG:-}" ]; then
		printf '%s\n' "$VMT_KERNEL_PKG"
		return
	fi
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9].*-amd64$/ {print $2; exit}'
}

vmt_kernel_newest_cached() {
	local d
	d=$(ls -1d "$VMT_CACHE"/kernel/*/vmlinux 2>/dev/null | sort -V | tail -1)
	[ -n "$d" ] && basename "$(dirname "$d")"
}

# vmt_deb_fetch PKG: path of PKG's .deb in the cache, downloading it when missing.
vmt_deb_fetch() {
	local pkg=$1 deb
	mkdir -p "$VMT_CACHE/debs"
	deb=$(ls -1 "$VMT_CACHE/debs/${pkg}"_*.deb 2>/dev/null | sort -V | tail -1)
	if [ -z "$deb" ]; then
		vmt_log "downloading $pkg"
		# apt's sandbox user cannot write into target/: download as root on purpose, quietly.
		(cd "$VMT_CACHE/debs" && apt-get download -q "$pkg" 2>&1 | grep -v 'unsandboxed' >&2) ||
			vmt_die "apt-get download $pkg failed"
		deb=$(ls -1 "$VMT_CACHE/debs/${pkg}"_*.deb 2>/dev/null | sort -V | tail -1)
		[ -n "$deb" ] || vmt_die "apt-get download $pkg left no .deb in $VMT_CACHE/debs"
	fi
	printf '%s\n' "$deb"
}

# The compressed payload of Debian's bzImage is one xz stream; --single-stream ignores the
# trailer that follows it.
vmt_kernel_extract_vmlinux() {
	local vmlinuz=$1 out=$2 off
	# LC_ALL=C: in a UTF-8 locale \xfd would mean the character U+00FD, not the byte.
	off=$(LC_ALL=C grep -aboP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1 || true)
	[ -n "$off" ] || vmt_die "no xz stream in $vmlinuz (not a Debian xz bzImage?)"
	# tail dies of SIGPIPE when xz stops at the end of the stream: only xz's status counts.
	{ tail -c +"$((off + 1))" "$vmlinuz" || true; } | xz -dc --single-stream >"$out.tmp" ||
		vmt_die "xz failed to decompress $vmlinuz at offset $off"
	mv "$out.tmp" "$out"
}

vmt_kernel_prepare() {
	local pkg kver dir tmp deb
	pkg=$(vmt_kernel_resolve_pkg)
	if [ -z "$pkg" ]; then
		kver=$(vmt_kernel_newest_cached)
		[ -n "$kver" ] || vmt_die "cannot resolve linux-image-amd64 (apt-cache) and nothing is cached"
		vmt_log "apt-cache has no linux-image-amd64: using cached kernel $kver"
	else
		kver=${pkg#linux-image-}
	fi
	dir=$VMT_CACHE/kernel/$kver
	if [ ! -s "$dir/vmlinux" ]; then
		deb=$(vmt_deb_fetch "$pkg")
		vmt_log "extracting $(basename "$deb")"
		vmt_tmpdir tmp "$VMT_CACHE/kernel"
		dpkg -x "$deb" "$tmp/tree" || vmt_die "dpkg -x $deb failed"
		busybox depmod -b "$tmp/tree" "$kver" || vmt_die "busybox depmod for $kver failed"
		vmt_kernel_extract_vmlinux "$tmp/tree/boot/vmlinuz-$kver" "$tmp/tree/vmlinux"
		rm -rf "$dir"
		mkdir -p "$VMT_CACHE/kernel"
		mv "$tmp/tree" "$dir"
		rmdir "$tmp"
	fi
	VMT_KVER=$kver
	VMT_KDIR=$dir
	VMT_VMLINUX=$dir/vmlinux
}
