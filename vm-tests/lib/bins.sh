# shellcheck shell=bash
# Which binaries go into the guest. Reference runtimes come from the host's PATH; ours from
# target/ (newest build of any profile/triple: a `-C target-feature=+crt-static` build for
# x86_64-unknown-linux-gnu or a plain dynamic one, whose ldd libraries initramfs.sh copies).
# An environment variable (VMT_RUNC, VMT_FERRUN, ...) overrides the search; set it empty to
# leave that binary out. Sets: VMT_BINS (assoc: name in the guest -> host path).

declare -gA VMT_BINS=()

# vmt_find_in_target NAME [static]: newest target/{<triple>/,}{debug,release}/NAME; with
# `static`, the newest one that loads no shared library.
vmt_find_in_target() {
	local c
	while read -r c; do
		if [ "${2:-}" != static ] || [ -z "$(vmt_ldd_libs "$c")" ]; then
			printf '%s\n' "$c"
			return
		fi
		vmt_log "skipping $c: dynamically linked (oci-probe must be built with +crt-static)"
	done < <(ls -1t "$VMT_ROOT"/target/*/{debug,release}/"$1" "$VMT_ROOT"/target/{debug,release}/"$1" 2>/dev/null)
}

# vmt_bin_add NAME ENVVAR DEFAULT_PATH REQUIRED
vmt_bin_add() {
	local name=$1 var=$2 path=$3 required=$4
	if [ -n "${!var+x}" ]; then
		path=${!var}
	fi
	if [ -z "$path" ]; then
		[ "$required" = 1 ] && vmt_die "$name is required in the guest but $var is empty"
		return 0
	fi
	[ -x "$path" ] || vmt_die "$name: $path is not an executable ($var)"
	VMT_BINS[$name]=$path
}

vmt_bins_collect() {
	# runc is the reference every profile proves the VM with: required.
	vmt_bin_add runc VMT_RUNC "$(command -v runc || true)" 1
	vmt_bin_add crun VMT_CRUN "$(command -v crun || true)" 0
	vmt_bin_add criu VMT_CRIU "$(command -v criu || true)" 0
	vmt_bin_add ferrun VMT_FERRUN "$(vmt_find_in_target ferrun)" 0
	vmt_bin_add oci-conform VMT_OCI_CONFORM "$(vmt_find_in_target oci-conform)" 0
	# The seccomp notify scenarios' listener; oci-conform looks for it beside itself.
	vmt_bin_add oci-seccomp-agent VMT_OCI_SECCOMP_AGENT "$(vmt_find_in_target oci-seccomp-agent)" 0
	# oci-probe is copied into container rootfs images that have no libc: it must be static.
	vmt_bin_add oci-probe VMT_OCI_PROBE "$(vmt_find_in_target oci-probe static)" 0
	if [ -n "${VMT_BINS[oci-probe]:-}" ] && [ -n "$(vmt_ldd_libs "${VMT_BINS[oci-probe]}")" ]; then
		vmt_die "oci-probe ${VMT_BINS[oci-probe]} is dynamically linked; build it with -C target-feature=+crt-static"
	fi
}
