#!/usr/bin/env -S node --import tsx
/**
 * Removes what bootstrap created, and nothing else: the kind cluster when this tool created
 * it; otherwise the objects its inventory lists as created (volumes only with
 * --delete-volumes) and the namespace when this tool created it and nothing else is in it.
 * Asks first on a terminal; elsewhere requires --yes. Running it twice is safe.
 *   npx tsx scripts/teardown.mts [--config FILE] [--yes] [--delete-volumes] [--verbose]
 */
import { createInterface } from 'node:readline/promises';
import { teardownObjects } from '../lib/bootstrap/teardown.ts';
import { loadConfig } from '../lib/config/load.ts';
import { InterruptedError, UsageError } from '../lib/core/errors.ts';
import { COMMON_FLAGS, parseCommand } from '../lib/core/flags.ts';
import { runMain } from '../lib/core/main.ts';
import { createSession } from '../lib/core/session.ts';
import { runSteps } from '../lib/core/steps.ts';
import { Kubectl } from '../lib/tools/kubectl.ts';
import { preflight } from '../lib/tools/preflight.ts';
import { providerFor } from '../lib/tools/provider.ts';

const FLAGS = {
  ...COMMON_FLAGS,
  yes: { type: 'boolean', description: 'delete without asking (required when not on a terminal)', default: false },
  'delete-volumes': {
    type: 'boolean',
    description: "also delete the stack's PersistentVolumeClaims, and the data in them",
    default: false,
  },
} as const;

await runMain(async (main) => {
  const flags = parseCommand(
    main.argv,
    FLAGS,
    { usage: 'npx tsx scripts/teardown.mts [options]', summary: 'Delete what bootstrap created.' },
    main.stdout,
  );
  if (!flags) return 0;
  const config = loadConfig(flags.config);
  const session = createSession(main, flags.verbose);
  const provider = providerFor(config, session.runner, main.redactor);
  const volumes = flags['delete-volumes'] ? ', its volumes included' : ' (volumes are kept)';
  const what = `what ${config.namespace} holds of the Demon stack on ${provider.describe()}${volumes}; a kind cluster this tool created is deleted whole`;
  if (!flags.yes) {
    if (!process.stdin.isTTY) throw new UsageError(`refusing to delete ${what} without confirmation; pass --yes`);
    const prompt = createInterface({ input: process.stdin, output: main.stderr });
    let interrupted = false;
    prompt.on('SIGINT', () => {
      interrupted = true;
      prompt.close();
    });
    // Ctrl-D answers no; Ctrl-C interrupts (exit 130). Either way nothing is deleted.
    const answer = await prompt.question(`Delete ${what}? [y/N] `).catch(() => '');
    prompt.close();
    if (interrupted) throw new InterruptedError('SIGINT', 'nothing deleted');
    if (!/^y(es)?$/i.test(answer.trim())) {
      main.stderr.write('nothing deleted\n');
      return 0;
    }
  }
  const kubectl = new Kubectl(session.runner, provider.target, main.redactor);
  await runSteps(
    [
      {
        name: 'preflight',
        run: async () =>
          (await preflight({ provider, config, env: main.env, runner: session.runner, credentials: false })).join(
            ', ',
          ) || 'tools found',
      },
      {
        name: 'delete',
        async run() {
          const cluster = await provider.remove();
          if (cluster === 'deleted') return `deleted ${provider.describe()}`;
          if (cluster === 'not found') return `${provider.describe()} does not exist: nothing to delete`;
          return teardownObjects(kubectl, config.namespace, { volumes: flags['delete-volumes'], namespace: 'if-ours' });
        },
      },
    ],
    {},
    session.output,
  );
  return 0;
});
