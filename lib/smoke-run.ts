/**
 * The smoke run as a step list, shared by scripts/smoke.mts and the nightly:
 *   config -> cluster -> wait for workloads -> health checks -> image digests -> reports -> bundle
 * A failed check does not stop the run: the digest check, the reports and the diagnostics
 * bundle still come, because a red run is exactly when they are needed. Bad usage and Ctrl-C
 * do stop it, and every port-forward is killed the moment the signal aborts.
 */
import { readFileSync } from 'node:fs';
import type { BootstrapContext } from './bootstrap.ts';
import { workloadsToDiagnose, writeArtifact, writeBundle } from './bundle.ts';
import { UsageError, errorMessage } from './errors.ts';
import { parseDuration } from './formats.ts';
import { DEFAULT_RETRY, realClock } from './health.ts';
import { readLock, type Lock } from './lock.ts';
import type { Output } from './output.ts';
import { sortForApply, renderStack } from './manifests.ts';
import { buildPlan, redactedPlanYaml, workloadsOf, type Plan, type PlanInputs } from './plan.ts';
import { loadTemplates } from './render.ts';
import { ChildSet } from './port-forward.ts';
import { appendStepSummary, buildReport, headline, reportJson, reportJUnit, reportMarkdown, type NamedResult, type Report } from './report.ts';
import { checkDigests, planChecks, runHealthChecks, stackPods, type MethodChoice, type PlannedCheck } from './smoke.ts';
import { runStep, type Step, type StepRecord } from './steps.ts';
import { waitForWorkloads } from './wait.ts';

export interface SmokeOptions {
  /** Config, session, plan inputs and kubectl; its plan is built here when it has none yet. */
  context: BootstrapContext;
  output: Output;
  /** A lock whose pins the running images must match; missing file or undefined: no digest check. */
  lockFile?: string;
  /** Where the reports always go, and the bundle on failure (or always with bundleAlways). */
  dir?: string;
  /** Where reports and bundle go on failure when `dir` is not set. */
  failureDir?: string;
  bundleAlways?: boolean;
  method?: MethodChoice;
  checkTimeoutMs?: number;
  signal?: AbortSignal;
  /** The port-forward children, for a caller's own signal handler; one is made otherwise. */
  children?: ChildSet;
  startedAt?: Date;
}

export interface SmokeOutcome {
  report: Report;
  headline: string;
  steps: StepRecord[];
  dir?: string;
}

interface Run {
  o: SmokeOptions;
  c: BootstrapContext;
  lock?: Lock;
  checks: PlannedCheck[];
  results: NamedResult[];
  report?: Report;
  dir?: string;
}

/**
 * The plan, for the workloads to wait on and the bundle's manifests. A smoke run needs no
 * credentials: when secret values are missing here, the Secrets are left out (and their values
 * cannot be masked, which the warning says) instead of refusing to check anything.
 */
export function smokePlan(inputs: PlanInputs, warn: (line: string) => void): Plan {
  try {
    return buildPlan(inputs);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const problems = error.problems.map((p) => p.replace(/; export it before running$/, ''));
    warn(`${problems.join('; ') || error.message}: the diagnostics bundle leaves the Secrets out and cannot mask their values`);
    const rendered = sortForApply(renderStack(inputs.config, loadTemplates(inputs.templatesDir), inputs.images));
    return { namespace: rendered.filter((o) => o.kind === 'Namespace'), secrets: [], manifests: rendered.filter((o) => o.kind !== 'Namespace'), warnings: [] };
  }
}

/** Throws when the results added since `from` include a failure: the step's ✗ line. */
function failIfAny(run: Run, from: number, what: string): void {
  const bad = run.results.slice(from).filter((r) => r.status === 'failed');
  if (bad.length) throw new Error(`${bad.length} ${what} failed: ${bad.map((r) => r.name).join(', ')}`);
}

/** A step whose outcome is also a result: the reports must show why nothing was checked. */
function asResult(name: string, result: string, work: (run: Run) => Promise<string | void>): Step<Run> {
  return { name, async run(run) {
    const t = performance.now();
    const record = (status: 'passed' | 'failed', error?: string) => run.results.push({ name: result, group: 'readiness', status, durationMs: Math.round(performance.now() - t), ...(error ? { error } : {}) });
    try {
      const outcome = await work(run);
      record('passed');
      return outcome;
    } catch (error) {
      record('failed', errorMessage(error));
      throw error;
    }
  } };
}

const configStep: Step<Run> = { name: 'config', async run(run) {
  run.c.plan ??= smokePlan(run.c.planInputs, (line) => run.o.output.line(`warning: ${line}`));
  run.checks = planChecks(run.c.config);
  if (run.o.lockFile) run.lock = readLock(run.o.lockFile);
  const pins = run.lock ? `, ${Object.keys(run.lock.images).length} images pinned in ${run.o.lockFile}` : ', no lock: digest check skipped';
  return `${run.checks.length} health checks planned${pins}`;
} };

