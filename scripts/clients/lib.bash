# lib.bash: shared bits of the client scripts (sourced, not run; not named *.sh so that
# scripts/test.sh, which runs every scripts/clients/*.sh, skips it).
# Prints "PASS: what" / "FAIL: what"; `finish` exits 1 when anything failed.
# A script that runs the same checks for several runtimes calls `for_runtime NAME gated|reference`
# before each runtime's checks: its lines then read "PASS: [NAME] what", `finish` prints each
# runtime's counts, and a reference runtime's failures are reported loudly but do not fail the
# script (the gate judges the runtime under test; a check the reference fails too still fails
# through the gated runtime's own line).

FAILED=0
CHECK_RT=        # the runtime the current lines are about ("" in single-runtime scripts)
CHECK_RT_GATED=1 # 0 for a reference runtime
CHECK_RTS=()
declare -A CHECK_PASSES=() CHECK_FAILS=() CHECK_FAILED_LINES=() CHECK_ROLE=()
pass() {
  echo "PASS: ${CHECK_RT:+[$CHECK_RT] }$*"
  [ -z "$CHECK_RT" ] || CHECK_PASSES[$CHECK_RT]=$(( ${CHECK_PASSES[$CHECK_RT]} + 1 ))
}
fail() {
  echo "FAIL: ${CHECK_RT:+[$CHECK_RT] }$*"
  [ "$CHECK_RT_GATED" = 1 ] && FAILED=1
  [ -z "$CHECK_RT" ] && return 0
  CHECK_FAILS[$CHECK_RT]=$(( ${CHECK_FAILS[$CHECK_RT]} + 1 ))
  CHECK_FAILED_LINES[$CHECK_RT]+="  $*"$'\n'
}
skip() { echo "SKIP: ${CHECK_RT:+[$CHECK_RT] }$*"; }

# for_runtime NAME gated|reference: the lines that follow are about runtime NAME.
for_runtime() {
  CHECK_RT=$1
  CHECK_RT_GATED=$([ "$2" = gated ] && echo 1 || echo 0)
  CHECK_RTS+=("$1")
  CHECK_PASSES[$1]=0 CHECK_FAILS[$1]=0 CHECK_FAILED_LINES[$1]='' CHECK_ROLE[$1]=$2
  echo "== runtime $1 ($2)"
}

# check WHAT EXPECTED ACTUAL
check() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (expected $(printf %q "$2"), got $(printf %q "$3"))"; fi
}

# try WHAT CMD...: PASS when CMD succeeds, else FAIL with what it wrote to stderr.
try() {
  local what=$1 err
  shift
  if err=$("$@" 2>&1 >/dev/null); then pass "$what"; else fail "$what: $err"; fi
}

finish() {
  local r
  for r in "${CHECK_RTS[@]}"; do
    echo "SUMMARY: [$r] ${CHECK_PASSES[$r]} passed, ${CHECK_FAILS[$r]} failed (${CHECK_ROLE[$r]})"
  done
  CHECK_RT='' CHECK_RT_GATED=1
  for r in "${CHECK_RTS[@]}"; do
    [ "${CHECK_FAILS[$r]}" -gt 0 ] || continue
    if [ "${CHECK_ROLE[$r]}" = reference ]; then
      echo "WARNING: the reference runtime $r FAILED ${CHECK_FAILS[$r]} check(s) (not gated: see whether the host or the script is at fault):"
    else
      echo "FAILED for $r (gated):"
    fi
    printf '%s' "${CHECK_FAILED_LINES[$r]}"
  done
  if [ "$FAILED" -ne 0 ]; then echo "RESULT: FAIL"; exit 1; fi
  local ref=0
  for r in "${CHECK_RTS[@]}"; do ref=$(( ref + CHECK_FAILS[$r] )); done
  if [ "$ref" -gt 0 ]; then echo "RESULT: PASS (but the reference failed $ref check(s): see the WARNING above)"
  else echo "RESULT: PASS"; fi
}

# ferrun_binary: absolute path of the runtime under test ($FERRUN or target/release/ferrun).
ferrun_binary() {
  local f=${FERRUN:-target/release/ferrun}
  [ -x "$f" ] || { echo "FAIL: runtime binary $f not found (cargo build --release -p ferrun)" >&2; exit 2; }
  readlink -f "$f"
}

