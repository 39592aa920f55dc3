/**
 * The only place that prints errors, sets the exit code and handles interrupts:
 * 0 success, 1 an operation failed, 2 invalid config or usage (nothing was changed),
 * 128 + signal when Ctrl-C (130), SIGTERM (143) or SIGHUP (129) stopped the run.
 *
 * An interrupt aborts the run's signal (steps stop their own work: a wait's streams, the
 * smoke's forwards; the nightly goes on to collect evidence and tear down), kills every tool's
 * process group at once and removes temporary credentials. A second interrupt exits at once.
 */
import { Children } from './children.ts';
import { describeError, InterruptedError, UsageError } from './errors.ts';
import { Redactor } from './redact.ts';

export interface MainContext {
  argv: string[];
  /** The process environment, read here once and passed down (lib/ never reads process.env). */
  env: Record<string, string | undefined>;
  redactor: Redactor;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborted, with an InterruptedError as its reason, on the first interrupt. */
  signal: AbortSignal;
  /** Every process group the run started. */
  children: Children;
  /** Registers a clean-up (a temporary credential to remove) that runs once: at exit, on interrupt or failure. */
  defer(cleanup: () => void): void;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function exitCodeFor(error: unknown): number {
  if (error instanceof InterruptedError) return error.exitCode;
  return error instanceof UsageError ? 2 : 1;
}

export function formatError(error: unknown): string {
  return `error: ${describeError(error)}`;
}

/** What runMain needs of the process; tests pass their own. */
export interface ProcessLike {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: MainContext['stdout'];
  stderr: MainContext['stderr'];
  exitCode?: number | string | undefined;
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  exit(code?: number): never;
}

export async function runMain(
  main: (context: MainContext) => Promise<number | void>,
  proc: ProcessLike = process as unknown as ProcessLike,
): Promise<void> {
  const env = { ...proc.env };
  // Under GitHub Actions each secret form is announced (on stderr, so stdout stays clean
  // for --dry-run) the moment it is registered: before anything could print it.
  const redactor = new Redactor(env.GITHUB_ACTIONS === 'true' ? (line) => proc.stderr.write(`${line}\n`) : undefined);
  const controller = new AbortController();
  const children = new Children();
  const cleanups: (() => void)[] = [];
  const cleanUp = () => {
    for (const cleanup of cleanups.splice(0)) {
      try {
        cleanup();
      } catch {
        // best effort: the others must still run
      }
    }
  };
  const stopEverything = () => {
    children.killAll();
    cleanUp();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      // The second interrupt: no more waiting for the run to wind down.
      stopEverything();
      proc.stderr.write(`${formatError(new InterruptedError(signal, 'stopped at once'))}\n`);
      proc.exit(new InterruptedError(signal).exitCode);
    }
    controller.abort(new InterruptedError(signal));
    stopEverything();
  };
  for (const signal of SIGNALS) proc.on(signal, onSignal);
  proc.on('exit', stopEverything);

  const context: MainContext = {
    argv: proc.argv.slice(2),
    env,
    redactor,
    stdout: proc.stdout,
    stderr: proc.stderr,
    signal: controller.signal,
    children,
    defer: (cleanup) => void cleanups.push(cleanup),
  };
  let code: number;
  try {
    code = (await main(context)) ?? 0;
    if (controller.signal.aborted) throw controller.signal.reason;
  } catch (caught) {
    // A step that failed because its tool was killed by the interrupt reports the interrupt.
    const error =
      controller.signal.aborted && !(caught instanceof InterruptedError) ? controller.signal.reason : caught;
    proc.stderr.write(`${redactor.mask(formatError(error))}\n`);
    code = exitCodeFor(error);
  } finally {
    for (const signal of SIGNALS) proc.off(signal, onSignal);
    proc.off('exit', stopEverything);
    stopEverything();
  }
  // After an interrupt, abandoned work (a poll's timer, a half-read response) must not keep
  // the process alive; otherwise it ends on its own once the event loop is empty.
  if (controller.signal.aborted) proc.exit(code);
  proc.exitCode = code;
}
