/**
 * The nightly, as a step list with a finally:
 *   preflight -> build images -> fresh cluster -> bootstrap (digest-pinned, pull check) -> smoke
 *   finally: collect artifacts -> teardown
 * Every step reuses the scripts' libraries; nothing shells out to our own scripts. Teardown
 * removes only what this run created: its kind cluster, or on an existing cluster its fresh
 * namespace (never one it found).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapContext, bootstrapSteps, type BootstrapContext } from '../bootstrap/steps.ts';
import { teardownObjects } from '../bootstrap/teardown.ts';
import type { Config } from '../config/schema.ts';
import type { Session } from '../core/session.ts';
import { indented, nested, type Step } from '../core/steps.ts';
import { pinnedImages, readLock } from '../images/lock.ts';
import { imagesContext, imagesSteps, type ImagesContext } from '../images/steps.ts';
import { buildPlan, planInputs, redactedPlanYaml, type PlanInputs } from '../render/plan.ts';
import { workloadsToDiagnose, writeArtifact, writeBundle } from '../smoke/bundle.ts';
import type { NamedResult, Report } from '../smoke/report.ts';
import { runSmoke, smokeFailure } from '../smoke/run.ts';
import { preflight } from '../tools/preflight.ts';
import { providerFor, type Provider } from '../tools/provider.ts';

export interface NightlyOptions {
  runDir: string;
  runId: string;
  lockFile: string;
  retain: boolean;
  /** Aborts on Ctrl-C and at the deadline: the steps' own work stops on it. */
  signal: AbortSignal;
}

export interface NightlyContext {
  config: Config;
  configFile: string;
  session: Session;
  options: NightlyOptions;
  provider: Provider;
  images: ImagesContext;
  boot?: BootstrapContext;
  /** What this run created, and so what its teardown may remove. */
  created: { cluster: boolean; namespace: boolean };
  smokeReport?: Report;
  smokeResults: NamedResult[];
  failed: boolean;
}

const MAX_NAME = 63;
const MAX_RUN_ID = 24;

/**
 * `<namespace>-nightly-<run id>`, always new and never the configured namespace: the base is
 * shortened, never the unique suffix (a run id too long for a name is replaced by its hash).
 */
export function nightlyNamespace(namespace: string, runId: string): string {
  const id = runId.length <= MAX_RUN_ID ? runId : createHash('sha256').update(runId).digest('hex').slice(0, 12);
  const suffix = `-nightly-${id}`;
  const base = namespace.slice(0, MAX_NAME - suffix.length).replace(/-+$/, '');
  return `${base}${suffix}`;
}

/** The config a nightly deploys: its own kind cluster, or a fresh namespace on an existing one. */
export function nightlyConfig(config: Config, runId: string): Config {
  return config.cluster.provider === 'kind'
    ? { ...config, cluster: { ...config.cluster, name: config.nightly.clusterName } }
    : { ...config, namespace: nightlyNamespace(config.namespace, runId) };
}

export function nightlyContext(
  config: Config,
  configFile: string,
  session: Session,
  options: NightlyOptions,
): NightlyContext {
  const images = imagesContext(config, configFile, session, {
    push: true,
    load: false,
    force: false,
    lockFile: options.lockFile,
  });
  const provider = providerFor(config, session.runner, session.redactor);
  return {
    config,
    configFile,
    session,
    options,
    provider,
    images,
    created: { cluster: false, namespace: false },
    smokeResults: [],
    failed: false,
  };
}

function nightlyPlanInputs(c: NightlyContext): PlanInputs {
  return planInputs(
    c.session,
    c.config,
    c.configFile,
    pinnedImages(c.config, readLock(c.options.lockFile), c.options.lockFile),
  );
}

export const nightlyPreflight: Step<NightlyContext> = {
  name: 'preflight',
  async run(n) {
    // Everything a later step would refuse is refused here, before anything is built or
    // pushed: tools, the docker daemon, every secret value, and a plan that renders. The
    // plan comes first so every secret is known (and announced) before anything prints.
    let planError: unknown;
    try {
      buildPlan(planInputs(n.session, n.config, n.configFile));
    } catch (error) {
      planError = error;
    }
    const found = await preflight({
      provider: n.provider,
      config: n.config,
      env: n.session.env,
      runner: n.session.runner,
      tools: ['git', 'docker'],
      docker: true,
    });
    if (planError) throw planError;
    mkdirSync(n.options.runDir, { recursive: true });
    return [...found, `run ${n.options.runId}, evidence in ${n.options.runDir}`].join(', ');
  },
};

