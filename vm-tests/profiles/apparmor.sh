# shellcheck shell=bash
# cgroup v2 + AppArmor as the major LSM (what Debian and Ubuntu hosts run). apparmor_parser
# comes from Debian's `apparmor` package (apt-get download, no install) and the suite loads
# vm-tests/guest/apparmor/* before it tests `process.apparmorProfile`.
VMT_PROFILE_APPEND="cgroup_no_v1=all apparmor=1 security=apparmor vmt.cgroup=v2"
VMT_PROFILE_APPARMOR=1
