#!/usr/bin/env -S node --import tsx
/**
 * Builds the components that have a `build` section, tags them sha-<7>, the branch and
 * optionally latest, pushes them, takes each digest from the push itself, verifies it in the
 * registry and writes images.lock.json. Unchanged images are neither built nor pushed.
 *   npx tsx scripts/build-images.mts [--config FILE] [--force] [--no-push [--load]] [--lock FILE]
 */
import { resolve } from 'node:path';
import { loadConfig } from '../lib/config/load.ts';
import { UsageError } from '../lib/core/errors.ts';
import { COMMON_FLAGS, parseCommand } from '../lib/core/flags.ts';
import { imagesContext, imagesSteps } from '../lib/images/steps.ts';
import { DEFAULT_LOCK_FILE } from '../lib/images/lock.ts';
import { runMain } from '../lib/core/main.ts';
import { createSession } from '../lib/core/session.ts';
import { formatDuration, runSteps } from '../lib/core/steps.ts';

const FLAGS = {
  ...COMMON_FLAGS,
  'no-push': {
    type: 'boolean',
    description: 'build only (no login, push or lock), or with --load for kind',
    default: false,
  },
  load: {
    type: 'boolean',
    description: 'with --no-push: `kind load` the images into the kind cluster and pin them by tag',
    default: false,
  },
  force: {
    type: 'boolean',
    description: 'rebuild and push even when the content hash matches the lock',
    default: false,
  },
  lock: { type: 'string', placeholder: 'FILE', description: 'lock file to read and write', default: DEFAULT_LOCK_FILE },
  branch: {
    type: 'string',
    placeholder: 'NAME',
    description: "branch tag to push (default: the checkout's current branch; none when detached)",
  },
  source: { type: 'string', placeholder: 'DIR', description: 'the Demon checkout to build (overrides build.source)' },
} as const;

await runMain(async (main) => {
  const flags = parseCommand(
    main.argv,
    FLAGS,
    { usage: 'npx tsx scripts/build-images.mts [options]', summary: 'Build, push and pin the Demon images.' },
    main.stdout,
  );
  if (!flags) return 0;
  if (flags.load && !flags['no-push'])
    throw new UsageError('--load needs --no-push: images go either to a registry or into a kind cluster');
  const loaded = loadConfig(flags.config);
  const config = flags.source ? { ...loaded, build: { ...loaded.build, source: resolve(flags.source) } } : loaded;
  if (flags.load && config.cluster.provider !== 'kind')
    throw new UsageError(
      '--load targets a kind cluster, but cluster.provider is "existing"; push to a registry instead',
    );
  const started = performance.now();
  const session = createSession(main, flags.verbose);
  const options = {
    push: !flags['no-push'],
    load: flags.load,
    force: flags.force,
    lockFile: resolve(flags.lock),
    ...(flags.branch ? { branch: flags.branch } : {}),
  };
  const context = imagesContext(config, resolve(flags.config), session, options);
  await runSteps(imagesSteps(options), context, session.output);
  const built = context.todo.length;
  session.output.line(
    `build-images done in ${formatDuration(Math.round(performance.now() - started))}: ${built === 0 ? 'unchanged: every image matches the lock' : `${built} of ${context.jobs.length} images built`}`,
  );
  return 0;
});
