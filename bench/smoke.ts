/**
 * Smoke checks on the e2e harness cluster. Targets (issue 5): checking the 3 core services
 * takes at most 1.5x the time of checking one (the checks overlap), and a broken /health
 * fails the smoke in under 30 s with default settings.
 *   - health-check phase alone (lib, one process): 3 services vs 1, same namespace;
 *   - the whole script (node start to exit): 3 services + NATS vs 1 service + NATS;
 *   - the whole script against a stack whose runtime health path answers 500.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessRunner } from '../lib/core/exec.ts';
import { Kubectl } from '../lib/tools/kubectl.ts';
import { parseConfig } from '../lib/config/load.ts';
import { Redactor } from '../lib/core/redact.ts';
import { planChecks, runHealthChecks } from '../lib/smoke/checks.ts';
import { runScript } from '../tests/helpers/cli.ts';
import { e2eConfig, writeConfig } from '../tests/e2e/support/config.ts';
import { deleteNamespace, harness, unique, type Harness } from '../tests/e2e/support/harness.ts';
import { buildAndPush, buildStack } from '../tests/e2e/support/images.ts';
import { BROKEN_HEALTH_PATH, brokenHealthContext, runSmoke } from '../tests/e2e/support/smoke.ts';
import { stats, type BenchResult } from './stats.ts';

async function checkPhase(h: Harness, config: ReturnType<typeof e2eConfig>, workloads: string[]): Promise<number> {
  const env = h.env;
  const kubectl = new Kubectl(new ProcessRunner({ env, redactor: new Redactor() }), { context: h.context });
  const checks = planChecks(parseConfig(config)).filter((c) => workloads.includes(c.workload));
  const started = performance.now();
  const results = await runHealthChecks(checks, { kubectl, namespace: config.namespace as string });
  const ms = performance.now() - started;
  if (results.some((r) => r.status !== 'passed'))
    throw new Error(`bench: a health check failed: ${JSON.stringify(results)}`);
  return ms;
}

async function scriptWall(h: Harness, file: string, expectCode: number): Promise<number> {
  // A failing run writes its bundle: into a temporary directory, never the repository's artifacts/.
  const artifacts = expectCode === 0 ? [] : ['--artifacts', mkdtempSync(join(tmpdir(), 'bench-smoke-'))];
  const r = await runSmoke(['--config', file, '--no-lock', ...artifacts], h.env);
  if (r.code !== expectCode) throw new Error(`bench: smoke exited ${r.code}, expected ${expectCode}:\n${r.stderr}`);
  return r.ms;
}

export async function benchSmoke(runs = 5): Promise<BenchResult[]> {
  const h = harness();
  const images = buildStack(h, unique('bench-smoke'));
  const broken = buildAndPush(h, brokenHealthContext(), 'runtime', '8080', unique('bench-broken'));
  const [threeNs, oneNs, brokenNs] = [unique('bench-smoke3'), unique('bench-smoke1'), unique('bench-smokex')];
  const three = e2eConfig(h, { namespace: threeNs, images });
  const one = e2eConfig(h, {
    namespace: oneNs,
    images,
    components: [{ name: 'runtime', image: images.runtime, port: 8080 }],
  });
  const bad = e2eConfig(h, {
    namespace: brokenNs,
    images,
    components: [
      { name: 'runtime', image: broken, port: 8080, health: { liveness: BROKEN_HEALTH_PATH, readiness: '/ready' } },
    ],
  });
  const files = [three, one, bad].map(writeConfig);
  try {
    for (const file of files) {
      const r = runScript('bootstrap.mts', ['--config', file, '--no-lock'], h.env);
      if (r.code !== 0) throw new Error(`bench: bootstrap failed:\n${r.stderr}`);
    }
    const phase3: number[] = [];
    const phase1: number[] = [];
    const wall3: number[] = [];
    const wall1: number[] = [];
    // Interleaved, so drift on the machine affects both sides alike.
    for (let i = 0; i < runs; i++) {
      phase3.push(await checkPhase(h, three, ['runtime', 'engine', 'operate-ui']));
      phase1.push(await checkPhase(h, three, ['runtime']));
      wall3.push(await scriptWall(h, files[0]!, 0));
      wall1.push(await scriptWall(h, files[1]!, 0));
    }
    const failing: number[] = [];
    for (let i = 0; i < 3; i++) failing.push(await scriptWall(h, files[2]!, 1));
    const ratio = (a: number[], b: number[]) => (stats(a).medianMs / stats(b).medianMs).toFixed(2);
    return [
      { name: 'smoke health-check phase, 3 core services (5 checks, 3 port-forwards)', ...stats(phase3) },
      {
        name: 'smoke health-check phase, 1 service (2 checks, 1 port-forward)',
        ...stats(phase1),
        note: `3 services take ${ratio(phase3, phase1)}x of 1`,
        target: '3 services <= 1.5x of 1',
      },
      { name: 'smoke.mts wall, 3 services + NATS (12 results)', ...stats(wall3) },
      {
        name: 'smoke.mts wall, 1 service + NATS (6 results)',
        ...stats(wall1),
        note: `3 services take ${ratio(wall3, wall1)}x of 1`,
        target: '3 services <= 1.5x of 1',
      },
      {
        name: 'smoke.mts wall to its failing exit, runtime health answering 500 (default settings)',
        ...stats(failing),
        target: '< 30000 ms',
      },
    ];
  } finally {
    for (const ns of [threeNs, oneNs, brokenNs]) deleteNamespace(h, ns);
  }
}
