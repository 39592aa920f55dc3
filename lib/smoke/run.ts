/**
 * The smoke run, shared by scripts/smoke.mts and the nightly, as three step lists:
 *   prerequisites: config -> cluster -> wait for workloads   (the first failure ends them)
 *   checks:        health checks -> function checks -> container restarts -> image digests
 *                  (each runs, whatever the others did)
 *   evidence:      reports -> diagnostics bundle             (always: a red run is when they matter)
 * Bad usage and interrupts stop the run; anything else is a failed result, so the verdict is
 * computed from every step and can never say PASSED over one that failed.
 */
import { UsageError, errorMessage } from '../core/errors.ts';
import { runStep, type Step, type StepRecord } from '../core/steps.ts';
import { buildReport, headline, type Report } from './report.ts';
import {
  bundleStep,
  clusterStep,
  configStep,
  digestStep,
  functionStep,
  healthStep,
  readyStep,
  reportsStep,
  restartsStep,
  type Run,
  type SmokeOptions,
} from './steps.ts';

export interface SmokeOutcome {
  report: Report;
  headline: string;
  steps: StepRecord[];
  dir?: string;
}

/** Runs the smoke. Returns the report (passed or failed); throws on bad usage or an abort. */
export async function runSmoke(options: SmokeOptions): Promise<SmokeOutcome> {
  const startedAt = options.startedAt ?? new Date();
  const signal = options.signal ?? options.context.session.signal;
  const run: Run = { options: { ...options, signal }, boot: options.context, checks: [], functional: [], results: [] };
  const records: StepRecord[] = [];
  // An interrupt stops whatever step is running (the wait and the forwards stop themselves
  // through the same signal).
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () =>
      reject(signal.reason instanceof Error ? signal.reason : new Error(`interrupted (${String(signal.reason)})`));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  const guard = <T>(work: Promise<T>) => Promise.race([work, aborted]);
  let firstFailure: unknown;
  /** Runs one step; true when it passed. A failure becomes a failed result unless it made its own. */
  const attempt = async (step: Step<Run>): Promise<boolean> => {
    const from = run.results.length;
    try {
      await runStep(step, run, options.output, records, guard);
      return true;
    } catch (error) {
      if (error instanceof UsageError || signal.aborted) throw error;
      firstFailure ??= error;
      if (!run.results.slice(from).some((r) => r.status === 'failed')) {
        run.results.push({
          name: step.name,
          group: 'smoke',
          status: 'failed',
          durationMs: 0,
          error: errorMessage(error),
        });
      }
      return false;
    }
  };

  let ready = true;
  for (const step of [configStep, clusterStep, readyStep]) {
    if (!(await attempt(step))) {
      ready = false;
      break;
    }
  }
  if (ready) {
    const checks = [healthStep, functionStep, restartsStep];
    if (run.lock) checks.push(digestStep);
    for (const step of checks) await attempt(step);
  } else {
    for (const check of [...run.checks, ...run.functional])
      run.results.push({
        name: check.name,
        group: check.workload,
        status: 'skipped',
        durationMs: 0,
        error: 'not run: the workloads are not ready',
      });
  }
  // Without a plan there is nothing to report on (a config step that failed outright).
  if (!run.boot.plan) throw firstFailure;
  await attempt(reportsStep(startedAt));
  if (run.dir && (run.report?.status === 'failed' || options.bundleAlways)) await attempt(bundleStep);
  // Built again from every result: a reports step that failed to write fails the run too.
  const report = buildReport('smoke', startedAt, Date.now() - startedAt.getTime(), run.results);
  return { report, headline: headline(report), steps: records, ...(run.dir ? { dir: run.dir } : {}) };
}

/** The error a script throws for a failed smoke: each failed result on its own line. */
export function smokeFailure(outcome: SmokeOutcome): Error {
  const failures = outcome.report.results
    .filter((r) => r.status === 'failed')
    .map((r) => `  - ${r.name}: ${(r.error ?? 'failed').replace(/\n/g, '\n    ')}`);
  const failedStep = outcome.steps.find((s) => !s.ok);
  const lines = failures.length
    ? failures
    : [`  - ${failedStep ? `${failedStep.name}: ${failedStep.error ?? 'failed'}` : 'no check ran'}`];
  return new Error(
    [outcome.headline, ...lines, ...(outcome.dir ? [`diagnostics: ${outcome.dir}/summary.md`] : [])].join('\n'),
  );
}
