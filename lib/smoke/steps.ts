/**
 * The smoke run's steps (lib/smoke/run.ts runs them): config -> cluster -> wait for workloads
 * -> health checks -> image digests -> reports -> diagnostics bundle. Each adds its results to
 * the run; a step that fails records why, so the reports can never say PASSED over it.
 */
import { readFileSync } from 'node:fs';
import type { BootstrapContext } from '../bootstrap/steps.ts';
import { workloadsToDiagnose, writeArtifact, writeBundle } from './bundle.ts';
import { UsageError, errorMessage } from '../core/errors.ts';
import { parseDuration } from '../config/formats.ts';
import { DEFAULT_RETRY, realClock } from './health.ts';
import { readLock, type Lock } from '../images/lock.ts';
import { sortForApply, renderStack } from '../render/manifests.ts';
import { buildPlan, redactedPlanYaml, workloadsOf, type Plan, type PlanInputs } from '../render/plan.ts';
import { loadTemplates } from '../render/mustache.ts';
import {
  appendStepSummary,
  buildReport,
  maskReport,
  reportJson,
  reportJUnit,
  reportMarkdown,
  type NamedResult,
  type Report,
} from './report.ts';
import {
  checkDigests,
  functionalChecks,
  planChecks,
  runHealthChecks,
  stackPods,
  type MethodChoice,
  type PlannedCheck,
} from './checks.ts';
import type { Output } from '../core/output.ts';
import type { Step } from '../core/steps.ts';
import { describeOom, oomKills } from '../wait/podstatus.ts';
import { waitForWorkloads } from '../wait/wait.ts';

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
  startedAt?: Date;
}

/** What the steps share: the options, the bootstrap context, and the results so far. */
export interface Run {
  options: SmokeOptions;
  boot: BootstrapContext;
  lock?: Lock;
  checks: PlannedCheck[];
  /** The checks that the stack does its job (NATS, JetStream, Prometheus, Grafana). */
  functional: PlannedCheck[];
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
    warn(
      `${problems.join('; ') || error.message}: the diagnostics bundle leaves the Secrets out and cannot mask their values`,
    );
    const rendered = sortForApply(renderStack(inputs.config, loadTemplates(inputs.templatesDir), inputs.images));
    return {
      namespace: rendered.filter((o) => o.kind === 'Namespace'),
      secrets: [],
      manifests: rendered.filter((o) => o.kind !== 'Namespace'),
      warnings: [],
    };
  }
}

/** Throws when the results added since `from` include a failure: the step's ✗ line. */
function failIfAny(run: Run, from: number, what: string): void {
  const bad = run.results.slice(from).filter((r) => r.status === 'failed');
  if (bad.length) throw new Error(`${bad.length} ${what} failed: ${bad.map((r) => r.name).join(', ')}`);
}

/** A step whose outcome is also a result: the reports must show why nothing was checked. */
function asResult(name: string, result: string, work: (run: Run) => Promise<string | void>): Step<Run> {
  return {
    name,
    async run(run) {
      const t = performance.now();
      const record = (status: 'passed' | 'failed', error?: string) =>
        run.results.push({
          name: result,
          group: 'readiness',
          status,
          durationMs: Math.round(performance.now() - t),
          ...(error ? { error } : {}),
        });
      try {
        const outcome = await work(run);
        record('passed');
        return outcome;
      } catch (error) {
        record('failed', errorMessage(error));
        throw error;
      }
    },
  };
}

export const configStep: Step<Run> = {
  name: 'config',
  async run(run) {
    run.boot.plan ??= smokePlan(run.boot.planInputs, (line) => run.options.output.line(`warning: ${line}`));
    run.checks = planChecks(run.boot.config);
    run.functional = functionalChecks(run.boot.config);
    if (run.options.lockFile) run.lock = readLock(run.options.lockFile);
    const pins = run.lock
      ? `, ${Object.keys(run.lock.images).length} images pinned in ${run.options.lockFile}`
      : ', no lock: digest check skipped';
    return `${run.checks.length} health checks and ${run.functional.length} function checks planned${pins}`;
  },
};

