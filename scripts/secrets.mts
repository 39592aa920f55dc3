#!/usr/bin/env -S node --import tsx
/**
 * Creates or updates the stack's Secrets (the app Secret, one pull Secret per registry, the
 * Grafana admin password) from environment variables, on stdin, and restarts the workloads
 * that use a Secret whose value changed. --check-pull only asks the registries, with those
 * same credentials, whether every image exists.
 *   npx tsx scripts/secrets.mts [--config FILE] [--check-pull] [--dry-run] [--verbose]
 */
import { applyStep, bootstrapContext, checkPullStep, clusterStep, preflightStep } from '../lib/bootstrap/steps.ts';
import { loadConfig } from '../lib/config/load.ts';
import { UsageError } from '../lib/core/errors.ts';
import { COMMON_FLAGS, parseCommand } from '../lib/core/flags.ts';
import { runMain } from '../lib/core/main.ts';
import { buildPlan, planInputs } from '../lib/render/plan.ts';
import { missingEnv } from '../lib/tools/preflight.ts';
import { toYaml } from '../lib/render/manifests.ts';
import { redactSecretObjects } from '../lib/render/secrets.ts';
import { createSession } from '../lib/core/session.ts';
import { runSteps, type Step } from '../lib/core/steps.ts';
import type { BootstrapContext } from '../lib/bootstrap/steps.ts';

const FLAGS = {
  ...COMMON_FLAGS,
  'check-pull': {
    type: 'boolean',
    description: 'only check, with the pull credentials, that every image exists (changes nothing)',
    default: false,
  },
  'dry-run': {
    type: 'boolean',
    description: 'print the Secrets (values masked) without contacting anything',
    default: false,
  },
} as const;

await runMain(async (main) => {
  const flags = parseCommand(
    main.argv,
    FLAGS,
    {
      usage: 'npx tsx scripts/secrets.mts [options]',
      summary: 'Create or update the Demon Secrets, or check image pulls with their credentials.',
    },
    main.stdout,
  );
  if (!flags) return 0;
  const config = loadConfig(flags.config);
  const session = createSession(main, flags.verbose);
  const inputs = planInputs(session, config, flags.config);

  if (flags['dry-run']) {
    const missing = missingEnv(config, main.env);
    if (missing.length) throw new UsageError('dry run: some secret values are missing', missing);
    const plan = buildPlan(inputs);
    main.stdout.write(main.redactor.mask(toYaml(redactSecretObjects(plan.secrets))));
    session.output.line(
      `dry run: ${plan.secrets.length} Secrets for namespace ${config.namespace}; nothing was contacted or changed`,
    );
    return 0;
  }

  const context = bootstrapContext(config, session, inputs);
  const steps: Step<BootstrapContext>[] = flags['check-pull']
    ? [preflightStep, checkPullStep]
    : [preflightStep, clusterStep, applyStep((plan) => plan.secrets)];
  await runSteps(steps, context, session.output);
  return 0;
});
