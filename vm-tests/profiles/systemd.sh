# shellcheck shell=bash
# systemd as PID 1 on pure cgroup v2 (Debian bookworm image from debootstrap, built once and
# cached, ~4 min): for the systemd cgroup driver (`--systemd-cgroup`, slice:prefix:name paths,
# scopes through D-Bus). Boots in ~30 s instead of ~5 s, so it is not part of CI.
VMT_PROFILE_APPEND="cgroup_no_v1=all apparmor=0 vmt.root=disk"
VMT_PROFILE_APPARMOR=0
VMT_PROFILE_DISK=systemd
