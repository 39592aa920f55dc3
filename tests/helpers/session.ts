/** A Session for tests and benchmarks: a runner of the caller's, output kept in memory. */
import type { Runner } from '../../lib/core/exec.ts';
import { memoryOutput, type Output } from '../../lib/core/output.ts';
import { Redactor } from '../../lib/core/redact.ts';
import type { Session } from '../../lib/core/session.ts';
import type { ToolClock } from '../../lib/core/tool-clock.ts';

export function testSession(
  runner: Runner,
  options: {
    env?: Record<string, string | undefined>;
    redactor?: Redactor;
    signal?: AbortSignal;
    clock?: ToolClock;
    verbose?: boolean;
  } = {},
): Session & { output: Output & { lines: string[] }; deferred: (() => void)[] } {
  const redactor = options.redactor ?? new Redactor();
  const deferred: (() => void)[] = [];
  return {
    output: memoryOutput(redactor, options.verbose ?? false),
    runner,
    redactor,
    env: options.env ?? {},
    signal: options.signal ?? new AbortController().signal,
    defer: (cleanup) => void deferred.push(cleanup),
    deferred,
    ...(options.clock ? { clock: options.clock } : {}),
  };
}
