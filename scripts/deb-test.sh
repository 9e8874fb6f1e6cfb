#!/bin/bash
# deb-test.sh [DEB]: the package as a fresh machine gets it. dpkg installs DEB (default: the
# newest target/deb/ferrun_*_amd64.deb, `make deb`) into a scratch root with an empty dpkg
# database of its own (--root), so the host's /usr and dpkg database are untouched and no
# Depends can be met by the host's packages. The installed files are then used for real:
# lintian, ferrun --version and spec, a busybox container, podman running containers with it, man -l
# on its pages and the bash completion; then dpkg removes it again. Everything it made (scratch
# root, container state, podman storage, cgroups) goes on exit.
# Usage: scripts/deb-test.sh [DEB]   (root; prints PASS/FAIL lines, exit 1 on any FAIL)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
. scripts/clients/lib.bash

[ "$(id -u)" = 0 ] || { echo "FAIL: deb-test.sh needs root (containers, podman)"; exit 2; }
DEB=${1:-$(ls -t target/deb/ferrun_*_amd64.deb 2>/dev/null | head -1)}
[ -f "$DEB" ] || { echo "FAIL: no package (make deb)"; exit 2; }
DEB=$(readlink -f "$DEB")
for tool in podman man jq readelf lintian; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/setup.sh)"; exit 2; }
done
start=$(date +%s)

T=$(mktemp -d /tmp/ferrun-deb.XXXXXX)
chmod 0755 "$T"
ROOT=$T/root
F=$ROOT/usr/sbin/ferrun
CID=ferrun-deb-test-$$
track_new_dirs /run/ferrun libpod_parent
P=(timeout 180 podman --root "$T/podman/root" --runroot "$T/podman/run" --tmpdir "$T/podman/tmp"
   --runtime "$F" --cgroup-manager=cgroupfs --events-backend=file)
# This host lacks CAP_SYS_RESOURCE: rlimits pinned as scripts/clients/podman.sh does.
R=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
IMG=localhost/ferrun-deb-bb:latest
cleanup() {
  [ -x "$F" ] && timeout 20 "$F" --root "$T/state" delete -f "$CID" >/dev/null 2>&1
  podman_cleanup # podman's containers and images, mounts under $T, $T, new cgroup/state dirs
}
trap cleanup EXIT

# What the package holds, read from the .deb itself.
contents=$(dpkg-deb --contents "$DEB")
for f in ./usr/sbin/ferrun ./usr/share/man/man8/ferrun.8.gz ./usr/share/man/man8/ferrun-run.8.gz \
  ./usr/share/bash-completion/completions/ferrun ./usr/share/zsh/vendor-completions/_ferrun \
  ./usr/share/fish/vendor_completions.d/ferrun.fish ./usr/share/doc/ferrun/copyright \
  ./usr/share/doc/ferrun/changelog.Debian.gz; do
  grep -q " $f\$" <<<"$contents" && pass "dpkg --contents lists $f" || fail "the package lacks $f"
done
pages=$(grep -c '/usr/share/man/man8/ferrun.*\.8\.gz$' <<<"$contents")
[ "$pages" -ge 18 ] && pass "$pages man pages (ferrun.8 and one per command)" || fail "only $pages man pages"
owners=$(awk '{print $2}' <<<"$contents" | sort -u | tr '\n' ' ')
check "every file is owned by root:root" "root/root " "$owners"

# lintian's root warning aside, any error or warning of the package fails (the overrides it
# ships say why the binary is static). Its temporary files (it leaves /tmp/mldbm-elf-*) go
# with $T.
if out=$(TMPDIR=$T lintian --fail-on error,warning "$DEB" 2>&1); then pass "lintian: no error or warning"
else fail "lintian: $out"; fi

# An empty dpkg database: dpkg refuses the package if it needed anything.
mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates" "$ROOT/var/lib/dpkg/triggers"
touch "$ROOT/var/lib/dpkg/status" "$ROOT/var/lib/dpkg/available"
D=(dpkg --root="$ROOT" --log="$T/dpkg.log")
if "${D[@]}" -i "$DEB" >"$T/dpkg.out" 2>&1; then pass "dpkg -i into an empty root (no Depends to meet)"
else fail "dpkg -i: $(cat "$T/dpkg.out")"; finish; fi
check "dpkg records it installed" "install ok installed" "$("${D[@]}" -s ferrun 2>/dev/null | sed -n 's/^Status: //p')"

