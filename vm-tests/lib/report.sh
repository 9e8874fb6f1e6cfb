# shellcheck shell=bash
# vm.json: what the host saw of one VM run (timings, kernel, accelerator, binaries, status).
# Guest timings come from files /init writes into the share (uptime at suite start and end).

# vmt_write_vm_json OUT RC T_PREP_MS T_BOOT_MS T_END_MS
vmt_write_vm_json() {
	local out=$1 rc=$2 t_prep=$3 t_boot=$4 t_end=$5 g_start=null g_end=null suite=null bins commit
	[ -s "$out/guest-suite-start" ] && g_start=$(cat "$out/guest-suite-start")
	[ -s "$out/guest-suite-end" ] && g_end=$(cat "$out/guest-suite-end")
	if [ "$g_start" != null ] && [ "$g_end" != null ]; then
		suite=$(awk -v a="$g_start" -v b="$g_end" 'BEGIN {printf "%.2f", b - a}')
	fi
	# The commit of the tree the guest read its scenarios and scripts from (run.sh takes it
	# before the boot; the binaries are listed under "binaries"), so a matrix of several runs
	# says what each one judged.
	commit=${VMT_COMMIT:-unknown}
	bins=$(for n in $(printf '%s\n' "${!VMT_BINS[@]}" | sort); do
		printf '"%s": "%s", ' "$n" "${VMT_BINS[$n]}"
	done)
	cat >"$out/vm.json" <<JSON
{
  "profile": "$PROFILE",
  "rc": $rc,
  "kernel": "$VMT_KVER",
  "commit": "$commit",
  "accel": "$(vmt_accel_args | head -2 | tail -1)",
  "prepare_s": $(awk -v a="$t_prep" -v b="$t_boot" 'BEGIN {printf "%.2f", (b - a) / 1000}'),
  "vm_wall_s": $(awk -v a="$t_boot" -v b="$t_end" 'BEGIN {printf "%.2f", (b - a) / 1000}'),
  "guest_boot_s": $g_start,
  "guest_suite_s": $suite,
  "binaries": { ${bins%, } }
}
JSON
	printf 'rc=%s, prepare %ss, boot %ss (guest uptime at suite start), suite %ss, VM wall %ss\n' \
		"$rc" "$(awk -v a="$t_prep" -v b="$t_boot" 'BEGIN {printf "%.1f", (b - a) / 1000}')" \
		"${g_start/null/?}" "${suite/null/?}" \
		"$(awk -v a="$t_boot" -v b="$t_end" 'BEGIN {printf "%.1f", (b - a) / 1000}')" >"$out/vm.summary"
}
