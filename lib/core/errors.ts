/**
 * Errors that decide the exit code. `runMain()` maps them: UsageError -> 2, anything else -> 1.
 * lib/ throws these and wraps with short context; only runMain prints.
 */

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

/** Adds context in front of an error's message while keeping its class (and so its exit code). */
export function withContext<T>(context: string, work: () => Promise<T>): Promise<T> {
  return work().catch((error: unknown) => {
    if (error instanceof Error) {
      error.message = `${context}: ${error.message}`;
      throw error;
    }
    throw new Error(`${context}: ${String(error)}`);
  });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
