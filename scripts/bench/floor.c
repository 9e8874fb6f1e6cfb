/* floor ROOTFS: the least a runtime must do to run /bin/true in a container, the bench's
 * reference (issue 14): one clone of the five namespaces a default config.json asks for
 * (mnt, uts, ipc, pid, net), `/` made private, the rootfs bound onto itself, pivot_root, and
 * execve /bin/true; the parent waits. No cgroup, no /proc or /dev, no seccomp, no state. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[64 * 1024];

static int child(void *rootfs) {
  char *argv[] = {"/bin/true", NULL}, *envp[] = {NULL};
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) || mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) ||
      chdir(rootfs) || syscall(SYS_pivot_root, ".", ".") || umount2(".", MNT_DETACH) || chdir("/")) {
    perror("floor: setting up the root");
    return 125;
  }
  execve(argv[0], argv, envp);
  perror("floor: execve /bin/true");
  return 127;
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: floor ROOTFS\n"); return 2; }
  int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET | SIGCHLD;
  pid_t p = clone(child, stack + sizeof stack, flags, argv[1]);
  int st;
  if (p < 0) { perror("floor: clone"); return 2; }
  if (waitpid(p, &st, 0) != p) { perror("floor: waitpid"); return 2; }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