readelf -lW "$F" | grep -q INTERP && fail "/usr/sbin/ferrun is dynamically linked" || pass "/usr/sbin/ferrun is static"
readelf -SW "$F" | grep -q '\.symtab' && fail "/usr/sbin/ferrun is not stripped" || pass "/usr/sbin/ferrun is stripped"
version=$(dpkg-deb -f "$DEB" Version)
check "ferrun --version" "ferrun version ${version%-*}" "$("$F" --version | head -1)"
mkdir -p "$T/spec"
"$F" spec --bundle "$T/spec" && check "ferrun spec writes a config.json" "ok" \
  "$(jq -r 'if .ociVersion and .process.args then "ok" else "incomplete" end' "$T/spec/config.json")" \
  || fail "ferrun spec"

FERRUN=$F scripts/busybox-bundle.sh "$T/bundle" sh -c 'echo "hello from $(hostname)"; exit 3' >/dev/null
out=$(timeout 60 "$F" --root "$T/state" run --bundle "$T/bundle" "$CID" 2>"$T/err")
rc=$?
check "a busybox container run by the installed ferrun prints" "hello from $(jq -r .hostname "$T/bundle/config.json")" "$out"
check "and exits with the container's code" 3 "$rc"
[ -z "$(ls -A "$T/state" 2>/dev/null)" ] && pass "run left no state behind" || fail "state left: $(ls "$T/state")"

busybox_rootfs_tar "$T/bb.tar"
if "${P[@]}" import "$T/bb.tar" "$IMG" >/dev/null 2>"$T/err"; then
  check "podman uses the installed ferrun" "$F" "$("${P[@]}" info --format '{{.Host.OCIRuntime.Path}}' 2>/dev/null)"
  out=$("${P[@]}" run --rm "${R[@]}" "$IMG" sh -c 'echo hello from podman; exit 5' 2>"$T/err")
  rc=$?
  check "podman run --rm prints the container's stdout" "hello from podman" "$out"
  check "podman run exits with the container's code" 5 "$rc"
  cid=$("${P[@]}" run -d "${R[@]}" "$IMG" sleep 300 2>"$T/err")
  if [ -n "$cid" ]; then
    check "podman exec in a container of the installed ferrun" "in" "$("${P[@]}" exec "$cid" echo in 2>&1)"
    "${P[@]}" stop -t 2 "$cid" >/dev/null 2>"$T/err" && pass "podman stop" || fail "podman stop: $(cat "$T/err")"
    "${P[@]}" rm "$cid" >/dev/null 2>"$T/err" && pass "podman rm" || fail "podman rm: $(cat "$T/err")"
  else
    fail "podman run -d: $(cat "$T/err")"
  fi
else
  fail "podman import: $(cat "$T/err")"
fi

page=$(MANWIDTH=80 man -l "$ROOT/usr/share/man/man8/ferrun-run.8.gz" 2>"$T/err")
grep -q '^NAME' <<<"$page" && grep -q -- '--detach' <<<"$page" \
  && pass "man -l renders ferrun-run.8.gz (NAME, --detach)" || fail "man -l ferrun-run.8.gz: $(cat "$T/err")"
check "man finds ferrun(8) in the installed tree" "$ROOT/usr/share/man/man8/ferrun.8.gz" \
  "$(MANPATH=$ROOT/usr/share/man man -w 8 ferrun 2>/dev/null)"
words=$(bash --norc -c 'source "$1" || exit 1; complete -p ferrun >/dev/null || exit 1
  fn=$(complete -p ferrun | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
  COMP_WORDS=(ferrun de); COMP_CWORD=1; COMP_LINE="ferrun de"; COMP_POINT=9
  "$fn" ferrun de ferrun; echo "${COMPREPLY[*]}"' _ "$ROOT/usr/share/bash-completion/completions/ferrun")
check "the installed bash completion completes ferrun de<TAB>" "delete" "$words"

if "${D[@]}" -r ferrun >"$T/dpkg.out" 2>&1 && [ ! -e "$F" ] \
  && [ -z "$(find "$ROOT/usr" -type f 2>/dev/null)" ]; then
  pass "dpkg -r removes every file"
else
  fail "dpkg -r: $(cat "$T/dpkg.out"; find "$ROOT/usr" -type f)"
fi

echo "deb-test: $(basename "$DEB") in $(($(date +%s) - start)) s"
finish
