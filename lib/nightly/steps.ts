/**
 * The nightly, as a step list with a finally:
 *   preflight -> build images -> fresh cluster -> bootstrap (digest-pinned, pull check) -> smoke
 *   finally: collect artifacts -> teardown
 * Every step reuses the scripts' libraries; nothing shells out to our own scripts.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapContext, bootstrapSteps, type BootstrapContext } from '../bootstrap/steps.ts';
import { workloadsToDiagnose, writeArtifact, writeBundle } from '../smoke/bundle.ts';
import { UsageError } from '../core/errors.ts';
import { imagesContext, imagesSteps, cleanupImages, type ImagesContext } from '../images/steps.ts';
import { deleteKindCluster, ensureKindCluster } from '../tools/kind.ts';
import { pinnedImages, readLock } from '../images/lock.ts';
import { redactedPlanYaml, type PlanInputs } from '../render/plan.ts';
import { checkLocal, missingTools } from '../tools/preflight.ts';
import type { NamedResult, Report } from '../smoke/report.ts';
import type { Config } from '../config/schema.ts';
import type { Session } from '../core/session.ts';
import { runSmoke, smokeFailure } from '../smoke/run.ts';
import { indented, nested, type Step } from '../core/steps.ts';
import { teardownExisting } from '../bootstrap/teardown.ts';

export interface NightlyOptions {
  runDir: string;
  runId: string;
  lockFile: string;
  retain: boolean;
  templatesDir: string;
  signal: AbortSignal;
}

export interface NightlyContext {
  config: Config;
  configFile: string;
  session: Session;
  options: NightlyOptions;
  images: ImagesContext;
  boot?: BootstrapContext;
  smokeReport?: Report;
  smokeResults: NamedResult[];
  failed: boolean;
}

/** The config a nightly deploys: its own kind cluster, or a fresh namespace on an existing one. */
export function nightlyConfig(config: Config, runId: string): Config {
  return config.cluster.provider === 'kind'
    ? { ...config, cluster: { ...config.cluster, name: config.nightly.clusterName } }
    : { ...config, namespace: `${config.namespace}-nightly-${runId}`.slice(0, 63).replace(/-+$/, '') };
}

export function nightlyContext(config: Config, configFile: string, session: Session, options: NightlyOptions): NightlyContext {
  const images = imagesContext(config, configFile, session, { push: true, load: false, force: false, lockFile: options.lockFile });
  return { config, configFile, session, options, images, smokeResults: [], failed: false };
}

function planInputs(c: NightlyContext): PlanInputs {
  return {
    config: c.config, configFile: c.configFile, templatesDir: c.options.templatesDir, env: c.session.env, redactor: c.session.redactor,
    onGithubActions: c.session.onGithubActions, images: pinnedImages(c.config, readLock(c.options.lockFile), c.options.lockFile),
  };
}

export function nightlySteps(c: NightlyContext): Step<NightlyContext>[] {
  const { output } = c.session;
  return [
    {
      name: 'preflight',
      async run(n) {
        const tools = missingTools(n.config.cluster.provider === 'kind' ? ['git'] : ['git', 'docker'], n.session.env.PATH);
        if (tools.length) throw new UsageError('preflight found problems (nothing was changed)', tools);
        checkLocal(n.config, n.session.env);
        mkdirSync(n.options.runDir, { recursive: true });
        return `run ${n.options.runId}, evidence in ${n.options.runDir}`;
      },
    },
    nested<NightlyContext, ImagesContext>('build images', output, () => imagesSteps(c.images.options), (n) => n.images),
    {
      name: 'fresh cluster',
      async run(n) {
        if (n.config.cluster.provider === 'existing') return `namespace ${n.config.namespace} on context ${n.config.cluster.context}`;
        const leftover = await deleteKindCluster(n.session.runner, n.config.cluster.name, n.session.redactor);
        await ensureKindCluster(n.session.runner, n.config, n.session.redactor);
        return `kind cluster ${n.config.cluster.name} created${leftover === 'deleted' ? ' (a leftover one was deleted first)' : ''}`;
      },
    },
    nested<NightlyContext, BootstrapContext>('bootstrap', output, (n) => bootstrapSteps(n.config), (n) => {
      n.boot ??= { ...bootstrapContext(n.config, n.session, planInputs(n)), signal: n.options.signal };
      return n.boot;
    }),
    {
      name: 'smoke',
      async run(n) {
        const result = await runSmoke({ context: n.boot!, lockFile: n.options.lockFile, dir: join(n.options.runDir, 'smoke'), signal: n.options.signal, output: indented(n.session.output) });
        n.smokeReport = result.report;
        n.smokeResults = result.report.results;
        if (result.report.status !== 'passed') throw smokeFailure(result);
        return result.headline;
      },
    },
  ];
}

export function nightlyFinally(): Step<NightlyContext>[] {
  return [
    {
      name: 'collect artifacts',
      async run(n) {
        const { runDir } = n.options;
        mkdirSync(runDir, { recursive: true });
        const written: string[] = [];
        if (existsSync(n.options.lockFile)) {
          copyFileSync(n.options.lockFile, join(runDir, 'images.lock.json'));
          written.push('images.lock.json');
        }
        if (n.boot?.plan) written.push(writeArtifact(runDir, 'manifests.yaml', redactedPlanYaml(n.boot.plan, n.session.redactor), n.session.redactor));
        // The failure bundle needs the cluster, so it is taken before teardown; smoke already
        // wrote one when its checks failed.
        if (n.failed && n.boot && !existsSync(join(runDir, 'smoke', 'summary.md'))) {
          const workloads = await workloadsToDiagnose(n.boot.kubectl, n.config.namespace, n.boot.plan, n.smokeResults);
          written.push(...(await writeBundle({ dir: join(runDir, 'bundle'), kubectl: n.boot.kubectl, namespace: n.config.namespace, redactor: n.session.redactor, workloads, manifestsYaml: n.boot.plan && redactedPlanYaml(n.boot.plan, n.session.redactor), summary: '' })));
        }
        cleanupImages(n.images);
        return `${written.length} files in ${runDir}`;
      },
    },
    {
      name: 'teardown',
      async run(n) {
        const { cluster, namespace } = n.config;
        if (n.options.retain) {
          const context = cluster.provider === 'kind' ? `kind-${cluster.name}` : cluster.context;
          return `kept for debugging (--retain): kubectl --context ${context} -n ${namespace} get pods; remove it with ${cluster.provider === 'kind' ? `kind delete cluster --name ${cluster.name}` : `kubectl --context ${context} delete namespace ${namespace}`}`;
        }
        if (cluster.provider === 'kind') return `${await deleteKindCluster(n.session.runner, cluster.name, n.session.redactor)} kind cluster ${cluster.name}`;
        if (!n.boot) return 'nothing was deployed';
        return teardownExisting(n.boot.kubectl, namespace);
      },
    },
  ];
}
