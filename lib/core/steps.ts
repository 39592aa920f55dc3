/**
 * The step list is the script: named steps in an array, one loop runs them and prints one
 * ✓/✗ line each with its duration. A step may return a short outcome ("unchanged",
 * "created 3") that goes on its line.
 */
import { describeError } from './errors.ts';
import type { Output } from './output.ts';

export interface Step<C> {
  name: string;
  run(context: C): Promise<string | void>;
}

export interface StepRecord {
  name: string;
  ok: boolean;
  outcome?: string;
  /** The failure's message (already redacted by the caller's output), for reports. */
  error?: string;
  durationMs: number;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** The UTC stamp that names a run's directory: 20261130T031700Z (the cron wrapper spells it the same). */
export function runStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * Runs one step, prints its line and records it; rethrows its error unchanged (so its class
 * still decides the exit code). `guard` may race the step against a deadline or Ctrl-C.
 */
export async function runStep<C>(
  step: Step<C>,
  context: C,
  output: Output,
  records: StepRecord[],
  guard?: <T>(work: Promise<T>) => Promise<T>,
): Promise<void> {
  const started = performance.now();
  output.startSpinner(step.name);
  try {
    const work = step.run(context);
    const outcome = (await (guard ? guard(work) : work)) ?? undefined;
    const durationMs = Math.round(performance.now() - started);
    output.stopSpinner();
    records.push({ name: step.name, ok: true, ...(outcome ? { outcome } : {}), durationMs });
    output.line(`✓ ${step.name}${outcome ? `: ${outcome}` : ''} (${formatDuration(durationMs)})`);
  } catch (error) {
    const durationMs = Math.round(performance.now() - started);
    output.stopSpinner();
    records.push({ name: step.name, ok: false, error: describeError(error), durationMs });
    output.line(`✗ ${step.name} (${formatDuration(durationMs)})`);
    throw error;
  }
}

/** Runs the steps in order and stops at the first failure, rethrowing its error. */
export async function runSteps<C>(
  steps: Step<C>[],
  context: C,
  output: Output,
  records: StepRecord[] = [],
): Promise<StepRecord[]> {
  for (const step of steps) await runStep(step, context, output, records);
  return records;
}

// Composing step lists: a step that runs a whole sub-list (the nightly's "build images" runs
// build-images' own steps), printing the sub-steps' lines indented under it.

export function indented(output: Output): Output {
  return {
    interactive: false,
    verboseOn: output.verboseOn,
    line: (text) => output.line(`    ${text}`),
    verbose: (text) => output.verbose(text),
    startSpinner: () => {},
    stopSpinner: () => {},
  };
}

/**
 * A step that runs `steps` against `context()`; its outcome is `summary` of the sub-steps'
 * records, or the last sub-step's when there is none.
 */
export function nested<C, S>(
  name: string,
  output: Output,
  steps: (parent: C) => Step<S>[],
  context: (parent: C) => S,
  summary?: (child: S, records: StepRecord[]) => string | undefined,
): Step<C> {
  return {
    name,
    async run(parent) {
      const child = context(parent);
      const records = await runSteps(steps(parent), child, indented(output));
      return summary ? summary(child, records) : records.at(-1)?.outcome;
    },
  };
}
