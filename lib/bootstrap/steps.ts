/**
 * The bootstrap steps, shared by scripts/bootstrap.mts, scripts/secrets.mts, the smoke and the
 * nightly:
 *   preflight -> check pulls (with registries) -> cluster -> apply -> wait -> prune
 * Each is a named step; the scripts pick the list they need (bootstrapSteps below).
 */
import { parseDuration } from '../config/formats.ts';
import type { Config } from '../config/schema.ts';
import type { Session } from '../core/session.ts';
import type { Step } from '../core/steps.ts';
import { secretConsumers } from '../render/consumers.ts';
import { isWorkload, type K8sObject } from '../render/manifests.ts';
import { buildPlan, workloadsOf, type Plan, type PlanInputs } from '../render/plan.ts';
import { Kubectl, objectKey } from '../tools/kubectl.ts';
import { preflight } from '../tools/preflight.ts';
import { providerFor, type Provider } from '../tools/provider.ts';
import type { Snapshot, Workload } from '../wait/podstatus.ts';
import { assess, waitForWorkloads } from '../wait/wait.ts';
import { assertPullable, checkPulls, imagesOf, loadedIntoKind } from './check-pull.ts';
import {
  applyObjects,
  ownsStatefulSet,
  ensureNamespace,
  look,
  outcomesOf,
  summarize,
  type Look,
  type ObjectOutcome,
} from './converge.ts';
import { EMPTY_INVENTORY, inventoryObject, recordApplied, refOf, sameInventory, type Inventory } from './inventory.ts';
import { diffPlan, diffSummary, type DiffResult } from './diff.ts';
import { describePrune, inventoryAfterPrune, prune, prunePlan } from './prune.ts';

export interface BootstrapOptions {
  /** Ask the registries whether every image exists before deploying. */
  checkPull: boolean;
  /** Take fields another manager owns (server-side apply --force-conflicts). */
  forceConflicts: boolean;
  /** Delete what the config dropped, after the wait. */
  prune: boolean;
  /** Prune PersistentVolumeClaims too. */
  pruneVolumes: boolean;
}

export const DEFAULT_OPTIONS: BootstrapOptions = {
  checkPull: true,
  forceConflicts: false,
  prune: true,
  pruneVolumes: false,
};

export interface BootstrapContext {
  config: Config;
  session: Session;
  planInputs: PlanInputs;
  provider: Provider;
  kubectl: Kubectl;
  options: BootstrapOptions;
  plan?: Plan;
  /** What the apply step saw before applying. */
  look?: Look;
  outcomes: ObjectOutcome[];
  /** The inventory as last written this run. */
  inventory?: Inventory;
  /** What --diff found. */
  diff?: DiffResult;
  /** Objects created or changed so far this run. */
  changed: number;
  /** Set by a caller with its own interrupt (the nightly's deadline); else the session's. */
  signal?: AbortSignal;
}

export function bootstrapContext(
  config: Config,
  session: Session,
  planInputs: PlanInputs,
  options: Partial<BootstrapOptions> = {},
): BootstrapContext {
  const provider = providerFor(config, session.runner, session.redactor);
  return {
    config,
    session,
    planInputs,
    provider,
    kubectl: new Kubectl(session.runner, provider.target, session.redactor),
    options: { ...DEFAULT_OPTIONS, ...options },
    outcomes: [],
    changed: 0,
  };
}

/**
 * How to reach each Service from a laptop: the port-forward lines printed at the end. Each gets
 * a local port of its own, 1024 or above (a lower one needs root): Grafana's 80 becomes 8080,
 * or the next free one when a component already has it.
 */
export function accessHints(plan: Plan, context: string, namespace: string): string[] {
  const services = plan.manifests
    .filter((o) => o.kind === 'Service' && !(o.spec as { clusterIP?: string }).clusterIP)
    .map((o) => ({ name: o.metadata.name, port: (o.spec as { ports: { port: number }[] }).ports[0]!.port }));
  const used = new Set(services.map((s) => s.port).filter((port) => port >= 1024));
  return services.map(({ name, port }) => {
    let local = port;
    if (port < 1024) {
      local = port + 8000;
      while (used.has(local)) local += 1;
      used.add(local);
    }
    return `  ${name.padEnd(12)} kubectl --context ${context} -n ${namespace} port-forward svc/${name} ${local}:${port}`;
  });
}

