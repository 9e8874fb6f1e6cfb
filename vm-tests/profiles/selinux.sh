# shellcheck shell=bash
# SELinux as the major LSM with Debian's reference policy loaded, permissive (enforcing=0):
# the systemd profile's Debian bookworm image plus selinux-policy-default, labelled at build
# time (vm-tests/lib/selinux-image.sh). For process.selinuxLabel, linux.mountLabel and
# `exec --process-label`; pure cgroup v2 as in the systemd profile. Boots in ~30 s, not in CI.
VMT_PROFILE_APPEND="cgroup_no_v1=all apparmor=0 security=selinux selinux=1 enforcing=0 vmt.root=disk"
VMT_PROFILE_APPARMOR=0
VMT_PROFILE_DISK=selinux