# need_pkg CMD PKG: install PKG with apt-get when CMD is missing.
need_pkg() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "installing $2 (apt-get)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y "$2" >/dev/null \
    || { echo "FAIL: cannot install $2" >&2; exit 2; }
}

# stop_pid PID: SIGTERM, a bounded wait (10 s), then SIGKILL: a daemon that ignores SIGTERM
# must not hang a script's cleanup.
stop_pid() {
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null
}

# start_private_containerd DIR SOCK: a containerd whose root, state, opt and socket are all
# under DIR, with the CRI plugin off (it would want a CNI set-up) and no debug or metrics
# socket, so nothing of the host's containerd is touched. Its log is DIR/containerd.log;
# sets CTRD_PID for the caller's cleanup (stop_pid).
start_private_containerd() {
  local dir=$1 sock=$2
  mkdir -p "$dir"
  cat > "$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = ""
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
TOML
  containerd --config "$dir/config.toml" > "$dir/containerd.log" 2>&1 &
  # shellcheck disable=SC2034 # the caller's cleanup reads it
  CTRD_PID=$!
}

# busybox_rootfs_tar OUT.tar: a busybox-static rootfs (the same as scripts/busybox-bundle.sh).
busybox_rootfs_tar() {
  local r; r=$(mktemp -d "${TMPDIR:-/tmp}/ferrun-rootfs.XXXXXX")
  mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root" "$r/proc" "$r/sys" "$r/dev"
  cp /bin/busybox "$r/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' > "$r/etc/group"
  tar -C "$r" -cf "$1" .
  rm -rf "$r"
}

# podman_cleanup: the EXIT trap of the podman scripts: every container and image of the
# private storage (the podman command line in P), the mounts under and the tempdir T, and
# the cgroup and state directories podman made.
podman_cleanup() {
  "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  "${P[@]}" rmi -af >/dev/null 2>&1
  unmount_under "$T"
  rm -rf "$T"
  remove_new_dirs
}

# unmount_under DIR: lazily unmount everything mounted below DIR, deepest first.
unmount_under() {
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo \
    | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
}

# Directories a client makes on the host outside its tempdir: podman's cgroupfs parent
# (libpod_parent, with conmon's cgroup in it), containerd's per-namespace cgroup parent, and
# the runtime's default state root /run/ferrun (podman runs the runtime without --root).
# track_new_dirs PATH...: remember those that do not exist yet (a cgroup name is looked up
# in every hierarchy, and the entries of /sys/fs/cgroup itself are remembered too: on a v1
# host without, say, hugetlb, podman still makes /sys/fs/cgroup/hugetlb/libpod_parent/conmon
# as plain tmpfs directories holding a `tasks` file); remove_new_dirs: rmdir them, deepest
# first, and remove what appeared as plain directories under /sys/fs/cgroup. rmdir only
# removes empty directories and empty cgroups, so nothing that was there before or still
# holds something is touched.
NEW_DIRS=()
CGROUP_ENTRIES_BEFORE=()
track_new_dirs() {
  local p h
  [ ${#CGROUP_ENTRIES_BEFORE[@]} -gt 0 ] || CGROUP_ENTRIES_BEFORE=(/sys/fs/cgroup/*)
  for p in "$@"; do
    if [[ $p == /* ]]; then
      [ -e "$p" ] || NEW_DIRS+=("$p")
    else
      for h in /sys/fs/cgroup /sys/fs/cgroup/*/; do
        [ -d "$h" ] && ! [ -e "${h%/}/$p" ] && NEW_DIRS+=("${h%/}/$p")
      done
    fi
  done
}
remove_new_dirs() {
  local p
  for p in "${NEW_DIRS[@]}"; do
    [ -d "$p" ] || continue
    if [ "$(stat -f -c %T "$p")" = tmpfs ]; then
      rm -rf "$p" # podman's plain directory, `tasks` file and all (see above)
    else
      find "$p" -depth -type d -exec rmdir {} + 2>/dev/null
    fi
  done
  for p in /sys/fs/cgroup/*; do
    if [ -d "$p" ] && [ "$(stat -f -c %T "$p")" = tmpfs ] &&
      [[ " ${CGROUP_ENTRIES_BEFORE[*]} " != *" $p "* ]]; then
      rm -rf "$p"
    fi
  done
  return 0
}
