/**
 * Errors that decide the exit code. `runMain()` maps them: UsageError -> 2,
 * InterruptedError -> 128 + the signal's number, anything else -> 1. lib/ throws these and
 * wraps with short context; only runMain prints.
 */
import { constants } from 'node:os';

/** Bad config, bad flags, missing env vars or tools: nothing was changed. Exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** One line each, shown under the message ("path: problem"). */
    readonly problems: string[] = [],
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Ctrl-C, SIGTERM or SIGHUP stopped the run. Exit code 128 + signal (130, 143, 129). */
export class InterruptedError extends Error {
  constructor(
    readonly signal: NodeJS.Signals,
    /** What was done about it, e.g. "evidence collected, torn down". */
    detail = 'every tool it started was stopped',
  ) {
    super(`interrupted by ${signal}: ${detail}`);
    this.name = 'InterruptedError';
  }

  get exitCode(): number {
    return 128 + (constants.signals[this.signal] ?? 2);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The message with a UsageError's problems under it, one per line: what reports keep. */
export function describeError(error: unknown): string {
  const problems = error instanceof UsageError ? error.problems.map((problem) => `  - ${problem}`) : [];
  return [errorMessage(error), ...problems].join('\n');
}
