# shellcheck shell=bash
# apparmor_parser for the apparmor profile: Debian's `apparmor` package, downloaded (not
# installed: this host has no AppArmor) and extracted once into $VMT_CACHE/apparmor/<deb>/.
# It needs only libc, which initramfs.sh copies through ldd. Sets: VMT_APPARMOR_DIR.

vmt_apparmor_prepare() {
	local deb dir tmp
	deb=$(vmt_deb_fetch apparmor)
	dir=$VMT_CACHE/apparmor/$(basename "$deb" .deb)
	if [ ! -x "$dir/sbin/apparmor_parser" ]; then
		vmt_tmpdir tmp "$VMT_CACHE/apparmor"
		dpkg -x "$deb" "$tmp" || vmt_die "dpkg -x $deb failed"
		[ -x "$tmp/sbin/apparmor_parser" ] || vmt_die "$deb has no sbin/apparmor_parser"
		mkdir -p "$VMT_CACHE/apparmor"
		rm -rf "$dir"
		mv "$tmp" "$dir"
	fi
	VMT_APPARMOR_DIR=$dir
}
