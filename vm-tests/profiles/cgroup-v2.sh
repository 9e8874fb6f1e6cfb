# shellcheck shell=bash
# Pure cgroup v2, as on current Fedora/Ubuntu/Debian hosts: cgroup_no_v1=all guarantees that
# nothing can mount a v1 hierarchy. AppArmor is switched off (apparmor=0) so its scenarios
# SKIP here and run only in the apparmor profile; Debian's kernel enables it by default.
VMT_PROFILE_APPEND="cgroup_no_v1=all apparmor=0 vmt.cgroup=v2"
VMT_PROFILE_APPARMOR=0