// Reached first, so an unreachable cluster is one clear line rather than a failed poll.
export const clusterStep = asResult(
  'cluster',
  'cluster reachable',
  async ({ boot }) => `context ${boot.kubectl.target.context} (${await boot.kubectl.checkReachable()})`,
);
// bootstrap's wait: the same options and fail-fast; the watch and the pause stop on abort.
export const readyStep = asResult('wait for workloads', 'workloads ready', ({ boot: c, options: o }) => {
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

/** Runs planned checks, all at once; their results join the run's, and any failure fails the step. */
function checksStep(name: string, pick: (run: Run) => PlannedCheck[], what: string): Step<Run> {
  return {
    name,
    async run(run) {
      const from = run.results.length;
      const { options: o, boot: c } = run;
      run.results.push(
        ...(await runHealthChecks(pick(run), {
          kubectl: c.kubectl,
          namespace: c.config.namespace,
          method: o.method,
          mask: (text) => c.session.redactor.mask(text),
          env: c.session.env,
          policy: { ...DEFAULT_RETRY, deadlineMs: o.checkTimeoutMs ?? DEFAULT_RETRY.deadlineMs },
          onAttempt: (e) =>
            o.output.verbose(
              `${e.check}: attempt ${e.attempt} via ${e.method}${e.outcome ? `: ${e.outcome.detail}` : ''}`,
            ),
          ...(o.signal ? { signal: o.signal } : {}),
        })),
      );
      failIfAny(run, from, what);
      const methods = [...new Set(run.results.slice(from).map((r) => r.method))].join(', ');
      return `${run.results.length - from} passed (${methods})`;
    },
  };
}

export const healthStep = checksStep('health checks', (run) => run.checks, 'health checks');

/** NATS speaks its protocol, JetStream has its limits; with monitoring, Prometheus and Grafana work. */
export const functionStep = checksStep('function checks', (run) => run.functional, 'function checks');

/** A container the kernel killed for memory passes its probes again after the restart: not healthy. */
export const restartsStep: Step<Run> = {
  name: 'container restarts',
  async run(run) {
    const from = run.results.length;
    const kills = oomKills(await stackPods(run.boot.kubectl, run.boot.config.namespace));
    for (const kill of kills) {
      run.results.push({
        name: `${kill.pod} ${kill.container} memory`,
        group: kill.pod,
        status: 'failed',
        durationMs: 0,
        error: `${describeOom(kill)}; raise its memory limit or lower what it keeps in memory`,
      });
    }
    if (kills.length === 0)
      run.results.push({ name: 'no container OOMKilled', group: 'restarts', status: 'passed', durationMs: 0 });
    failIfAny(run, from, 'containers');
    return 'no container was OOMKilled';
  },
};

export const digestStep: Step<Run> = {
  name: 'image digests',
  async run(run) {
    const from = run.results.length;
    const pods = await stackPods(run.boot.kubectl, run.boot.config.namespace);
    run.results.push(
      ...checkDigests(
        run.lock!,
        run.options.lockFile!,
        pods,
        workloadsOf(run.boot.plan!.manifests).map((w) => w.name),
      ),
    );
    failIfAny(run, from, 'digest checks');
    return `${run.results.length - from} components match ${run.options.lockFile}`;
  },
};

export function reportsStep(startedAt: Date): Step<Run> {
  return {
    name: 'reports',
    async run(run) {
      const { options: o, boot: c } = run;
      const { redactor, env } = c.session;
      run.report = maskReport(buildReport('smoke', startedAt, Date.now() - startedAt.getTime(), run.results), (text) =>
        redactor.mask(text),
      );
      run.dir = o.dir ?? (run.report.status === 'failed' ? o.failureDir : undefined);
      if (run.dir)
        for (const [file, text] of [
          ['smoke.json', reportJson(run.report)],
          ['junit.xml', reportJUnit(run.report)],
        ] as const)
          writeArtifact(run.dir, file, text, redactor);
      const summary = appendStepSummary(env.GITHUB_STEP_SUMMARY, redactor.mask(reportMarkdown(run.report)));
      return (
        [run.dir && `smoke.json and junit.xml in ${run.dir}`, summary && 'step summary written']
          .filter(Boolean)
          .join(', ') || 'nothing to write'
      );
    },
  };
}

export const bundleStep: Step<Run> = {
  name: 'diagnostics bundle',
  async run(run) {
    const { options: o, boot: c } = run;
    const { redactor } = c.session;
    const written = await writeBundle({
      dir: run.dir!,
      kubectl: c.kubectl,
      namespace: c.config.namespace,
      redactor,
      workloads: await workloadsToDiagnose(c.kubectl, c.config.namespace, c.plan, run.results),
      manifestsYaml: c.plan && redactedPlanYaml(c.plan),
      lockText: run.lock && readFileSync(o.lockFile!, 'utf8'),
      summary: reportMarkdown(run.report!),
      alsoWritten: ['smoke.json', 'junit.xml'],
    });
    return `${written.length} files in ${run.dir}`;
  },
};
