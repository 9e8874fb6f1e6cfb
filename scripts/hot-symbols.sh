#!/bin/bash
# hot-symbols.sh: regenerate runtime/hot-symbols.txt (or $OUT), the functions `make build`
# links first.
#
# Why: the kernel maps a binary's text 64 KiB at a time around each page fault (fault-around;
# whole large folios on recent kernels), so the peak RSS of a ferrun command is set by how
# many 64 KiB windows of its 4 MiB text it touches, not by how much code it runs. Spread
# over the whole text, the ~1 MiB of functions that run/create/start/delete/exec execute
# touched nearly every window. Linked first and together (lld's --symbol-ordering-file),
# they fill about a quarter of the text (docs/proof.md has the numbers).
#
# How: ferrun built as `make build` builds it (unstripped) runs each command of a
# container's life under a tiny ptrace single-stepper (source below), which follows the
# re-exec and the cloned init and records every instruction address inside ferrun's text; the
# functions containing them are written in their address order. Takes 10-30 minutes (every
# instruction is a ptrace stop; the seccomp profiles' compiles are most of it). A stale list
# still links: names that no longer exist are ignored (--no-warn-symbol-ordering), new hot
# functions just stay where they were. Rerun it after a toolchain or dependency update, or
# when `make bench` shows the RSS creeping up.
# Needs root (it runs containers) and busybox-static.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "hot-symbols.sh needs root" >&2; exit 2; }
OUT=${OUT:-runtime/hot-symbols.txt}
# The Makefile's static build without the ordering (the layout traced does not matter, the
# names do): same target dir and profile, so the names carry the hashes `make build` links.
# Its arguments differ from the Makefile's, so the next `make build` relinks with the list.
CARGO_TARGET_DIR=target/static CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
  CARGO_PROFILE_RELEASE_STRIP=false RUSTFLAGS="-C target-feature=+crt-static" \
  LIBSECCOMP_LINK_TYPE=static LIBSECCOMP_LIB_PATH=/usr/lib/x86_64-linux-gnu \
  cargo rustc --release -p ferrun --bin ferrun --target x86_64-unknown-linux-gnu -- \
  -C relocation-model=static >&2
F=$(readlink -f target/static/x86_64-unknown-linux-gnu/release/ferrun)

T=$(mktemp -d /tmp/ferrun-hot.XXXXXX)
R=$T/root
cleanup() {
  "$F" --root "$R" delete --force hot-s >/dev/null 2>&1 || true
  "$F" --root "$R" delete --force hot-c >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
cat > "$T/stepper.c" <<'C'
/* stepper LO HI OUT cmd...: single-step cmd and every process it forks or clones; write each
 * executed instruction address in [LO,HI), in hex, one a line. Stops following a process
 * once it execs anything but ferrun (the container's program). Exits with cmd's status. */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  unsigned long lo = strtoul(argv[1], 0, 0), hi = strtoul(argv[2], 0, 0);
  unsigned char *hit = calloc(hi - lo, 1);
  pid_t c = fork();
  if (c == 0) { ptrace(PTRACE_TRACEME, 0, 0, 0); raise(SIGSTOP); execv(argv[4], argv + 4); _exit(127); }
  int st, live = 1, code = 1;
  waitpid(c, &st, 0);
  ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEFORK | PTRACE_O_TRACECLONE |
         PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
  ptrace(PTRACE_SINGLESTEP, c, 0, 0);
  while (live > 0) {
    pid_t p = waitpid(-1, &st, __WALL);
    if (p < 0) break;
    if (WIFEXITED(st) || WIFSIGNALED(st)) {
      if (p == c) code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      live--;
      continue;
    }
    if (!WIFSTOPPED(st)) continue;
    int sig = WSTOPSIG(st), ev = st >> 16;
    if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_CLONE || ev == PTRACE_EVENT_VFORK) {
      live++;
      sig = 0;
    } else if (ev == PTRACE_EVENT_EXEC) {
      char path[64], exe[4096] = "";
      snprintf(path, sizeof path, "/proc/%d/exe", p);
      ssize_t n = readlink(path, exe, sizeof exe - 1);
      if (n > 0) exe[n] = 0;
      /* ferrun's re-exec runs from a detached mount, which /proc shows as "/". */
      if (strcmp(exe, "/") != 0 && strcmp(exe, argv[4]) != 0) {
        ptrace(PTRACE_DETACH, p, 0, 0);
        live--;
        continue;
      }
      sig = 0;
    } else if (sig == SIGTRAP) {
      unsigned long rip = ptrace(PTRACE_PEEKUSER, p, offsetof(struct user_regs_struct, rip), 0);
      if (rip >= lo && rip < hi) hit[rip - lo] = 1;
      sig = 0;
    } else if (sig == SIGSTOP) {
      sig = 0;
    }
    ptrace(PTRACE_SINGLESTEP, p, 0, sig);
  }
  FILE *o = fopen(argv[3], "w");
  for (unsigned long a = 0; a < hi - lo; a++)
    if (hit[a]) fprintf(o, "%lx\n", a + lo);
  return fclose(o) != 0 ? 1 : code;
}
C
cc -O2 -o "$T/stepper" "$T/stepper.c"

