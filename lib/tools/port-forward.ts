/**
 * `kubectl port-forward svc/NAME :PORT`: kubectl picks a free local port (the ":PORT" form)
 * and says which on stdout ("Forwarding from 127.0.0.1:N -> PORT"); we wait for that line,
 * bounded. A forward that dies (kubectl exits on "lost connection to pod") is restarted on
 * the next use, a bounded number of times. Every child is tracked in a ChildSet, so a finally
 * or a signal handler can stop them all: no orphaned port-forwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ToolClock } from '../core/tool-clock.ts';

/** kubectl's own words; with --address 127.0.0.1 there is no [::1] line. */
const FORWARDING = /^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/m;

/** The local port from kubectl port-forward's stdout, once the "Forwarding from" line is there. */
export function parseForwardingPort(stdout: string): number | undefined {
  const match = FORWARDING.exec(stdout);
  return match ? Number(match[1]) : undefined;
}

/** Every port-forward child alive in this process. */
export class ChildSet {
  private readonly children = new Set<ChildProcess>();
  /** Set by killAll(): after Ctrl-C nothing may start a new forward. */
  closed = false;

  add(child: ChildProcess): void {
    if (this.closed) {
      child.kill('SIGKILL');
      return;
    }
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  get size(): number {
    return this.children.size;
  }

  pids(): number[] {
    return [...this.children].map((child) => child.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Synchronous, for signal handlers and process exit: SIGKILL leaves nothing to wait for. */
  killAll(): number {
    this.closed = true;
    let killed = 0;
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')) killed += 1;
    this.children.clear();
    return killed;
  }
}

export class ForwardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardError';
  }
}

export interface ForwardOptions {
  /** The whole command, e.g. Kubectl.argv(['port-forward', '-n', ns, 'svc/x', ':8080', '--address', '127.0.0.1']). */
  argv: string[];
  env: Record<string, string | undefined>;
  children: ChildSet;
  /** How long kubectl may take to print its "Forwarding from" line. */
  readyTimeoutMs?: number;
  /** Starts allowed in all (the first one included). */
  maxStarts?: number;
  /** Told when kubectl starts and when it is forwarding (or failed): time inside kubectl. */
  clock?: ToolClock;
}

export const FORWARD_READY_TIMEOUT_MS = 15_000;
export const FORWARD_MAX_STARTS = 4;

const TAIL_CHARS = 2_000;
const STOP_GRACE_MS = 2_000;

function alive(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

export class PortForward {
  starts = 0;
  /** Bumped on every start: a failure seen through an old forward must not restart a new one. */
  generation = 0;
  private child?: ChildProcess;
  private port?: number;
  private starting?: Promise<number>;
  private stderrTail = '';

  constructor(readonly label: string, private readonly options: ForwardOptions) {}

  get pid(): number | undefined {
    return alive(this.child) ? this.child.pid : undefined;
  }

  /** The local port of a live forward, starting or restarting kubectl when needed. */
  async ensure(): Promise<{ port: number; generation: number }> {
    if (alive(this.child) && this.port !== undefined && !this.starting) return { port: this.port, generation: this.generation };
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    const port = await this.starting;
    return { port, generation: this.generation };
  }

  /** After a connection failure through `generation`: kill that forward so the next ensure() starts afresh. */
  invalidate(generation: number): void {
    if (generation !== this.generation || !alive(this.child)) return;
    this.child.kill('SIGKILL');
    this.port = undefined; // the exit event comes later; until then this forward must not be reused
  }

  private start(): Promise<number> {
    const { argv, env, children } = this.options;
    const maxStarts = this.options.maxStarts ?? FORWARD_MAX_STARTS;
    if (children.closed) return Promise.reject(new ForwardError(`port-forward to ${this.label}: stopped`));
    if (this.starts >= maxStarts) {
      return Promise.reject(new ForwardError(`port-forward to ${this.label} failed ${this.starts} times${this.reason()}`));
    }
    if (alive(this.child)) this.child.kill('SIGKILL');
    this.starts += 1;
    this.generation += 1;
    this.port = undefined;
    this.stderrTail = '';
    const child = spawn(argv[0]!, argv.slice(1), { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    children.add(child);
    const startedUp = this.options.clock?.start() ?? (() => {});
    return new Promise<number>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(`kubectl port-forward printed no "Forwarding from" line within ${Math.round((this.options.readyTimeoutMs ?? FORWARD_READY_TIMEOUT_MS) / 1000)}s`);
      }, this.options.readyTimeoutMs ?? FORWARD_READY_TIMEOUT_MS);
      const fail = (why: string) => {
        startedUp();
        clearTimeout(timer);
        reject(new ForwardError(`port-forward to ${this.label}: ${why}${this.reason()}`));
      };
      // Both pipes are drained for the child's whole life: kubectl prints a line per
      // connection and would block once a full pipe stops being read.
      child.stdout!.on('data', (chunk: Buffer) => {
        if (this.port !== undefined || child !== this.child) return;
        stdout = (stdout + chunk.toString()).slice(-TAIL_CHARS);
        const port = parseForwardingPort(stdout);
        if (port === undefined) return;
        clearTimeout(timer);
        startedUp();
        this.port = port;
        resolve(port);
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        if (child === this.child) this.stderrTail = (this.stderrTail + chunk.toString()).slice(-TAIL_CHARS);
      });
      child.once('error', (error) => fail(`cannot run ${argv[0]}: ${error.message}`));
      child.once('exit', (code, signal) => {
        if (child === this.child) this.port = undefined;
        fail(`kubectl exited (${signal ?? `code ${code}`}) before forwarding`);
      });
    });
  }

  private reason(): string {
    const lines = this.stderrTail.trim().split('\n').filter(Boolean);
    return lines.length ? `: ${lines[lines.length - 1]}` : '';
  }

  /** Stops kubectl: SIGTERM, then SIGKILL if it has not exited within two seconds. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.port = undefined;
    if (!alive(child)) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

/**
 * On SIGINT/SIGTERM: kills every port-forward child at once, then calls `onSignal` (which
 * rejects the run so runMain reports it). Also kills them on process exit, whatever the cause.
 * Returns a function that removes the handlers.
 */
export function stopChildrenOnSignals(children: ChildSet, onSignal: (signal: NodeJS.Signals) => void, proc: NodeJS.Process = process): () => void {
  const handler = (signal: NodeJS.Signals) => {
    children.killAll();
    onSignal(signal);
  };
  const onExit = () => children.killAll();
  proc.on('SIGINT', handler);
  proc.on('SIGTERM', handler);
  proc.on('exit', onExit);
  return () => {
    proc.off('SIGINT', handler);
    proc.off('SIGTERM', handler);
    proc.off('exit', onExit);
  };
}
