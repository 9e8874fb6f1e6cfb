# shellcheck shell=bash
# Legacy cgroup v1 (every controller its own hierarchy, cpu,cpuacct and net_cls,net_prio
# co-mounted): the same kernel without cgroup_no_v1; the guest /init mounts the hierarchies.
VMT_PROFILE_APPEND="apparmor=0 vmt.cgroup=v1"
VMT_PROFILE_APPARMOR=0
