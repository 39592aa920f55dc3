#!/usr/bin/env -S node --import tsx
/**
 * The nightly: build and push the images, deploy them digest-pinned to a fresh cluster (kind)
 * or a fresh namespace (existing), smoke-test them, and always collect the evidence and tear
 * down, whatever failed, within one deadline. Exit 0 only when every step passed.
 *   npx tsx scripts/nightly.mts [--config FILE] [--source DIR] [--retain] [--run-dir DIR]
 */
import { resolve } from 'node:path';
import { loadConfig } from '../lib/config/load.ts';
import { describeError, InterruptedError, UsageError } from '../lib/core/errors.ts';
import { COMMON_FLAGS, parseCommand } from '../lib/core/flags.ts';
import { durationWithin, parseDuration } from '../lib/config/formats.ts';
import { DEFAULT_LOCK_FILE } from '../lib/images/lock.ts';
import { runMain } from '../lib/core/main.ts';
import { nightlyConfig, nightlyContext, nightlyFinally, nightlySteps } from '../lib/nightly/steps.ts';
import { writeNightlyEvidence } from '../lib/nightly/evidence.ts';
import { runPipeline, workSignal } from '../lib/core/pipeline.ts';
import { createSession } from '../lib/core/session.ts';
import { runStamp } from '../lib/core/steps.ts';

const FLAGS = {
  ...COMMON_FLAGS,
  source: { type: 'string', placeholder: 'DIR', description: 'the Demon checkout to build (overrides build.source)' },
  lock: {
    type: 'string',
    placeholder: 'FILE',
    description: 'lock file build-images keeps between runs',
    default: DEFAULT_LOCK_FILE,
  },
  'run-dir': {
    type: 'string',
    placeholder: 'DIR',
    description: "where this run's evidence goes (default: <nightly.artifacts>/<UTC timestamp>)",
  },
  'run-id': {
    type: 'string',
    placeholder: 'ID',
    description: 'names the run (and the namespace on an existing cluster); default: the UTC timestamp',
  },
  deadline: { type: 'string', placeholder: 'DURATION', description: 'overrides nightly.deadline' },
  retain: { type: 'boolean', description: 'keep the cluster or namespace afterwards, for debugging', default: false },
} as const;

await runMain(async (main) => {
  const flags = parseCommand(
    main.argv,
    FLAGS,
    {
      usage: 'npx tsx scripts/nightly.mts [options]',
      summary: 'Build, deploy digest-pinned to a fresh cluster, smoke-test, collect evidence, tear down.',
    },
    main.stdout,
  );
  if (!flags) return 0;
  if (flags.deadline && !durationWithin('1m', '24h').safeParse(flags.deadline).success) {
    throw new UsageError(`--deadline must be a duration from 1m to 24h, such as "45m", not "${flags.deadline}"`);
  }
  const startedAt = new Date();
  const stamp = runStamp(startedAt);
  const runId = (flags['run-id'] ?? stamp).toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const loaded = loadConfig(flags.config);
  const config = nightlyConfig(
    flags.source ? { ...loaded, build: { ...loaded.build, source: resolve(flags.source) } } : loaded,
    runId,
  );
  const runDir = resolve(flags['run-dir'] ?? `${config.nightly.artifacts}/${stamp}`);
  const session = createSession(main, flags.verbose);

  const deadlineMs = parseDuration(flags.deadline ?? config.nightly.deadline);
  // Steps stop their own work (watch streams, port-forwards) on Ctrl-C and at the deadline.
  const work = workSignal(session.signal, deadlineMs);
  const context = nightlyContext(config, resolve(flags.config), session, {
    runDir,
    runId,
    lockFile: resolve(flags.lock),
    retain: flags.retain,
    signal: work.signal,
  });
  const result = await runPipeline(nightlySteps(context), nightlyFinally(), context, session.output, {
    deadlineMs,
    signal: session.signal,
    onFailure: () => {
      context.failed = true;
    },
  }).finally(() => work.dispose());
  session.output.line(writeNightlyEvidence(context, result.records, startedAt, resolve(config.nightly.history)));
  const { failed } = result;
  if (failed?.error instanceof InterruptedError) {
    throw new InterruptedError(failed.error.signal, `evidence collected${flags.retain ? '' : ', torn down'}`);
  }
  // Past the preflight, images may have been pushed: a bad value found now is a failed run (1),
  // not "nothing was changed" (2).
  if (failed)
    throw failed.error instanceof UsageError && failed.step !== 'preflight'
      ? new Error(describeError(failed.error))
      : failed.error;
  return result.finallyFailed.length ? 1 : 0;
});
