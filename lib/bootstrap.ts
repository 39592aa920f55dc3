/**
 * The bootstrap step list, shared by scripts/bootstrap.mts and the nightly:
 * preflight -> cluster -> namespace -> secrets -> manifests -> wait -> summary.
 */
import { ensureKindCluster } from './kind.ts';
import { Kubectl } from './kubectl.ts';
import type { K8sObject } from './manifests.ts';
import { buildPlan, workloadsOf, type Plan, type PlanInputs } from './plan.ts';
import { checkDockerDaemon, checkLocal } from './preflight.ts';
import type { Config } from './schema.ts';
import { parseDuration } from './formats.ts';
import type { Session } from './session.ts';
import type { Step } from './steps.ts';
import { clusterTarget } from './target.ts';
import { waitForWorkloads } from './wait.ts';

export interface BootstrapContext {
  config: Config;
  session: Session;
  planInputs: PlanInputs;
  kubectl: Kubectl;
  plan?: Plan;
  changed: number;
}

export function bootstrapContext(config: Config, session: Session, planInputs: PlanInputs): BootstrapContext {
  return { config, session, planInputs, kubectl: new Kubectl(session.runner, clusterTarget(config), session.redactor), changed: 0 };
}

async function applyPart(context: BootstrapContext, objects: K8sObject[], empty: string): Promise<string> {
  if (objects.length === 0) return empty;
  const result = await context.kubectl.apply(objects);
  context.changed += result.outcomes.filter((o) => o.outcome !== 'unchanged').length;
  for (const { object, outcome } of result.outcomes) context.session.output.verbose(`${object} ${outcome}`);
  return result.summary;
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

export function bootstrapSteps(): Step<BootstrapContext>[] {
  return [
    {
      name: 'preflight',
      async run(c) {
        checkLocal(c.config, c.session.env);
        const found = c.config.cluster.provider === 'kind' ? [await checkDockerDaemon(c.session.runner)] : [];
        c.plan = buildPlan(c.planInputs);
        return [...found, `${c.plan.secrets.length + c.plan.namespace.length + c.plan.manifests.length} objects planned`].join(', ');
      },
    },
    {
      name: 'cluster',
      async run(c) {
        const outcome = c.config.cluster.provider === 'kind' ? await ensureKindCluster(c.session.runner, c.config, c.session.redactor) : 'existing';
        const version = await c.kubectl.checkReachable();
        return `${outcome} context ${c.kubectl.target.context} (${version})`;
      },
    },
    { name: 'namespace', run: (c) => applyPart(c, c.plan!.namespace, 'none') },
    { name: 'secrets', run: (c) => applyPart(c, c.plan!.secrets, 'none configured') },
    { name: 'manifests', run: (c) => applyPart(c, c.plan!.manifests, 'none') },
    {
      name: 'wait for workloads',
      run(c) {
        const { wait } = c.config;
        return waitForWorkloads(c.kubectl, c.config.namespace, workloadsOf(c.plan!.manifests), {
          timeoutMs: parseDuration(wait.timeout),
          pullGraceMs: parseDuration(wait.pullGrace),
          readinessGraceMs: parseDuration(wait.readinessGrace),
          onProgress: (text) => c.session.output.verbose(text),
        });
      },
    },
  ];
}
