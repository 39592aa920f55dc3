/**
 * The smoke run, shared by scripts/smoke.mts and the nightly: it runs the steps of
 * lib/smoke/steps.ts (config -> cluster -> wait for workloads -> health checks -> image
 * digests -> reports -> bundle). A failed check does not stop the run: the digest check, the
 * reports and the diagnostics bundle still come, because a red run is exactly when they are
 * needed. Bad usage and Ctrl-C do stop it, and every port-forward is killed the moment the
 * signal aborts.
 */
import { UsageError, errorMessage } from '../core/errors.ts';
import { ChildSet } from '../tools/port-forward.ts';
import { buildReport, headline, type Report } from './report.ts';
import { bundleStep, clusterStep, configStep, digestStep, healthStep, readyStep, reportsStep, type Run, type SmokeOptions } from './steps.ts';
import { runStep, type Step, type StepRecord } from '../core/steps.ts';

export interface SmokeOutcome {
  report: Report;
  headline: string;
  steps: StepRecord[];
  dir?: string;
}

/** Runs the smoke. Returns the report (passed or failed); throws on bad usage or an abort. */
export async function runSmoke(options: SmokeOptions): Promise<SmokeOutcome> {
  const startedAt = options.startedAt ?? new Date();
  const children = options.children ?? new ChildSet();
  const run: Run = { options, boot: options.context, checks: [], results: [] };
  const steps: StepRecord[] = [];
  // Ctrl-C: kill the forwards at once, and stop whatever step is running (the wait ends its
  // watch streams itself, through the same signal).
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => {
      children.killAll();
      reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error(`interrupted (${String(options.signal?.reason ?? 'signal')})`));
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  const guard = <T>(work: Promise<T>) => Promise.race([work, aborted]);
  let failure: unknown;
  const attempt = (step: Step<Run>) => {
    const from = run.results.length;
    return runStep(step, run, options.output, steps, guard).then(() => true, (error: unknown) => {
      if (error instanceof UsageError || options.signal?.aborted) throw error;
      failure ??= error;
      // A step that failed without a failed result (a kubectl error in the digest step, a full
      // disk) still fails the report: it can never say PASSED over a failed step.
      if (!run.results.slice(from).some((r) => r.status === 'failed')) run.results.push({ name: step.name, group: 'smoke', status: 'failed', durationMs: 0, error: errorMessage(error) });
      return false;
    });
  };
  try {
    if ((await attempt(configStep)) && (await attempt(clusterStep)) && (await attempt(readyStep))) {
      await attempt(healthStep(children));
      if (run.lock) await attempt(digestStep);
    } else {
      for (const check of run.checks) run.results.push({ name: check.name, group: check.workload, status: 'skipped', durationMs: 0, error: 'not run: the workloads are not ready' });
    }
    // Without a plan there is nothing to report on (a config step that failed outright).
    if (!run.boot.plan) throw failure;
    await attempt(reportsStep(startedAt));
    if (run.dir && (run.report?.status === 'failed' || options.bundleAlways)) await attempt(bundleStep);
  } finally {
    children.killAll();
  }
  const report = run.report ?? buildReport('smoke', startedAt, Date.now() - startedAt.getTime(), run.results);
  return { report, headline: headline(report), steps, ...(run.dir ? { dir: run.dir } : {}) };
}

/** The error a script throws for a failed smoke: each failed result on its own line. */
export function smokeFailure(outcome: SmokeOutcome): Error {
  const failures = outcome.report.results.filter((r) => r.status === 'failed').map((r) => `  - ${r.name}: ${(r.error ?? 'failed').replace(/\n/g, '\n    ')}`);
  const failedStep = outcome.steps.find((s) => !s.ok);
  const lines = failures.length ? failures : [`  - ${failedStep ? `${failedStep.name}: ${failedStep.error ?? 'failed'}` : 'no check ran'}`];
  return new Error([outcome.headline, ...lines, ...(outcome.dir ? [`diagnostics: ${outcome.dir}/summary.md`] : [])].join('\n'));
}
