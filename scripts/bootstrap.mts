#!/usr/bin/env -S node --import tsx
/**
 * Stands up the Demon stack: kind (created or reused) or an existing cluster, then namespace,
 * Secrets and manifests with server-side apply, then waits until every workload is ready.
 *   npx tsx scripts/bootstrap.mts [--config FILE] [--dry-run] [--verbose]
 */
import { accessHints, bootstrapContext, bootstrapSteps } from '../lib/bootstrap/steps.ts';
import { loadConfig } from '../lib/config/load.ts';
import { COMMON_FLAGS, parseCommand } from '../lib/core/flags.ts';
import { runMain } from '../lib/core/main.ts';
import { DEFAULT_LOCK_FILE, pinnedImages, readLock } from '../lib/images/lock.ts';
import { buildPlan, redactedPlanYaml, type PlanInputs } from '../lib/render/plan.ts';
import { checkLocal, missingEnv } from '../lib/tools/preflight.ts';
import { UsageError } from '../lib/core/errors.ts';
import { createSession, TEMPLATES_DIR } from '../lib/core/session.ts';
import { runSteps, formatDuration } from '../lib/core/steps.ts';

const FLAGS = {
  ...COMMON_FLAGS,
  'dry-run': { type: 'boolean', description: 'print the YAML a real run would apply (Secret values masked); contact nothing', default: false },
  'no-check-pull': { type: 'boolean', description: 'skip asking the registries whether every image exists before deploying', default: false },
  lock: { type: 'string', placeholder: 'FILE', description: 'pin built images to the digests in this lock file, when it exists', default: DEFAULT_LOCK_FILE },
  'no-lock': { type: 'boolean', description: 'deploy the config\'s image tags even when a lock file exists', default: false },
} as const;

await runMain(async (main) => {
  const flags = parseCommand(main.argv, FLAGS, { usage: 'npx tsx scripts/bootstrap.mts [options]', summary: 'Deploy the Demon stack and wait until it is ready.' }, main.stdout);
  if (!flags) return 0;
  const started = performance.now();
  const config = loadConfig(flags.config);
  const session = createSession(main, flags.verbose);
  // GitHub's runner reads workflow commands from stderr as well; stdout stays pure YAML in --dry-run.
  const announce = (line: string) => main.stderr.write(`${line}\n`);
  const images = flags['no-lock'] ? {} : pinnedImages(config, readLock(flags.lock), flags.lock);
  if (Object.keys(images).length) session.output.line(`pinned ${Object.keys(images).join(', ')} from ${flags.lock}`);
  const planInputs: PlanInputs = { config, configFile: flags.config, templatesDir: TEMPLATES_DIR, env: main.env, redactor: main.redactor, onGithubActions: session.onGithubActions, announce, images };

  if (flags['dry-run']) {
    const missing = missingEnv(config, main.env);
    if (missing.length) throw new UsageError('dry run: some secret values are missing', missing);
    const plan = buildPlan(planInputs);
    main.stdout.write(redactedPlanYaml(plan, main.redactor));
    const count = plan.namespace.length + plan.secrets.length + plan.manifests.length;
    session.output.line(`dry run: ${count} objects for namespace ${config.namespace}; nothing was contacted or changed`);
    return 0;
  }

  const context = bootstrapContext(config, session, planInputs);
  await runSteps(bootstrapSteps(config, { checkPull: !flags['no-check-pull'] }), context, session.output);
  const verdict = context.changed === 0 ? 'unchanged: the cluster already matched the config' : `${context.changed} objects created or changed`;
  session.output.line(`bootstrap done in ${formatDuration(Math.round(performance.now() - started))}: ${verdict}`);
  session.output.line('reach the services with:');
  for (const hint of accessHints(context.plan!, context.kubectl.target.context, config.namespace)) session.output.line(hint);
  return 0;
});
