/**
 * A full green nightly on the e2e cluster (provider existing, fresh namespace): each step's
 * share of the wall time, and the tool's own overhead, i.e. wall time minus the time spent
 * inside docker, kubectl, kind and git (target < 10%). Runs the nightly in-process so the
 * runner's own accounting of time inside tools is available.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../lib/config.ts';
import { ZxRunner } from '../lib/exec.ts';
import { nightlyConfig, nightlyContext, nightlyFinally, nightlySteps } from '../lib/nightly.ts';
import { memoryOutput } from '../lib/output.ts';
import { runPipeline } from '../lib/pipeline.ts';
import { Redactor } from '../lib/redact.ts';
import { TEMPLATES_DIR } from '../lib/session.ts';
import { builtComponents, demonCheckout } from '../tests/e2e/support/demon-checkout.ts';
import { harness, unique } from '../tests/e2e/support/harness.ts';
import { buildAndPush, buildContext, login } from '../tests/e2e/support/images.ts';
import type { BenchResult } from './stats.ts';

export async function benchNightly(): Promise<BenchResult[]> {
  const h = harness();
  login(h);
  const work = mkdtempSync(join(tmpdir(), 'demon-bench-nightly-'));
  const configFile = join(work, 'demon.yaml');
  writeFileSync(configFile, stringify({
    cluster: { provider: 'existing', context: h.context },
    namespace: unique('bench'),
    nats: { image: buildAndPush(h, buildContext(), 'nats', '8222', unique('nats')) },
    components: builtComponents(h.registry, unique('repo')),
    registries: [{ name: 'e2e', server: h.registry, usernameEnv: 'DEMON_E2E_REGISTRY_USER', passwordEnv: 'DEMON_E2E_REGISTRY_PASSWORD', appliesTo: ['nats', 'runtime', 'engine', 'operate-ui'] }],
    build: { source: demonCheckout() },
    nightly: { artifacts: join(work, 'artifacts'), history: join(work, 'history.jsonl') },
  }));
  const runId = unique('run');
  const config = nightlyConfig(loadConfig(configFile), runId);
  const redactor = new Redactor();
  const env = { ...process.env, ...h.env };
  const runner = new ZxRunner({ env, redactor });
  const session = { output: memoryOutput(redactor), runner, redactor, env, onGithubActions: false };
  const context = nightlyContext(config, configFile, session, { runDir: join(work, 'artifacts', runId), runId, lockFile: join(work, 'images.lock.json'), retain: false, templatesDir: TEMPLATES_DIR, signal: new AbortController().signal });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await runPipeline(nightlySteps(context), nightlyFinally(), context, session.output, { deadlineMs: 10 * 60_000 });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10;
  if (result.failed || result.finallyFailed.length) throw new Error(`the nightly did not pass:\n${session.output.lines.join('\n')}`);
  const shares = result.records.map((r) => `${r.name} ${((r.durationMs / wallMs) * 100).toFixed(0)}%`).join(', ');
  const overhead = ((wallMs - runner.commandMs) / wallMs) * 100;
  return [
    { name: 'green nightly on the e2e cluster (wall)', runs: 1, medianMs: Math.round(wallMs), minMs: Math.round(wallMs), maxMs: Math.round(wallMs), note: `steps: ${shares}` },
    { name: 'nightly: wall time outside docker/kubectl/git calls (%)', runs: 1, medianMs: Math.round(overhead * 10) / 10, minMs: Math.round(overhead * 10) / 10, maxMs: Math.round(overhead * 10) / 10, target: '< 10 %', note: `${runner.commands} tool calls, ${Math.round(runner.commandMs)} ms inside them; the rest is the wait's poll sleeps (every 0.5 s), HTTP health checks through port-forwards, registry API requests and Node` },
    { name: 'nightly: CPU time of the tool\'s own Node process, share of wall (%)', runs: 1, medianMs: cpuPercent, minMs: cpuPercent, maxMs: cpuPercent },
  ];
}
