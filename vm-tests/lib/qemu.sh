# shellcheck shell=bash
# Booting the guest: accelerator choice, the qemu command line, the hard timeout.
#
# KVM only when the CPU advertises VT-x/AMD-V: on the shared dev VMs /dev/kvm is PVM
# (kvm_pvm), KVM_CREATE_VM succeeds there but a stock Debian kernel never leaves its
# decompressor. So "can I open /dev/kvm" is not the test; /proc/cpuinfo is.

vmt_accel_args() {
	local want=${VMT_ACCEL:-auto}
	if [ "$want" = auto ]; then
		want=tcg
		grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ] && want=kvm
	fi
	case "$want" in
	kvm) printf '%s\n' -accel kvm -cpu host ;;
	tcg) printf '%s\n' -accel tcg,thread=multi -cpu max ;;
	*) vmt_die "VMT_ACCEL must be auto, kvm or tcg (got '$want')" ;;
	esac
}

# vmt_qemu_boot OUTDIR TIMEOUT_S APPEND: boots vmlinux+initramfs with the repo shared read-only
# as `src` and OUTDIR read-write as `out`; the console goes to OUTDIR/serial.log (or the
# terminal with VMT_SHELL=1). Returns qemu's status; 124 when the timeout killed it.
vmt_qemu_boot() {
	local out=$1 limit=$2 append=$3 accel console disk=()
	mapfile -t accel < <(vmt_accel_args)
	[ "${#accel[@]}" -gt 0 ] || exit 125
	if [ "${VMT_SHELL:-0}" = 1 ]; then
		console=(-nographic)
		append="$append vmt.shell"
	else
		console=(-display none -monitor none -serial "file:$out/serial.log")
	fi
	# The systemd profile's root image: snapshot=on, every run starts from the same disk.
	[ -n "${VMT_DISK:-}" ] && disk=(-drive "file=$VMT_DISK,format=raw,if=virtio,snapshot=on")
	# -no-reboot + panic=-1: a guest panic ends qemu at once instead of burning the timeout.
	# pc machine (not microvm: runc soft-locks microvm guests with RCU stalls under TCG).
	timeout --kill-after=10 "$limit" qemu-system-x86_64 \
		"${accel[@]}" -machine pc -m "${VMT_MEM:-1536}" -smp "${VMT_SMP:-2}" \
		"${console[@]}" -no-reboot -nic none \
		-kernel "$VMT_VMLINUX" -initrd "$VMT_INITRAMFS" "${disk[@]}" \
		-append "console=ttyS0 quiet panic=-1 $append" \
		-virtfs "local,path=$VMT_ROOT,mount_tag=src,security_model=none,readonly=on,id=src" \
		-virtfs "local,path=$out,mount_tag=out,security_model=passthrough,id=out"
}