export const preflightStep: Step<BootstrapContext> = {
  name: 'preflight',
  async run(c) {
    const found = await preflight({
      provider: c.provider,
      config: c.config,
      env: c.session.env,
      runner: c.session.runner,
    });
    c.plan = buildPlan(c.planInputs);
    for (const warning of c.plan.warnings) c.session.output.line(`warning: ${warning}`);
    return [
      ...found,
      `${c.plan.secrets.length + c.plan.namespace.length + c.plan.manifests.length} objects planned`,
    ].join(', ');
  },
};

export const checkPullStep: Step<BootstrapContext> = {
  name: 'check pulls',
  async run(c) {
    const loaded = loadedIntoKind(c.provider.name, c.planInputs.images ?? {});
    const present = imagesOf(c.plan!.manifests).filter(({ image }) => loaded.has(image)).length;
    return assertPullable(await checkPulls(c.config, c.plan!.manifests, c.session.env, {}, loaded), present);
  },
};

export const clusterStep: Step<BootstrapContext> = {
  name: 'cluster',
  async run(c) {
    const outcome = await c.provider.ensure();
    return outcome === 'existing'
      ? c.provider.describe()
      : `${outcome} ${c.provider.describe()} (context ${c.provider.target.context})`;
  },
};

async function writeInventory(c: BootstrapContext, next: Inventory): Promise<void> {
  if (sameInventory(c.inventory, next)) return;
  await c.kubectl.apply([inventoryObject(c.config.namespace, next)], { force: true });
  c.inventory = next;
}

/**
 * After a Secret changed: restarts the workloads that were already running with it, so no pod
 * keeps a stale credential (a workload created this run starts with the new value anyway).
 */
async function restartConsumers(c: BootstrapContext, outcomes: ObjectOutcome[]): Promise<string[]> {
  const changed = outcomes
    .filter((o) => o.object.kind === 'Secret' && o.outcome === 'configured')
    .map((o) => o.object.metadata.name);
  if (changed.length === 0) return [];
  const byName = secretConsumers(c.plan!.manifests);
  const existed = (kind: string, name: string) =>
    c.look!.live.has(objectKey({ kind, metadata: { name, namespace: c.config.namespace } }));
  const restart = [
    ...new Set(
      changed
        .flatMap((name) => byName.get(name) ?? [])
        .filter((w) => existed(w.kind, w.name))
        .map((w) => `${w.kind.toLowerCase()}/${w.name}`),
    ),
  ];
  if (restart.length) await c.kubectl.run(['rollout', 'restart', ...restart, '-n', c.config.namespace]);
  return restart;
}

/**
 * One look, the namespace when missing, one server-side apply of `select(plan)`, the
 * inventory when it grew, and restarts for changed Secrets. The inventory is written even when
 * the apply fails part-way, so nothing it created goes unrecorded.
 */
export function applyStep(select: (plan: Plan) => K8sObject[]): Step<BootstrapContext> {
  return {
    name: 'apply',
    async run(c) {
      const { namespace } = c.config;
      const objects = select(c.plan!);
      // The look takes in the whole plan even when only part is applied (secrets.mts): the
      // restart below must know which consumers already run.
      const seen = await look(c.kubectl, c.plan!.namespace[0]!, [...c.plan!.secrets, ...c.plan!.manifests]);
      c.look = seen;
      c.inventory = seen.inventory;
      const ns = await ensureNamespace(c.kubectl, c.plan!.namespace[0]!, seen.namespace);
      let applied;
      const replaced: string[] = [];
      try {
        applied = await applyObjects(c.kubectl, objects, {
          force: c.options.forceConflicts,
          ownsStatefulSet: ownsStatefulSet(seen, namespace),
          onReplace: (name) => replaced.push(name),
        });
      } catch (error) {
        // Record whatever the failed apply did create, so prune and teardown know of it.
        const now = await c.kubectl.getObjects(objects).catch(() => []);
        const made = now
          .filter((o) => !seen.live.has(objectKey({ ...o, metadata: { ...o.metadata, namespace } })))
          .map(refOf);
        if (made.length)
          await writeInventory(c, recordApplied(seen.inventory ?? EMPTY_INVENTORY, made, [])).catch(() => {});
        throw error;
      }
      const outcomes = outcomesOf(objects, seen.live, applied, namespace);
      c.outcomes.push(...outcomes);
      c.changed += outcomes.filter((o) => o.outcome !== 'unchanged').length + (seen.namespace === 'missing' ? 1 : 0);
      for (const { object, outcome } of outcomes)
        c.session.output.verbose(`${object.kind} ${object.metadata.name} ${outcome}`);
      const created = outcomes.filter((o) => o.outcome === 'created').map((o) => refOf(o.object));
      await writeInventory(c, recordApplied(seen.inventory ?? EMPTY_INVENTORY, created, objects.map(refOf)));
      const restarted = await restartConsumers(c, outcomes);
      const parts = [summarize(outcomes)];
      if (seen.namespace !== 'ours') parts.unshift(ns);
      if (replaced.length) {
        parts.push(
          `replaced StatefulSet ${replaced.join(', ')} (its volume claims cannot change in place; its pods and volumes were kept)`,
        );
      }
      if (restarted.length) parts.push(`restarted ${restarted.join(', ')}`);
      return parts.join('; ');
    },
  };
}

