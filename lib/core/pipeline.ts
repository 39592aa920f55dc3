/**
 * A step list with a `finally`: the main steps run in order until one fails, the run's
 * deadline passes or the signal aborts (Ctrl-C); then every finally step runs regardless
 * (collect artifacts, tear down), each on its own, so one failing does not skip the next.
 */
import type { Output } from './output.ts';
import { runStep, type Step, type StepRecord } from './steps.ts';

export interface PipelineOptions {
  deadlineMs: number;
  signal?: AbortSignal;
  /** Told about the failure before the finally steps run (they may collect more evidence). */
  onFailure?: (step: string, error: unknown) => void;
}

export interface PipelineResult {
  records: StepRecord[];
  /** The first main step that failed, with its error. */
  failed?: { step: string; error: unknown };
  /** Finally steps that failed (the run fails too). */
  finallyFailed: string[];
}

/** The longest delay setTimeout can hold; a longer one fires at once (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Durations are bounded in the schema and flags; this is the last line, never a silent wrap. */
export function assertTimerRange(ms: number): void {
  if (!(ms >= 0 && ms <= MAX_TIMER_MS))
    throw new RangeError(`a deadline of ${ms} ms cannot be armed: it must be at most ${MAX_TIMER_MS} ms (24 days)`);
}

export class DeadlineError extends Error {
  constructor(deadlineMs: number) {
    super(`the run passed its deadline of ${Math.round(deadlineMs / 60_000)}m; the step was abandoned`);
    this.name = 'DeadlineError';
  }
}

/**
 * The signal a pipeline's steps should watch for their own work (a wait's watch streams, the
 * smoke's port-forwards): it aborts on `signal` (Ctrl-C) and at the deadline, so a step
 * abandoned by runPipeline's race also stops what it started. `dispose` clears the timer.
 */
export function workSignal(
  signal: AbortSignal | undefined,
  deadlineMs: number,
): { signal: AbortSignal; dispose(): void } {
  assertTimerRange(deadlineMs);
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new DeadlineError(deadlineMs)), deadlineMs);
  timer.unref();
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

export async function runPipeline<C>(
  steps: Step<C>[],
  finallySteps: Step<C>[],
  context: C,
  output: Output,
  options: PipelineOptions,
): Promise<PipelineResult> {
  assertTimerRange(options.deadlineMs);
  const records: StepRecord[] = [];
  const deadline = Date.now() + options.deadlineMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  // Rejects when the deadline passes or the signal fires, whichever comes first.
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(options.deadlineMs)), Math.max(0, deadline - Date.now()));
    onAbort = () =>
      reject(
        options.signal?.reason instanceof Error
          ? options.signal.reason
          : new Error(`interrupted (${String(options.signal?.reason)})`),
      );
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  stop.catch(() => {}); // observed by the races below
  const guard = <T>(work: Promise<T>) => Promise.race([work, stop]);

  let failed: PipelineResult['failed'];
  try {
    for (const step of steps) {
      try {
        await runStep(step, context, output, records, guard);
      } catch (error) {
        failed = { step: step.name, error };
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
  }

  if (failed) options.onFailure?.(failed.step, failed.error);
  const finallyFailed: string[] = [];
  for (const step of finallySteps) {
    try {
      await runStep(step, context, output, records);
    } catch (error) {
      finallyFailed.push(step.name);
      output.line(`  ${step.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { records, ...(failed ? { failed } : {}), finallyFailed };
}
