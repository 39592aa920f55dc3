/**
 * `kubectl port-forward svc/NAME :PORT`: kubectl picks a free local port (the ":PORT" form)
 * and says which on stdout ("Forwarding from 127.0.0.1:N -> PORT"); we wait for that line,
 * bounded. A forward that dies (kubectl exits on "lost connection to pod") is restarted on
 * the next use, a bounded number of times. kubectl runs as a stream of the run's runner, so
 * the one interrupt path (runMain) stops it with every other tool: no orphaned forwards.
 */
import type { StreamHandle } from '../core/stream.ts';

/** kubectl's own words; with --address 127.0.0.1 there is no [::1] line. */
const FORWARDING = /^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/m;

/** The local port from kubectl port-forward's stdout, once the "Forwarding from" line is there. */
export function parseForwardingPort(stdout: string): number | undefined {
  const match = FORWARDING.exec(stdout);
  return match ? Number(match[1]) : undefined;
}

export class ForwardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardError';
  }
}

export interface ForwardOptions {
  /** Starts kubectl port-forward (Kubectl.stream); undefined when the runner cannot stream. */
  start(onStdout: (chunk: string) => void): StreamHandle | undefined;
  /** How long kubectl may take to print its "Forwarding from" line. */
  readyTimeoutMs?: number;
  /** Starts allowed in all (the first one included). */
  maxStarts?: number;
  /** After an interrupt nothing may start a new forward. */
  signal?: AbortSignal;
}

export const FORWARD_READY_TIMEOUT_MS = 15_000;
export const FORWARD_MAX_STARTS = 4;

const TAIL_CHARS = 2_000;

export class PortForward {
  starts = 0;
  /** Bumped on every start: a failure seen through an old forward must not restart a new one. */
  generation = 0;
  private handle?: StreamHandle;
  private running = false;
  private port?: number;
  private starting?: Promise<number>;
  private lastStderr = '';

  constructor(
    readonly label: string,
    private readonly options: ForwardOptions,
  ) {}

  get pid(): number | undefined {
    return this.running ? this.handle?.pid : undefined;
  }

  /** The local port of a live forward, starting or restarting kubectl when needed. */
  async ensure(): Promise<{ port: number; generation: number }> {
    if (this.running && this.port !== undefined && !this.starting)
      return { port: this.port, generation: this.generation };
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    const port = await this.starting;
    return { port, generation: this.generation };
  }

  /** After a connection failure through `generation`: kill that forward so the next ensure() starts afresh. */
  invalidate(generation: number): void {
    if (generation !== this.generation || !this.running) return;
    this.handle?.stop();
    this.port = undefined; // the exit comes later; until then this forward must not be reused
  }

  private start(): Promise<number> {
    const maxStarts = this.options.maxStarts ?? FORWARD_MAX_STARTS;
    if (this.options.signal?.aborted) return Promise.reject(new ForwardError(`port-forward to ${this.label}: stopped`));
    if (this.starts >= maxStarts) {
      return Promise.reject(
        new ForwardError(`port-forward to ${this.label} failed ${this.starts} times${this.reason()}`),
      );
    }
    if (this.running) this.handle?.stop();
    this.starts += 1;
    this.generation += 1;
    this.port = undefined;
    return new Promise<number>((resolve, reject) => {
      let stdout = '';
      let settled = false;
      const readyTimeoutMs = this.options.readyTimeoutMs ?? FORWARD_READY_TIMEOUT_MS;
      // Both pipes are drained for the child's whole life (the stream does that): kubectl
      // prints a line per connection and would block once a full pipe stops being read.
      const handle = this.options.start((chunk) => {
        if (settled || handle !== this.handle) return;
        stdout = (stdout + chunk).slice(-TAIL_CHARS);
        const port = parseForwardingPort(stdout);
        if (port === undefined) return;
        settled = true;
        clearTimeout(timer);
        this.handle?.serving();
        this.port = port;
        resolve(port);
      });
      if (!handle) {
        reject(new ForwardError(`port-forward to ${this.label}: this runner cannot start long-running tools`));
        return;
      }
      this.handle = handle;
      this.running = true;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new ForwardError(`port-forward to ${this.label}: ${why}${this.reason()}`));
      };
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        handle.stop();
      }, readyTimeoutMs);
      void handle.exited.then(({ exitCode, signal, stderr }) => {
        if (handle !== this.handle) return;
        this.running = false;
        this.port = undefined;
        this.lastStderr = stderr;
        fail(
          timedOut
            ? `kubectl port-forward printed no "Forwarding from" line within ${Math.round(readyTimeoutMs / 1000)}s`
            : `kubectl exited (${signal ?? `code ${exitCode}`}) before forwarding`,
        );
      });
    });
  }

  private reason(): string {
    const lines = this.lastStderr.trim().split('\n').filter(Boolean);
    return lines.length ? `: ${lines[lines.length - 1]}` : '';
  }

  /** Stops kubectl (its process group) and waits until it has exited. */
  async stop(): Promise<void> {
    const handle = this.handle;
    this.port = undefined;
    if (!handle || !this.running) return;
    handle.stop();
    await handle.exited;
  }
}
