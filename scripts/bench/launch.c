/* launch: the bench's measuring launcher (scripts/bench.sh). C, not Python or sh: ru_maxrss
 * keeps the RSS a process had before execve, so a child forked from Python would report
 * Python's ~8 MiB; this one forks from a ~1 MiB image.
 *
 *   launch -o FILE -l LABEL [-t SECS] -- ARGV...
 *     forks, execs ARGV (stdin/stdout from /dev/null), wait4()s it and appends one line
 *     "LABEL utime_us stime_us maxrss_kib wall_ns status" to FILE. ru_* are those of ARGV's
 *     whole waited-for tree. status is the exit code, 128+signal, or 124 when SECS (default
 *     60) ran out: the process group is then killed. Exits with that status.
 *   launch -R [-t SECS] -- ARGV...
 *     subreaper: runs ARGV and reaps every orphan below it (containers whose runtime exited)
 *     until ARGV exits; exits with ARGV's status. SIGTERM is passed on to ARGV (the bench's
 *     shell, whose trap cleans up); after SECS (default 3600) ARGV gets SIGTERM, two minutes
 *     later SIGKILL, and the status is 124. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t expired, termed;
static void on_alarm(int sig) { (void)sig; expired = 1; }
static void on_term(int sig) { (void)sig; termed = 1; }

static int status_of(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }

int main(int argc, char **argv) {
  const char *out = NULL, *label = NULL;
  int reaper = 0, opt;
  long secs = -1;
  while ((opt = getopt(argc, argv, "+o:l:t:R")) != -1) {
    if (opt == 'o') out = optarg;
    else if (opt == 'l') label = optarg;
    else if (opt == 't') secs = atol(optarg);
    else if (opt == 'R') reaper = 1;
    else return 2;
  }
  if (optind >= argc || (!reaper && (!out || !label))) {
    fprintf(stderr, "usage: launch -o FILE -l LABEL [-t SECS] -- ARGV... | launch -R [-t SECS] -- ARGV...\n");
    return 2;
  }
  if (secs < 0) secs = reaper ? 3600 : 60;
  if (reaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) { perror("launch: subreaper"); return 2; }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm; /* no SA_RESTART: wait4 returns EINTR when the bound is hit */
  sigaction(SIGALRM, &sa, NULL);
  if (reaper) { /* SIGTERM goes on to the bench's tree, whose trap cleans up */
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pid_t p = fork();
  if (p < 0) { perror("launch: fork"); return 2; }
  if (p == 0) {
    if (!reaper) setpgid(0, 0); /* a timeout kills the runtime's whole group */
    if (!reaper) {
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0); dup2(null, 1);
    }
    execv(argv[optind], argv + optind);
    fprintf(stderr, "launch: exec %s: %s\n", argv[optind], strerror(errno));
    _exit(127);
  }
  if (!reaper) setpgid(p, p);
  /* Ctrl-C: the measured child (own process group) finishes its run, the bench's tree (-R)
   * cleans up; this process outlives both so nothing is left unreaped. */
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  alarm((unsigned)secs);
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  int st = 0, rc = 124, stage = 0; /* stage 1: asked to stop (-R), 2: killed */
  for (;;) {
    pid_t w = wait4(reaper ? -1 : p, &st, 0, &ru);
    if (w == p) {
      if (!stage) rc = status_of(st);
      break;
    }
    if (w > 0) continue; /* an orphan reaped (-R) */
    if (errno != EINTR) break; /* ECHILD */
    if (termed) {
      termed = 0;
      kill(p, SIGTERM);
      continue;
    }
    if (!expired) continue;
    expired = 0;
    if (stage == 0 && reaper) { /* the tree gets two minutes to clean up after itself */
      fprintf(stderr, "launch: %s still running after %lds: stopping it\n", argv[optind], secs);
      kill(p, SIGTERM);
      stage = 1;
      alarm(120);
    } else if (stage < 2) {
      fprintf(stderr, "launch: %s still running after %lds: killed\n", argv[optind], secs);
      kill(-p, SIGKILL);
      kill(p, SIGKILL);
      stage = 2;
      alarm(5); /* SIGKILL cannot be ignored; this only bounds a child stuck in the kernel */
    } else {
      break;
    }
  }
  alarm(0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  if (reaper) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    return rc;
  }
  FILE *f = fopen(out, "a");
  if (!f) { perror("launch: open the record file"); return 2; }
  fprintf(f, "%s %ld %ld %ld %lld %d\n", label,
          ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec,
          ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec, ru.ru_maxrss,
          (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec), rc);
  fclose(f);
  return rc;
}
