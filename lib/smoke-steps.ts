/**
 * The smoke run's steps (lib/smoke-run.ts runs them): config -> cluster -> wait for workloads
 * -> health checks -> image digests -> reports -> diagnostics bundle. Each adds its results to
 * the run; a step that fails records why, so the reports can never say PASSED over it.
 */
import { readFileSync } from 'node:fs';
import type { BootstrapContext } from './bootstrap.ts';
import { workloadsToDiagnose, writeArtifact, writeBundle } from './bundle.ts';
import { UsageError, errorMessage } from './errors.ts';
import { parseDuration } from './formats.ts';
import { DEFAULT_RETRY, realClock } from './health.ts';
import { readLock, type Lock } from './lock.ts';
import { sortForApply, renderStack } from './manifests.ts';
import { buildPlan, redactedPlanYaml, workloadsOf, type Plan, type PlanInputs } from './plan.ts';
import type { ChildSet } from './port-forward.ts';
import { loadTemplates } from './render.ts';
import { appendStepSummary, buildReport, reportJson, reportJUnit, reportMarkdown, type NamedResult, type Report } from './report.ts';
import { checkDigests, planChecks, runHealthChecks, stackPods, type PlannedCheck } from './smoke.ts';
import type { SmokeOptions } from './smoke-run.ts';
import type { Step } from './steps.ts';
import { waitForWorkloads } from './wait.ts';

/** What the steps share: the options, the bootstrap context, and the results so far. */
export interface Run {
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

export const configStep: Step<Run> = { name: 'config', async run(run) {
  run.c.plan ??= smokePlan(run.c.planInputs, (line) => run.o.output.line(`warning: ${line}`));
  run.checks = planChecks(run.c.config);
  if (run.o.lockFile) run.lock = readLock(run.o.lockFile);
  const pins = run.lock ? `, ${Object.keys(run.lock.images).length} images pinned in ${run.o.lockFile}` : ', no lock: digest check skipped';
  return `${run.checks.length} health checks planned${pins}`;
} };

// Reached first, so an unreachable cluster is one clear line rather than a failed poll.
export const clusterStep = asResult('cluster', 'cluster reachable', async ({ c }) => `context ${c.kubectl.target.context} (${await c.kubectl.checkReachable()})`);
// bootstrap's wait: the same options and fail-fast; the watch and the pause stop on abort.
export const readyStep = asResult('wait for workloads', 'workloads ready', ({ c, o }) => {
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

export function healthStep(children: ChildSet): Step<Run> {
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

export const digestStep: Step<Run> = { name: 'image digests', async run(run) {
  const from = run.results.length;
  const pods = await stackPods(run.c.kubectl, run.c.config.namespace);
  run.results.push(...checkDigests(run.lock!, run.o.lockFile!, pods, workloadsOf(run.c.plan!.manifests).map((w) => w.name)));
  failIfAny(run, from, 'digest checks');
  return `${run.results.length - from} components match ${run.o.lockFile}`;
} };

export function reportsStep(startedAt: Date): Step<Run> {
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

export const bundleStep: Step<Run> = { name: 'diagnostics bundle', async run(run) {
  const { c, o } = run;
  const { redactor } = c.session;
  const written = await writeBundle({
    dir: run.dir!, kubectl: c.kubectl, namespace: c.config.namespace, redactor,
    workloads: await workloadsToDiagnose(c.kubectl, c.config.namespace, c.plan, run.results),
    manifestsYaml: c.plan && redactedPlanYaml(c.plan, redactor), lockText: run.lock && readFileSync(o.lockFile!, 'utf8'), summary: reportMarkdown(run.report!),
  });
  return `${written.length} files in ${run.dir}`;
} };

