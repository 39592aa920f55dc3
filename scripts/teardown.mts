#!/usr/bin/env -S node --import tsx
/**
 * Removes the Demon stack: deletes the kind cluster, or on an existing cluster everything this
 * tool created (by its managed-by label, namespace last). Asks first on a terminal; elsewhere
 * requires --yes. Running it twice is safe.
 *   npx tsx scripts/teardown.mts [--config FILE] [--yes] [--verbose]
 */
import { createInterface } from 'node:readline/promises';
import { loadConfig } from '../lib/config/load.ts';
import { UsageError } from '../lib/core/errors.ts';
import { COMMON_FLAGS, parseCommand } from '../lib/core/flags.ts';
import { Kubectl } from '../lib/tools/kubectl.ts';
import { runMain } from '../lib/core/main.ts';
import { checkLocal } from '../lib/tools/preflight.ts';
import { createSession } from '../lib/core/session.ts';
import { runSteps } from '../lib/core/steps.ts';
import { clusterTarget } from '../lib/tools/target.ts';
import { teardownExisting, teardownKind } from '../lib/bootstrap/teardown.ts';

const FLAGS = {
  ...COMMON_FLAGS,
  yes: { type: 'boolean', description: 'delete without asking (required when not on a terminal)', default: false },
} as const;

await runMain(async (main) => {
  const flags = parseCommand(main.argv, FLAGS, { usage: 'npx tsx scripts/teardown.mts [options]', summary: 'Delete what bootstrap created.' }, main.stdout);
  if (!flags) return 0;
  const config = loadConfig(flags.config);
  const what = config.cluster.provider === 'kind' ? `kind cluster "${config.cluster.name}"` : `the Demon objects in namespace ${config.namespace} (context ${config.cluster.context})`;
  if (!flags.yes) {
    if (!process.stdin.isTTY) throw new UsageError(`refusing to delete ${what} without confirmation; pass --yes`);
    const prompt = createInterface({ input: process.stdin, output: main.stderr });
    const answer = await prompt.question(`Delete ${what}? [y/N] `);
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      main.stderr.write('nothing deleted\n');
      return 0;
    }
  }
  const session = createSession(main, flags.verbose);
  const kubectl = new Kubectl(session.runner, clusterTarget(config), main.redactor);
  await runSteps([
    { name: 'preflight', run: async () => checkLocal(config, main.env, { credentials: false }) },
    config.cluster.provider === 'kind'
      ? { name: 'delete kind cluster', run: () => teardownKind(session.runner, config, main.redactor) }
      : { name: 'delete objects', run: async () => { await kubectl.checkReachable(); return teardownExisting(kubectl, config.namespace); } },
  ], {}, session.output);
  return 0;
});
