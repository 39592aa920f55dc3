/**
 * A full green nightly on the e2e cluster (provider existing, fresh namespace): each step's
 * share of the wall time, and the tool's own overhead, i.e. wall time minus the time spent
 * inside docker, kubectl, kind and git (target < 10%). Runs the nightly in-process so the
 * runner's clock of time inside tools (lib/core/tool-clock.ts) is available.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../lib/config/load.ts';
import { ProcessRunner } from '../lib/core/exec.ts';
import { ToolClock } from '../lib/core/tool-clock.ts';
import { nightlyConfig, nightlyContext, nightlyFinally, nightlySteps } from '../lib/nightly/steps.ts';
import { runPipeline } from '../lib/core/pipeline.ts';
import { Redactor } from '../lib/core/redact.ts';
import { builtComponents, demonCheckout } from '../tests/e2e/support/demon-checkout.ts';
import { harness, unique } from '../tests/e2e/support/harness.ts';
import { login, realServers } from '../tests/e2e/support/images.ts';
import { testSession } from '../tests/helpers/session.ts';
import { stats, type BenchResult } from './stats.ts';

/** One green nightly in-process, on fresh repositories and a fresh namespace. */
async function oneNightly(h: ReturnType<typeof harness>, nats: string, checkout: string) {
  const work = mkdtempSync(join(tmpdir(), 'demon-bench-nightly-'));
  const configFile = join(work, 'demon.yaml');
  writeFileSync(
    configFile,
    stringify({
      cluster: { provider: 'existing', context: h.context },
      namespace: unique('bench'),
      nats: { image: nats, exporter: { enabled: false } },
      components: builtComponents(h.registry, unique('repo')),
      registries: [
        {
          name: 'e2e',
          server: h.registry,
          usernameEnv: 'DEMON_E2E_REGISTRY_USER',
          passwordEnv: 'DEMON_E2E_REGISTRY_PASSWORD',
          appliesTo: ['nats', 'runtime', 'engine', 'operate-ui'],
        },
      ],
      build: { source: checkout },
      nightly: { artifacts: join(work, 'artifacts'), history: join(work, 'history.jsonl') },
    }),
  );
  const runId = unique('run');
  const config = nightlyConfig(loadConfig(configFile), runId);
  const redactor = new Redactor();
  const env = { ...process.env, ...h.env };
  const clock = new ToolClock();
  const session = testSession(new ProcessRunner({ env, redactor, clock }), { env, redactor, clock });
  const context = nightlyContext(config, configFile, session, {
    runDir: join(work, 'artifacts', runId),
    runId,
    lockFile: join(work, 'images.lock.json'),
    retain: false,
    signal: new AbortController().signal,
  });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await runPipeline(nightlySteps(context), nightlyFinally(), context, session.output, {
    deadlineMs: 10 * 60_000,
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  if (result.failed || result.finallyFailed.length)
    throw new Error(`the nightly did not pass:\n${session.output.lines.join('\n')}`);
  // Time inside tools is the union of their lifetimes (parallel builds count once), including
  // the wait's watch streams and each port-forward's start-up; not the HTTP checks through it.
  const insideMs = clock.busyMs();
  return {
    wallMs,
    insideMs,
    calls: clock.calls,
    overheadPercent: ((wallMs - insideMs) / wallMs) * 100,
    cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    shares: result.records.map((r) => `${r.name} ${((r.durationMs / wallMs) * 100).toFixed(0)}%`).join(', '),
  };
}

export async function benchNightly(runs = 3): Promise<BenchResult[]> {
  const h = harness();
  login(h);
  const nats = realServers(h).nats; // the smoke's function checks speak NATS' protocol
  const checkout = demonCheckout();
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await oneNightly(h, nats, checkout));
  // stats() rounds to whole milliseconds; shares keep one decimal.
  const percent = (values: number[]) => {
    const s = stats(values.map((v) => v * 10));
    return { runs: s.runs, medianMs: s.medianMs / 10, minMs: s.minMs / 10, maxMs: s.maxMs / 10 };
  };
  const median = samples.slice().sort((a, b) => a.wallMs - b.wallMs)[Math.floor(samples.length / 2)]!;
  return [
    {
      name: 'green nightly on the e2e cluster (wall)',
      ...stats(samples.map((s) => s.wallMs)),
      note: `steps of the median run: ${median.shares}`,
    },
    {
      name: 'nightly: wall time outside docker/kubectl/git calls (%)',
      ...percent(samples.map((s) => s.overheadPercent)),
      target: '< 10 %',
      note: `median run: ${median.calls} tool runs, busy ${Math.round(median.insideMs)} ms of ${Math.round(median.wallMs)} ms; the wait's watch streams count as time inside kubectl; the rest is Node, the HTTP health checks through the port-forwards and registry API requests`,
    },
    {
      name: "nightly: CPU time of the tool's own Node process, share of wall (%)",
      ...percent(samples.map((s) => s.cpuPercent)),
    },
  ];
}
