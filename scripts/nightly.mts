#!/usr/bin/env -S node --import tsx
/**
 * The nightly: build and push the images, deploy them digest-pinned to a fresh cluster (kind)
 * or a fresh namespace (existing), smoke-test them, and always collect the evidence and tear
 * down, whatever failed, within one deadline. Exit 0 only when every step passed.
 *   npx tsx scripts/nightly.mts [--config FILE] [--source DIR] [--retain] [--run-dir DIR]
 */
import { resolve } from 'node:path';
import { loadConfig } from '../lib/config/load.ts';
import { UsageError } from '../lib/core/errors.ts';
import { COMMON_FLAGS, parseCommand } from '../lib/core/flags.ts';
import { duration, parseDuration } from '../lib/config/formats.ts';
import { DEFAULT_LOCK_FILE } from '../lib/images/lock.ts';
import { exitCodeFor, runMain } from '../lib/core/main.ts';
import { nightlyConfig, nightlyContext, nightlyFinally, nightlySteps } from '../lib/nightly/steps.ts';
import { writeNightlyEvidence } from '../lib/nightly/evidence.ts';
import { AbortedError, runPipeline, workSignal } from '../lib/core/pipeline.ts';
import { createSession, TEMPLATES_DIR } from '../lib/core/session.ts';

const FLAGS = {
  ...COMMON_FLAGS,
  source: { type: 'string', placeholder: 'DIR', description: 'the Demon checkout to build (overrides build.source)' },
  lock: { type: 'string', placeholder: 'FILE', description: 'lock file build-images keeps between runs', default: DEFAULT_LOCK_FILE },
  'run-dir': { type: 'string', placeholder: 'DIR', description: 'where this run\'s evidence goes (default: <nightly.artifacts>/<UTC timestamp>)' },
  'run-id': { type: 'string', placeholder: 'ID', description: 'names the run (and the namespace on an existing cluster); default: the UTC timestamp' },
  deadline: { type: 'string', placeholder: 'DURATION', description: 'overrides nightly.deadline' },
  retain: { type: 'boolean', description: 'keep the cluster or namespace afterwards, for debugging', default: false },
} as const;

await runMain(async (main) => {
  const flags = parseCommand(main.argv, FLAGS, { usage: 'npx tsx scripts/nightly.mts [options]', summary: 'Build, deploy digest-pinned to a fresh cluster, smoke-test, collect evidence, tear down.' }, main.stdout);
  if (!flags) return 0;
  if (flags.deadline && !duration.safeParse(flags.deadline).success) throw new UsageError(`--deadline must be a duration such as "45m", not "${flags.deadline}"`);
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const runId = (flags['run-id'] ?? stamp).toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const loaded = loadConfig(flags.config);
  const config = nightlyConfig(flags.source ? { ...loaded, build: { ...loaded.build, source: resolve(flags.source) } } : loaded, runId);
  const runDir = resolve(flags['run-dir'] ?? `${config.nightly.artifacts}/${stamp}`);
  const session = createSession(main, flags.verbose);

  // Ctrl-C or a scheduler's TERM: stop the current step, then collect evidence and tear down.
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => (controller.signal.aborted ? process.exit(130) : controller.abort(signal));
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

  const deadlineMs = parseDuration(flags.deadline ?? config.nightly.deadline);
  // Steps stop their own work (watch streams, port-forwards) on Ctrl-C and at the deadline.
  const work = workSignal(controller.signal, deadlineMs);
  const context = nightlyContext(config, resolve(flags.config), session, { runDir, runId, lockFile: resolve(flags.lock), retain: flags.retain, templatesDir: TEMPLATES_DIR, signal: work.signal });
  const result = await runPipeline(nightlySteps(context), nightlyFinally(), context, session.output, {
    deadlineMs,
    signal: controller.signal,
    onFailure: () => { context.failed = true; },
  }).finally(() => work.dispose());
  const verdict = writeNightlyEvidence(context, result.records, startedAt, resolve(config.nightly.history));
  session.output.line(verdict);
  if (result.failed) {
    if (result.failed.error instanceof AbortedError) {
      session.output.line(`${result.failed.error.message.replace('; tearing down', '')}: evidence collected${flags.retain ? '' : ', torn down'}`);
      return 130;
    }
    session.output.line(`error: ${main.redactor.mask((result.failed.error as Error).message ?? String(result.failed.error))}`);
    return exitCodeFor(result.failed.error);
  }
  return result.finallyFailed.length ? 1 : 0;
});
