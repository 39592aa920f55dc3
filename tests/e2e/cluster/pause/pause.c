/* The pod sandbox's only process: it holds the pod's namespaces open and does nothing else.
 * Our own, because no public registry (and so no registry.k8s.io/pause) is reachable here.
 * As PID 1 of the pod's PID namespace it must reap orphans (SIGCHLD) and exit on SIGTERM or
 * SIGINT, since PID 1 gets no default signal handlers. Built static so the image is FROM scratch. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) { _exit(128 + sig); }

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction stop = {.sa_handler = on_stop};
  struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
  if (sigaction(SIGINT, &stop, NULL) < 0 || sigaction(SIGTERM, &stop, NULL) < 0 ||
      sigaction(SIGCHLD, &child, NULL) < 0) {
    perror("sigaction");
    return 1;
  }
  if (getpid() != 1) fprintf(stderr, "pause: warning: not PID 1\n");
  for (;;) pause();
}