// Reached first, so an unreachable cluster is one clear line rather than a failed poll.
const clusterStep = asResult('cluster', 'cluster reachable', async ({ c }) => `context ${c.kubectl.target.context} (${await c.kubectl.checkReachable()})`);
// bootstrap's wait: the same options and fail-fast; the watch and the pause stop on abort.
const readyStep = asResult('wait for workloads', 'workloads ready', ({ c, o }) => {
  const { wait } = c.config;
  return waitForWorkloads(c.kubectl, c.config.namespace, workloadsOf(c.plan!.manifests), {
    timeoutMs: parseDuration(wait.timeout),
    pullGraceMs: parseDuration(wait.pullGrace),
    readinessGraceMs: parseDuration(wait.readinessGrace),
    onProgress: (text) => o.output.verbose(text),
    ...(o.signal ? { signal: o.signal } : {}),
    // Ctrl-C ends the polling loop itself, not only the step awaiting it.
    sleep: async (ms) => {
      await realClock.sleep(ms, o.signal);
      if (o.signal?.aborted) throw o.signal.reason;
    },
  });
});

function healthStep(children: ChildSet): Step<Run> {
  return { name: 'health checks', async run(run) {
    const from = run.results.length;
    const { o, c } = run;
    run.results.push(...(await runHealthChecks(run.checks, {
      kubectl: c.kubectl, namespace: c.config.namespace, env: c.session.env, children, clock: c.session.runner.clock, signal: o.signal, method: o.method,
      policy: { ...DEFAULT_RETRY, deadlineMs: o.checkTimeoutMs ?? DEFAULT_RETRY.deadlineMs },
      onAttempt: (e) => o.output.verbose(`${e.check}: attempt ${e.attempt} via ${e.method}${e.outcome ? `: ${e.outcome.detail}` : ''}`),
    })));
    failIfAny(run, from, 'health checks');
    return `${run.results.length - from} passed (${[...new Set(run.results.slice(from).map((r) => r.method))].join(', ')})`;
  } };
}

const digestStep: Step<Run> = { name: 'image digests', async run(run) {
  const from = run.results.length;
  const pods = await stackPods(run.c.kubectl, run.c.config.namespace);
  run.results.push(...checkDigests(run.lock!, run.o.lockFile!, pods, workloadsOf(run.c.plan!.manifests).map((w) => w.name)));
  failIfAny(run, from, 'digest checks');
  return `${run.results.length - from} components match ${run.o.lockFile}`;
} };

function reportsStep(startedAt: Date): Step<Run> {
  return { name: 'reports', async run(run) {
    const { o, c } = run;
    run.report = buildReport('smoke', startedAt, Date.now() - startedAt.getTime(), run.results);
    run.dir = o.dir ?? (run.report.status === 'failed' ? o.failureDir : undefined);
    const { redactor, env } = c.session;
    if (run.dir) for (const [file, text] of [['smoke.json', reportJson(run.report)], ['junit.xml', reportJUnit(run.report)]] as const) writeArtifact(run.dir, file, text, redactor);
    const summary = appendStepSummary(env.GITHUB_STEP_SUMMARY, redactor.mask(reportMarkdown(run.report)));
    return [run.dir && `smoke.json and junit.xml in ${run.dir}`, summary && 'step summary written'].filter(Boolean).join(', ') || 'nothing to write';
  } };
}

const bundleStep: Step<Run> = { name: 'diagnostics bundle', async run(run) {
  const { c, o } = run;
  const { redactor } = c.session;
  const written = await writeBundle({
    dir: run.dir!, kubectl: c.kubectl, namespace: c.config.namespace, redactor,
    workloads: await workloadsToDiagnose(c.kubectl, c.config.namespace, c.plan, run.results),
    manifestsYaml: c.plan && redactedPlanYaml(c.plan, redactor), lockText: run.lock && readFileSync(o.lockFile!, 'utf8'), summary: reportMarkdown(run.report!),
  });
  return `${written.length} files in ${run.dir}`;
} };

/** Runs the smoke. Returns the report (passed or failed); throws on bad usage or an abort. */
export async function runSmoke(o: SmokeOptions): Promise<SmokeOutcome> {
  const startedAt = o.startedAt ?? new Date();
  const children = o.children ?? new ChildSet();
  const run: Run = { o, c: o.context, checks: [], results: [] };
  const steps: StepRecord[] = [];
  // Ctrl-C: kill the forwards at once, and stop whatever step is running (the wait ends its
  // watch streams itself, through the same signal).
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => {
      children.killAll();
      reject(o.signal?.reason instanceof Error ? o.signal.reason : new Error(`interrupted (${String(o.signal?.reason ?? 'signal')})`));
    };
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  const guard = <T>(work: Promise<T>) => Promise.race([work, aborted]);
  let failure: unknown;
  const attempt = (step: Step<Run>) => {
    const from = run.results.length;
    return runStep(step, run, o.output, steps, guard).then(() => true, (error: unknown) => {
      if (error instanceof UsageError || o.signal?.aborted) throw error;
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
    if (!run.c.plan) throw failure;
    await attempt(reportsStep(startedAt));
    if (run.dir && (run.report?.status === 'failed' || o.bundleAlways)) await attempt(bundleStep);
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
