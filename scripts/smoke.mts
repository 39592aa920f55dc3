#!/usr/bin/env -S node --import tsx
/**
 * Proves the deployed stack healthy from outside the pods: every workload ready, every declared
 * health path answering through a port-forward (or the API-server proxy), every running image
 * the digest the lock pins. Writes JSON, JUnit and the GitHub step summary; on failure (or with
 * --artifacts) a redacted diagnostics bundle. Exit 0 only when every check passed.
 *   npx tsx scripts/smoke.mts [--config FILE] [--lock FILE | --no-lock] [--artifacts DIR] [--verbose]
 */
import { bootstrapContext } from '../lib/bootstrap/steps.ts';
import { loadConfig } from '../lib/config/load.ts';
import { UsageError } from '../lib/core/errors.ts';
import { COMMON_FLAGS, parseCommand } from '../lib/core/flags.ts';
import { durationWithin, parseDuration } from '../lib/config/formats.ts';
import { DEFAULT_LOCK_FILE, pinnedImages, readLock } from '../lib/images/lock.ts';
import { runMain } from '../lib/core/main.ts';
import { createSession } from '../lib/core/session.ts';
import { runStamp } from '../lib/core/steps.ts';
import { planInputs } from '../lib/render/plan.ts';
import { artifactsDirProblem } from '../lib/smoke/bundle.ts';
import { runSmoke, smokeFailure } from '../lib/smoke/run.ts';
import type { MethodChoice } from '../lib/smoke/checks.ts';

const FLAGS = {
  ...COMMON_FLAGS,
  lock: {
    type: 'string',
    placeholder: 'FILE',
    description: 'lock file whose digests the running containers must carry; a missing file means no digest check',
    default: DEFAULT_LOCK_FILE,
  },
  'no-lock': { type: 'boolean', description: 'skip the digest check even when a lock file exists', default: false },
  artifacts: {
    type: 'string',
    placeholder: 'DIR',
    description:
      'write the reports and the diagnostics bundle here, even when every check passed (on failure they go to artifacts/smoke-<UTC time> by default)',
  },
  method: {
    type: 'string',
    placeholder: 'HOW',
    description: 'auto (port-forward, API-server proxy when port-forward cannot work), port-forward or api-proxy',
    default: 'auto',
  },
  'check-timeout': {
    type: 'string',
    placeholder: 'DURATION',
    description: 'deadline of each health check, retries included',
    default: '15s',
  },
} as const;
const METHODS = ['auto', 'port-forward', 'api-proxy'];

await runMain(async (main) => {
  const flags = parseCommand(
    main.argv,
    FLAGS,
    {
      usage: 'npx tsx scripts/smoke.mts [options]',
      summary: 'Check that the deployed Demon stack is healthy, and collect diagnostics when it is not.',
    },
    main.stdout,
  );
  if (!flags) return 0;
  if (!METHODS.includes(flags.method))
    throw new UsageError(`--method must be one of ${METHODS.join(', ')}, not "${flags.method}"`);
  if (!durationWithin('1s', '10m').safeParse(flags['check-timeout']).success) {
    throw new UsageError(
      `--check-timeout must be a duration from 1s to 10m, such as "15s" or "1m", not "${flags['check-timeout']}"`,
    );
  }
  const artifactsProblem = flags.artifacts && artifactsDirProblem(flags.artifacts, 'smoke.json');
  if (artifactsProblem) throw new UsageError(`--artifacts: ${artifactsProblem}`);
  const startedAt = new Date();
  const config = loadConfig(flags.config);
  const session = createSession(main, flags.verbose);
  const lockFile = flags['no-lock'] ? undefined : flags.lock;
  const images = pinnedImages(config, lockFile ? readLock(lockFile) : undefined, lockFile ?? '');
  const context = bootstrapContext(config, session, planInputs(session, config, flags.config, images));

  const outcome = await runSmoke({
    context,
    output: session.output,
    lockFile,
    dir: flags.artifacts,
    bundleAlways: Boolean(flags.artifacts),
    failureDir: `artifacts/smoke-${runStamp(startedAt)}`,
    method: flags.method as MethodChoice,
    checkTimeoutMs: parseDuration(flags['check-timeout']),
    startedAt,
  });
  if (outcome.report.status !== 'passed') throw smokeFailure(outcome);
  session.output.line(
    `${outcome.headline} in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)}s${outcome.dir ? `; reports in ${outcome.dir}` : ''}`,
  );
  return 0;
});
