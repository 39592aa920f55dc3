/**
 * A bootstrap re-run against an unchanged cluster (the e2e harness cluster): wall time, time
 * spent inside kubectl, and the tool's own overhead beyond those calls.
 * Target (issue 2): overhead under 20%.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { bootstrapContext, bootstrapSteps } from '../lib/bootstrap/steps.ts';
import { loadConfig } from '../lib/config/load.ts';
import { ZxRunner } from '../lib/core/exec.ts';
import { memoryOutput } from '../lib/core/output.ts';
import { Redactor } from '../lib/core/redact.ts';
import { TEMPLATES_DIR } from '../lib/core/session.ts';
import { runSteps } from '../lib/core/steps.ts';
import { deleteNamespace, harness, unique } from '../tests/e2e/support/harness.ts';
import { buildStack } from '../tests/e2e/support/images.ts';
import { e2eConfig } from '../tests/e2e/support/config.ts';
import { stats, type BenchResult } from './stats.ts';

async function once(configFile: string, env: Record<string, string>) {
  const redactor = new Redactor();
  const config = loadConfig(configFile);
  const runner = new ZxRunner({ env, redactor });
  const session = { output: memoryOutput(redactor), runner, redactor, env, onGithubActions: false };
  const context = bootstrapContext(config, session, { config, configFile, templatesDir: TEMPLATES_DIR, env, redactor });
  const started = performance.now();
  // Without the registry check: its HTTP requests are not kubectl calls and would blur the figure.
  await runSteps(bootstrapSteps(config, { checkPull: false }), context, session.output);
  // Time inside kubectl: the union of its runs (the wait's three watch streams overlap).
  return { wallMs: performance.now() - started, commandMs: runner.clock.busyMs(), commands: runner.clock.calls, changed: context.changed };
}

export async function benchRerun(runs = 5): Promise<BenchResult[]> {
  const h = harness();
  const namespace = unique('bench-rerun');
  const file = join(mkdtempSync(join(tmpdir(), 'demon-bench-')), 'demon.yaml');
  writeFileSync(file, stringify(e2eConfig(h, { namespace, images: buildStack(h, unique('bench')) })));
  try {
    await once(file, h.env); // the first run creates everything; not timed
    const walls: number[] = [];
    const overheads: number[] = [];
    let commands = 0;
    for (let i = 0; i < runs; i++) {
      const run = await once(file, h.env);
      if (run.changed !== 0) throw new Error(`re-run ${i} changed ${run.changed} objects; the cluster was not unchanged`);
      walls.push(run.wallMs);
      overheads.push(((run.wallMs - run.commandMs) / run.wallMs) * 100);
      commands = run.commands;
    }
    const overhead = stats(overheads);
    return [
      { name: 'bootstrap re-run, unchanged cluster (wall)', ...stats(walls), note: `${commands} kubectl runs per run` },
      { name: 'bootstrap re-run: own overhead beyond kubectl (%)', ...overhead, target: '< 20 %' },
    ];
  } finally {
    deleteNamespace(h, namespace);
  }
}
