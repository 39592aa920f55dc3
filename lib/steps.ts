/**
 * The step list is the script: named steps in an array, one loop runs them and prints one
 * ✓/✗ line each with its duration. A step may return a short outcome ("unchanged",
 * "created 3") that goes on its line.
 */
import type { Output } from './output.ts';

export interface Step<C> {
  name: string;
  run(context: C): Promise<string | void>;
}

export interface StepRecord {
  name: string;
  ok: boolean;
  outcome?: string;
  durationMs: number;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${Math.round((ms % 60_000) / 1000)}s`;
}

/**
 * Runs the steps in order and stops at the first failure, rethrowing its error unchanged
 * (so its class still decides the exit code) after printing the ✗ line.
 */
export async function runSteps<C>(steps: Step<C>[], context: C, output: Output, records: StepRecord[] = []): Promise<StepRecord[]> {
  for (const step of steps) {
    const started = performance.now();
    output.startSpinner(step.name);
    try {
      const outcome = (await step.run(context)) ?? undefined;
      const durationMs = Math.round(performance.now() - started);
      output.stopSpinner();
      records.push({ name: step.name, ok: true, outcome, durationMs });
      output.line(`✓ ${step.name}${outcome ? `: ${outcome}` : ''} (${formatDuration(durationMs)})`);
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      output.stopSpinner();
      records.push({ name: step.name, ok: false, durationMs });
      output.line(`✗ ${step.name} (${formatDuration(durationMs)})`);
      throw error;
    }
  }
  return records;
}