export const freshClusterStep: Step<NightlyContext> = {
  name: 'fresh cluster',
  async run(n) {
    const outcome = await n.provider.fresh();
    n.created.cluster = n.provider.name === 'kind';
    return n.provider.name === 'kind' ? outcome : `namespace ${n.config.namespace} on ${outcome}`;
  },
};

export const smokeStep: Step<NightlyContext> = {
  name: 'smoke',
  async run(n) {
    const result = await runSmoke({
      context: n.boot!,
      lockFile: n.options.lockFile,
      dir: join(n.options.runDir, 'smoke'),
      signal: n.options.signal,
      output: indented(n.session.output),
    });
    n.smokeReport = result.report;
    n.smokeResults = result.report.results;
    if (result.report.status !== 'passed') throw smokeFailure(result);
    return result.headline;
  },
};

export function nightlySteps(c: NightlyContext): Step<NightlyContext>[] {
  const { output } = c.session;
  return [
    nightlyPreflight,
    nested<NightlyContext, ImagesContext>(
      'build images',
      output,
      () => imagesSteps(c.images.options),
      (n) => n.images,
    ),
    freshClusterStep,
    nested<NightlyContext, BootstrapContext>(
      'bootstrap',
      output,
      (n) => bootstrapSteps(n.config),
      (n) => {
        n.boot ??= { ...bootstrapContext(n.config, n.session, nightlyPlanInputs(n)), signal: n.options.signal };
        return n.boot;
      },
      // What was deployed, not the last sub-step's words (prune's "0 deleted").
      (boot, records) =>
        [
          `${boot.changed} ${boot.changed === 1 ? 'object' : 'objects'} created or changed`,
          records.find((r) => r.name === 'wait for workloads')?.outcome,
        ]
          .filter(Boolean)
          .join(', '),
    ),
    smokeStep,
  ];
}

export const collectStep: Step<NightlyContext> = {
  name: 'collect artifacts',
  async run(n) {
    const { runDir } = n.options;
    const { redactor } = n.session;
    mkdirSync(runDir, { recursive: true });
    const written: string[] = [];
    if (existsSync(n.options.lockFile)) {
      copyFileSync(n.options.lockFile, join(runDir, 'images.lock.json'));
      written.push('images.lock.json');
    }
    if (n.boot?.plan) written.push(writeArtifact(runDir, 'manifests.yaml', redactedPlanYaml(n.boot.plan), redactor));
    // The failure bundle needs the cluster, so it is taken before teardown; smoke already
    // wrote one when its checks failed. Nothing deployed, nothing to diagnose.
    if (n.failed && n.boot?.look && !existsSync(join(runDir, 'smoke', 'summary.md'))) {
      const { kubectl, plan } = n.boot;
      const workloads = await workloadsToDiagnose(kubectl, n.config.namespace, plan, n.smokeResults);
      const manifestsYaml = plan && redactedPlanYaml(plan);
      written.push(
        ...(await writeBundle({
          dir: join(runDir, 'bundle'),
          kubectl,
          namespace: n.config.namespace,
          redactor,
          workloads,
          manifestsYaml,
          summary: '',
        })),
      );
    }
    return `${written.length} files in ${runDir}`;
  },
};

export const teardownStep: Step<NightlyContext> = {
  name: 'teardown',
  async run(n) {
    const { namespace } = n.config;
    const createdNamespace = n.boot?.look?.namespace === 'missing';
    if (!n.created.cluster && !n.boot?.look) return 'nothing was created: nothing to tear down';
    if (n.options.retain) {
      const look = `kubectl --context ${n.provider.target.context} -n ${namespace} get pods`;
      return `kept for debugging (--retain): ${look}; remove it with ${n.provider.removeHint(namespace)}`;
    }
    if (n.created.cluster) return `${await n.provider.remove()} ${n.provider.describe()}`;
    // An existing cluster: this run's objects, and the namespace only if this run created it.
    return teardownObjects(n.boot!.kubectl, namespace, {
      volumes: true,
      namespace: createdNamespace ? 'if-ours' : 'keep',
    });
  },
};

export function nightlyFinally(): Step<NightlyContext>[] {
  return [collectStep, teardownStep];
}
