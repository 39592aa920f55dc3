#!/usr/bin/env -S node --import tsx
/**
 * Stands up the Demon stack: kind (created or reused) or an existing cluster, then one
 * server-side apply of the namespace, Secrets and manifests, a wait until every workload is
 * ready, and a prune of what the config dropped. --diff shows what a run would change.
 *   npx tsx scripts/bootstrap.mts [--config FILE] [--dry-run | --diff] [--no-prune] [--verbose]
 */
import { accessHints, bootstrapContext, bootstrapSteps, diffSteps } from '../lib/bootstrap/steps.ts';
import { diffSummary, formatDiff } from '../lib/bootstrap/diff.ts';
import { loadConfig } from '../lib/config/load.ts';
import { UsageError } from '../lib/core/errors.ts';
import { COMMON_FLAGS, parseCommand } from '../lib/core/flags.ts';
import { runMain } from '../lib/core/main.ts';
import { createSession } from '../lib/core/session.ts';
import { formatDuration, runSteps } from '../lib/core/steps.ts';
import { DEFAULT_LOCK_FILE, pinnedImages, readLock } from '../lib/images/lock.ts';
import { buildPlan, planInputs, redactedPlanYaml } from '../lib/render/plan.ts';
import { missingEnv } from '../lib/tools/preflight.ts';

const FLAGS = {
  ...COMMON_FLAGS,
  'dry-run': {
    type: 'boolean',
    description: 'print the YAML a real run would apply (Secret values masked); contact nothing',
    default: false,
  },
  diff: {
    type: 'boolean',
    description:
      'show what a real run would change in the cluster, change nothing (exit 1 when it would change something)',
    default: false,
  },
  'no-prune': {
    type: 'boolean',
    description: 'keep objects the config no longer has (prune deletes them after a successful wait)',
    default: false,
  },
  'prune-volumes': {
    type: 'boolean',
    description: 'let prune delete PersistentVolumeClaims too (their data goes with them)',
    default: false,
  },
  'force-conflicts': {
    type: 'boolean',
    description: "take fields that another tool manages (kubectl scale, edit) back to the config's values",
    default: false,
  },
  'no-check-pull': {
    type: 'boolean',
    description: 'skip asking the registries whether every image exists before deploying',
    default: false,
  },
  lock: {
    type: 'string',
    placeholder: 'FILE',
    description: 'pin built images to the digests in this lock file, when it exists',
    default: DEFAULT_LOCK_FILE,
  },
  'no-lock': {
    type: 'boolean',
    description: "deploy the config's image tags even when a lock file exists",
    default: false,
  },
} as const;

await runMain(async (main) => {
  const help = {
    usage: 'npx tsx scripts/bootstrap.mts [options]',
    summary: 'Deploy the Demon stack and wait until it is ready.',
  };
  const flags = parseCommand(main.argv, FLAGS, help, main.stdout);
  if (!flags) return 0;
  if (flags['dry-run'] && flags.diff)
    throw new UsageError('--dry-run contacts nothing and --diff reads the cluster: pass one of them');
  const started = performance.now();
  const config = loadConfig(flags.config);
  const session = createSession(main, flags.verbose);
  const images = flags['no-lock'] ? {} : pinnedImages(config, readLock(flags.lock), flags.lock);
  if (Object.keys(images).length) session.output.line(`pinned ${Object.keys(images).join(', ')} from ${flags.lock}`);
  const inputs = planInputs(session, config, flags.config, images);

  if (flags['dry-run']) {
    const missing = missingEnv(config, main.env);
    if (missing.length) throw new UsageError('dry run: some secret values are missing', missing);
    const plan = buildPlan(inputs);
    for (const warning of plan.warnings) session.output.line(`warning: ${warning}`);
    main.stdout.write(redactedPlanYaml(plan));
    const count = plan.namespace.length + plan.secrets.length + plan.manifests.length;
    session.output.line(
      `dry run: ${count} objects for namespace ${config.namespace}; nothing was contacted or changed`,
    );
    return 0;
  }

  const options = {
    checkPull: !flags['no-check-pull'],
    prune: !flags['no-prune'],
    pruneVolumes: flags['prune-volumes'],
    forceConflicts: flags['force-conflicts'],
  };
  const context = bootstrapContext(config, session, inputs, options);
  if (flags.diff) {
    await runSteps(diffSteps(), context, session.output);
    main.stdout.write(formatDiff(context.diff!));
    return diffSummary(context.diff!).changes > 0 ? 1 : 0;
  }
  await runSteps(bootstrapSteps(config, context.options), context, session.output);
  const verdict =
    context.changed === 0
      ? 'unchanged: the cluster already matched the config'
      : `${context.changed} ${context.changed === 1 ? 'object' : 'objects'} created, changed or pruned`;
  session.output.line(`bootstrap done in ${formatDuration(Math.round(performance.now() - started))}: ${verdict}`);
  session.output.line('reach the services with:');
  for (const hint of accessHints(context.plan!, context.kubectl.target.context, config.namespace))
    session.output.line(hint);
  return 0;
});
