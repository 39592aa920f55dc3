/**
 * How long at least one external tool (docker, kubectl, kind, git) was running: the union of
 * their lifetimes, so calls that overlap (parallel builds, three watches) count once. The
 * benchmarks subtract it from wall time to get the tool's own overhead.
 */
export class ToolClock {
  private active = 0;
  private since = 0;
  private closedMs = 0;
  calls = 0;

  /** Marks a tool as started; call the returned function (once) when it has ended. */
  start(now = performance.now()): (end?: number) => void {
    if (this.active++ === 0) this.since = now;
    this.calls += 1;
    let ended = false;
    return (end = performance.now()) => {
      if (ended) return;
      ended = true;
      if (--this.active === 0) this.closedMs += end - this.since;
    };
  }

  /** Busy time so far, a span still open included. */
  busyMs(now = performance.now()): number {
    return this.closedMs + (this.active > 0 ? now - this.since : 0);
  }
}
