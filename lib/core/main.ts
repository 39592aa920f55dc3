/**
 * The only place that prints errors and sets the exit code:
 * 0 success, 1 an operation failed, 2 invalid config or usage (nothing was changed).
 */
import { CommandError } from './exec.ts';
import { UsageError } from './errors.ts';
import { Redactor } from './redact.ts';

export interface MainContext {
  argv: string[];
  /** The process environment, read here once and passed down (lib/ never reads process.env). */
  env: Record<string, string | undefined>;
  redactor: Redactor;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

export function exitCodeFor(error: unknown): number {
  return error instanceof UsageError ? 2 : 1;
}

export function formatError(error: unknown): string {
  if (error instanceof UsageError) {
    return [`error: ${error.message}`, ...error.problems.map((problem) => `  - ${problem}`)].join('\n');
  }
  if (error instanceof CommandError || error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}

export async function runMain(main: (context: MainContext) => Promise<number | void>): Promise<void> {
  const redactor = new Redactor();
  const context: MainContext = {
    argv: process.argv.slice(2),
    env: { ...process.env },
    redactor,
    stdout: process.stdout,
    stderr: process.stderr,
  };
  try {
    process.exitCode = (await main(context)) ?? 0;
  } catch (error) {
    process.stderr.write(`${redactor.mask(formatError(error))}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
