# shellcheck shell=bash
# cgroup v2, the suite run by the unprivileged user `vmt` (uid 1000): rootless runtimes (user
# namespace with the caller's single id mapped to 0, no cgroup delegation). Checks that need
# a cgroup say SKIP with the reason; the rest must pass.
VMT_PROFILE_APPEND="cgroup_no_v1=all apparmor=0 vmt.cgroup=v2 vmt.user=vmt"
VMT_PROFILE_APPARMOR=0
