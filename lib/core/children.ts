/**
 * Every process this run started (kubectl, kind, docker, git, port-forwards, watch streams),
 * each in a process group of its own, so that one place can stop them all: runMain on Ctrl-C,
 * SIGTERM or SIGHUP, and at exit. A group is signalled whole, so what a tool forks (docker
 * build's helpers, a shell's children) goes with it. Detached groups also mean a terminal's
 * Ctrl-C reaches only us, and we decide what stops and when.
 */

export class Children {
  private readonly groups = new Set<number>();

  /** Tracks a process group (its leader's pid); returns the call that forgets it once it has exited. */
  add(pid: number | undefined): () => void {
    if (pid === undefined) return () => {};
    this.groups.add(pid);
    return () => this.groups.delete(pid);
  }

  get size(): number {
    return this.groups.size;
  }

  /**
   * Signals every group (synchronous, so it works in signal and exit handlers). SIGKILL by
   * default: a tool interrupted mid-way has nothing to save, and nothing must outlive us.
   */
  killAll(signal: NodeJS.Signals = 'SIGKILL'): number {
    let signalled = 0;
    for (const pid of this.groups) {
      try {
        process.kill(-pid, signal);
        signalled += 1;
      } catch {
        // already gone
      }
    }
    this.groups.clear();
    return signalled;
  }
}