export const applyAllStep = applyStep((plan) => [...plan.secrets, ...plan.manifests]);

/** Nothing changed and the look already saw every workload ready: no need to look again. */
function readyAtLook(c: BootstrapContext): boolean {
  if (!c.look || c.changed > 0) return false;
  const workloads = [...c.look.live.values()].filter((o) => isWorkload(o)) as unknown as Workload[];
  const snapshot: Snapshot = { workloads, pods: [] };
  return assess(snapshot, workloadsOf(c.plan!.manifests)).pending.length === 0;
}

export const waitStep: Step<BootstrapContext> = {
  name: 'wait for workloads',
  async run(c) {
    const expected = workloadsOf(c.plan!.manifests);
    if (readyAtLook(c)) return `${expected.length} workloads ready`;
    const { wait } = c.config;
    const signal = c.signal ?? c.session.signal;
    return waitForWorkloads(c.kubectl, c.config.namespace, expected, {
      timeoutMs: parseDuration(wait.timeout),
      pullGraceMs: parseDuration(wait.pullGrace),
      readinessGraceMs: parseDuration(wait.readinessGrace),
      onProgress: (text) => c.session.output.verbose(text),
      signal,
    });
  },
};

/** Runs only after the wait succeeded, so a failed rollout never removes the old version. */
export const pruneStep: Step<BootstrapContext> = {
  name: 'prune',
  async run(c) {
    const planned = [...c.plan!.secrets, ...c.plan!.manifests].map(refOf);
    const inventory = c.inventory ?? EMPTY_INVENTORY;
    const result = await prune(c.kubectl, c.config.namespace, prunePlan(inventory, planned, c.options.pruneVolumes));
    await writeInventory(c, inventoryAfterPrune(inventory, planned, result));
    c.changed += result.deleted.length;
    return describePrune(result);
  },
};

/** --diff: one look and one server-side dry-run; nothing is changed. */
export const diffStep: Step<BootstrapContext> = {
  name: 'diff',
  async run(c) {
    const objects = [...c.plan!.secrets, ...c.plan!.manifests];
    c.look = await look(c.kubectl, c.plan!.namespace[0]!, objects);
    c.diff = await diffPlan(c.kubectl, objects, c.look, {
      force: c.options.forceConflicts,
      pruneVolumes: c.options.pruneVolumes,
    });
    return diffSummary(c.diff).text;
  },
};

/** --diff contacts the cluster, but the kind provider must not create one to compare against. */
export const clusterExistsStep: Step<BootstrapContext> = {
  name: 'cluster',
  async run(c) {
    if (!(await c.provider.exists()))
      throw new Error(`${c.provider.describe()} does not exist yet: a real run would create it and everything in it`);
    return c.provider.describe();
  },
};

export function diffSteps(): Step<BootstrapContext>[] {
  return [preflightStep, clusterExistsStep, diffStep];
}

export function bootstrapSteps(config: Config, options: BootstrapOptions = DEFAULT_OPTIONS): Step<BootstrapContext>[] {
  const steps = [preflightStep];
  if (options.checkPull && config.registries.length > 0) steps.push(checkPullStep);
  steps.push(clusterStep, applyAllStep, waitStep);
  if (options.prune) steps.push(pruneStep);
  return steps;
}