# The bench bundle (scripts/bench.sh): runc's default config, busybox.
B=$T/bundle
mkdir -p "$B/rootfs/bin" "$B/rootfs/proc" "$B/rootfs/dev" "$B/rootfs/sys" "$B/rootfs/tmp"
cp /bin/busybox "$B/rootfs/bin/busybox"
ln -s busybox "$B/rootfs/bin/true"
ln -s busybox "$B/rootfs/bin/sleep"
"$F" spec --bundle "$B"
jq '.process.terminal=false | .process.args=["/bin/true"] | del(.process.capabilities.ambient)' \
  "$B/config.json" > "$B/true.json"
jq '.process.args=["/bin/sleep","1000"]' "$B/true.json" > "$B/sleep.json"

# The text segment's bounds (the executable PT_LOAD of a non-PIE binary: absolute addresses).
read -r LO SZ < <(readelf -lW "$F" | awk '$1 == "LOAD" && $8 == "E" {print $3, $6}')
HI=$(printf '0x%x' $((LO + SZ)))
step() { "$T/stepper" "$LO" "$HI" "$T/hits.$1" "$F" --root "$R" "${@:2}" </dev/null >/dev/null; }
# `run` is create + start + wait + delete in one process tree, so it covers create's code
# (create's own init outlives the command, which the stepper would wait for).
cp "$B/true.json" "$B/config.json"
step run run -b "$B" hot-r
"$F" --root "$R" create -b "$B" hot-c </dev/null >/dev/null
step start start hot-c
step delete delete --force hot-c
# With seccomp profiles, as Docker, podman and containerd send one: libseccomp's rule
# building and compiling run only then (a short list runs the same code as a long one).
# Docker's shape first (errno by default, an allow list; ferrun loads this one itself), then
# a deny list (libseccomp loads it).
jq '.linux.seccomp = {defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1,
  architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  syscalls: [{names: ["read", "write", "openat", "close", "fstat", "newfstatat", "statx",
      "mmap", "mprotect", "munmap", "brk", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
      "sigaltstack", "exit", "exit_group", "execve", "execveat", "arch_prctl", "getpid",
      "getppid", "futex", "set_tid_address", "set_robust_list", "rseq", "ioctl", "fcntl",
      "prctl", "capget", "capset", "setgroups", "setuid", "setgid", "setresuid",
      "setresgid", "getuid", "geteuid", "getgid", "getegid", "uname", "readlink",
      "readlinkat", "pread64", "lseek", "access", "faccessat", "faccessat2", "prlimit64",
      "getrandom", "close_range", "dup2", "dup3", "getcwd", "chdir", "fchdir", "poll",
      "ppoll", "sched_getaffinity"], action: "SCMP_ACT_ALLOW"},
    {names: ["personality"], action: "SCMP_ACT_ALLOW",
      args: [{index: 0, value: 0, op: "SCMP_CMP_EQ"}]},
    {names: ["kill"], action: "SCMP_ACT_ERRNO", errnoRet: 38}]}' \
  "$B/true.json" > "$B/config.json"
step seccomp run -b "$B" hot-p
jq '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
  architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  syscalls: [{names: ["kexec_load", "reboot", "swapon", "swapoff", "init_module",
      "finit_module", "delete_module", "acct", "add_key", "keyctl", "request_key", "bpf",
      "mount", "umount2", "pivot_root", "setns", "unshare", "ptrace", "process_vm_readv"],
      action: "SCMP_ACT_ERRNO", errnoRet: 1},
    {names: ["personality"], action: "SCMP_ACT_ERRNO",
      args: [{index: 0, value: 0, op: "SCMP_CMP_NE"}]},
    {names: ["clone"], action: "SCMP_ACT_ERRNO",
      args: [{index: 0, value: 2114060288, op: "SCMP_CMP_MASKED_EQ", valueTwo: 1}]}]}' \
  "$B/true.json" > "$B/config.json"
step seccomp2 run -b "$B" hot-q
cp "$B/sleep.json" "$B/config.json"
"$F" --root "$R" run -d -b "$B" hot-s </dev/null >/dev/null
step exec exec hot-s /bin/true
step state state hot-s
step kill kill hot-s KILL
for _ in $(seq 50); do
  "$F" --root "$R" state hot-s 2>/dev/null | grep -q '"stopped"' && break
  sleep 0.1
done
step delete2 delete hot-s

# Addresses to the functions holding them, in address order. Assembly symbols have no size
# (crtbegin's frame_dummy, glibc's strcmp): they end where the next symbol starts.
nm -n -S --defined-only "$F" |
  awk '$(NF-1) ~ /^[tTwW]$/ {print $1, (NF == 4 ? $2 : "-"), $NF}' > "$T/syms"
cat "$T/hits".* | sort -u | /usr/bin/python3 -c '
import bisect, sys
syms = [(int(a, 16), s, n) for a, s, n in (l.split() for l in open(sys.argv[1]))]
ends = [a + int(s, 16) if s != "-" else (syms[i + 1][0] if i + 1 < len(syms) else a + 1)
        for i, (a, s, n) in enumerate(syms)]
starts = [s[0] for s in syms]
hot = set()
for line in sys.stdin:
    h = int(line, 16)
    i = bisect.bisect_right(starts, h) - 1
    # Aliases share an address: any of them names the section lld moves.
    while i >= 0 and h >= ends[i] and i > 0 and starts[i - 1] == starts[i]:
        i -= 1
    if i >= 0 and h < ends[i]:
        hot.add(i)
for i in sorted(hot):
    print(syms[i][2])
' "$T/syms" > "$OUT.new"
mv "$OUT.new" "$OUT"
echo "$(wc -l < "$OUT") functions in $OUT" >&2
