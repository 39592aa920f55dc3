/**
 * The bootstrap steps, shared by scripts/bootstrap.mts, scripts/secrets.mts and the nightly:
 * preflight -> check pulls (with registries) -> cluster -> namespace -> secrets -> manifests ->
 * wait. Each is a named step; the scripts pick the list they need.
 */
import { assertPullable, checkPulls } from './check-pull.ts';
import { parseDuration } from '../config/formats.ts';
import { ensureKindCluster } from '../tools/kind.ts';
import { Kubectl, type ApplyResult } from '../tools/kubectl.ts';
import type { K8sObject } from '../render/manifests.ts';
import { buildPlan, workloadsOf, type Plan, type PlanInputs } from '../render/plan.ts';
import { checkDockerDaemon, checkLocal } from '../tools/preflight.ts';
import type { Config } from '../config/schema.ts';
import type { Session } from '../core/session.ts';
import type { Step } from '../core/steps.ts';
import { clusterTarget } from '../tools/target.ts';
import { waitForWorkloads } from '../wait/wait.ts';
import { secretConsumers } from '../render/consumers.ts';

export interface BootstrapContext {
  config: Config;
  session: Session;
  planInputs: PlanInputs;
  kubectl: Kubectl;
  plan?: Plan;
  /** Objects created or changed so far this run. */
  changed: number;
  /** Set by a caller that can be interrupted (the nightly): the wait stops when it aborts. */
  signal?: AbortSignal;
}

export function bootstrapContext(config: Config, session: Session, planInputs: PlanInputs): BootstrapContext {
  return { config, session, planInputs, kubectl: new Kubectl(session.runner, clusterTarget(config), session.redactor), changed: 0 };
}

async function applyPart(context: BootstrapContext, objects: K8sObject[]): Promise<ApplyResult> {
  const result = await context.kubectl.apply(objects);
  context.changed += result.outcomes.filter((o) => o.outcome !== 'unchanged').length;
  for (const { object, outcome } of result.outcomes) context.session.output.verbose(`${object} ${outcome}`);
  return result;
}

/** How to reach each Service from a laptop: the port-forward lines printed at the end. */
export function accessHints(plan: Plan, context: string, namespace: string): string[] {
  return plan.manifests
    .filter((o) => o.kind === 'Service' && !(o.spec as { clusterIP?: string }).clusterIP)
    .map((o) => {
      const port = (o.spec as { ports: { port: number }[] }).ports[0]!.port;
      return `  ${o.metadata.name.padEnd(12)} kubectl --context ${context} -n ${namespace} port-forward svc/${o.metadata.name} ${port}:${port}`;
    });
}

export const preflightStep: Step<BootstrapContext> = {
  name: 'preflight',
  async run(c) {
    checkLocal(c.config, c.session.env);
    const found = c.config.cluster.provider === 'kind' ? [await checkDockerDaemon(c.session.runner)] : [];
    c.plan = buildPlan(c.planInputs);
    for (const warning of c.plan.warnings) c.session.output.line(`warning: ${warning}`);
    return [...found, `${c.plan.secrets.length + c.plan.namespace.length + c.plan.manifests.length} objects planned`].join(', ');
  },
};

export const checkPullStep: Step<BootstrapContext> = {
  name: 'check pulls',
  async run(c) {
    return assertPullable(await checkPulls(c.config, c.plan!.manifests, c.session.env));
  },
};

export const clusterStep: Step<BootstrapContext> = {
  name: 'cluster',
  async run(c) {
    const outcome = c.config.cluster.provider === 'kind' ? await ensureKindCluster(c.session.runner, c.config, c.session.redactor) : 'existing';
    const version = await c.kubectl.checkReachable();
    return `${outcome} context ${c.kubectl.target.context} (${version})`;
  },
};

export const namespaceStep: Step<BootstrapContext> = {
  name: 'namespace',
  async run(c) {
    return (await applyPart(c, c.plan!.namespace)).summary;
  },
};

/**
 * Applies the Secrets; when one changed, restarts the workloads already running that use it,
 * so pods never keep a stale credential (a new workload starts with the new value anyway).
 */
export const secretsStep: Step<BootstrapContext> = {
  name: 'secrets',
  async run(c) {
    const { secrets, manifests } = c.plan!;
    if (secrets.length === 0) return 'none configured';
    const result = await applyPart(c, secrets);
    const changed = result.outcomes.filter((o) => o.outcome === 'configured').map((o) => o.object.replace(/^secret\//, ''));
    if (changed.length === 0) return result.summary;
    const byName = secretConsumers(manifests);
    const consumers = new Set(changed.flatMap((name) => byName.get(name) ?? []).map((w) => `${w.kind.toLowerCase()}/${w.name}`));
    const existing = new Set((await c.kubectl.run(['get', 'deployments,statefulsets', '-n', c.config.namespace, '-o', 'name'])).stdout.split('\n').map((line) => line.replace('.apps/', '/')).filter(Boolean));
    const restart = [...consumers].filter((workload) => existing.has(workload));
    if (restart.length) await c.kubectl.run(['rollout', 'restart', ...restart, '-n', c.config.namespace]);
    return `${result.summary}${restart.length ? `; restarted ${restart.join(', ')}` : ''}`;
  },
};

export const manifestsStep: Step<BootstrapContext> = {
  name: 'manifests',
  async run(c) {
    return (await applyPart(c, c.plan!.manifests)).summary;
  },
};

export const waitStep: Step<BootstrapContext> = {
  name: 'wait for workloads',
  run(c) {
    const { wait } = c.config;
    return waitForWorkloads(c.kubectl, c.config.namespace, workloadsOf(c.plan!.manifests), {
      timeoutMs: parseDuration(wait.timeout),
      pullGraceMs: parseDuration(wait.pullGrace),
      readinessGraceMs: parseDuration(wait.readinessGrace),
      onProgress: (text) => c.session.output.verbose(text),
      ...(c.signal ? { signal: c.signal } : {}),
    });
  },
};

export function bootstrapSteps(config: Config, options: { checkPull: boolean } = { checkPull: true }): Step<BootstrapContext>[] {
  const steps = [preflightStep];
  if (options.checkPull && config.registries.length > 0) steps.push(checkPullStep);
  steps.push(clusterStep, namespaceStep, secretsStep, manifestsStep, waitStep);
  return steps;
}
