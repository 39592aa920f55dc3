import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bootstrapContext } from '../lib/bootstrap/steps.ts';
import { parseConfig } from '../lib/config/load.ts';
import { planInputs } from '../lib/render/plan.ts';
import { runSmoke, smokeFailure } from '../lib/smoke/run.ts';
import type { SmokeOptions } from '../lib/smoke/steps.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';
import { testSession } from './helpers/session.ts';
import { fakeKubectl } from './helpers/fake-kubectl.ts';
import { fakeNats } from './helpers/fake-nats.ts';
import { ProcessRunner } from '../lib/core/exec.ts';
import { Redactor } from '../lib/core/redact.ts';

// The whole run at the argv boundary: recorded kubectl outputs, the API-server proxy for the
// HTTP checks, a lock written per test. The NATS protocol check needs a port-forward: a fake
// kubectl forwards to a fake NATS replaying a recorded session.
const RUNTIME = 'sha256:4009e8ab6aa1160754be5712fb03e187bc8bd69664ee4c3b9473ed9f8f291b50';
const config = parseConfig({ cluster: { provider: 'existing', context: 'demon-e2e' }, namespace: 'demon-manual' });
const raw = (path: string) => (argv: string[]) => argv.includes('--raw') && argv.some((a) => a.startsWith(path));

function cluster(overrides: (runner: FakeRunner) => FakeRunner = (r) => r): FakeRunner {
  return overrides(new FakeRunner())
    .on(raw('/version'), { stdout: recorded('kubectl-version.stdout') })
    .on(raw('/api/v1/namespaces/demon-manual/services/nats:8222/proxy/jsz'), { stdout: recorded('nats-jsz.json') })
    .on(raw('/api/v1/namespaces/demon-manual/services/'), { stdout: recorded('proxy-health-ok.stdout') })
    .on((a) => a.includes('deployments,statefulsets,pods'), { stdout: recorded('wait-snapshot-ready.json') })
    .on((a) => a.includes('deployments,statefulsets'), { stdout: recorded('wait-snapshot-ready.json') })
    .on((a) => a.includes('get') && a.includes('pods'), { stdout: recorded('smoke-pods-ready.json') })
    .on((a) => a.includes('get') && a.includes('events'), { stdout: recorded('bundle-events.json') })
    .on((a) => ['rollout', 'describe', 'logs'].some((verb) => a.includes(verb)), { stdout: 'recorded elsewhere\n' });
}

function lockFile(digest: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'smoke-run-lock-')), 'images.lock.json');
  const repository = 'ghcr.io/afewell-hh/demon-runtime';
  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      images: {
        runtime: {
          repository,
          tags: ['main'],
          digest,
          pinned: `${repository}@${digest}`,
          sourceCommit: 'c',
          builtAt: 'now',
          contentHash: 'h',
        },
      },
    }),
  );
  return file;
}

const nats = await fakeNats();
const forwarder = fakeKubectl(nats.port);

function options(runner: FakeRunner, extra: Partial<SmokeOptions> = {}) {
  const env = { GITHUB_STEP_SUMMARY: join(mkdtempSync(join(tmpdir(), 'smoke-run-')), 'summary.md') };
  const streams = new ProcessRunner({ env: forwarder.env('forward'), redactor: new Redactor() });
  Object.assign(runner, { stream: streams.stream.bind(streams) });
  const session = testSession(runner, { env });
  const { output } = session;
  const context = bootstrapContext(config, session, planInputs(session, config, 'config/demon.yaml'));
  return { output, env, o: { context, output, method: 'api-proxy' as const, checkTimeoutMs: 1_000, ...extra } };
}

const flow = suite('smoke run: the step list');
flow('all green: every step ✓, 13 passed results, reports where asked, no bundle', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smoke-run-dir-'));
  const { output, env, o } = options(cluster(), { lockFile: lockFile(RUNTIME), dir });
  const outcome = await runSmoke(o);
  assert.is(
    outcome.report.status,
    'passed',
    JSON.stringify(outcome.report.results.filter((r) => r.status !== 'passed')),
  );
  assert.is(outcome.headline, 'smoke PASSED: 13 of 13 checks passed');
  assert.equal(
    output.lines.map((l) => l.replace(/ \(\d+(\.\d+)?m?s\)$/, '')),
    [
      '✓ config: 7 health checks and 2 function checks planned, 1 images pinned in ' + o.lockFile,
      '✓ cluster: context demon-e2e (v1.32.13)',
      '✓ wait for workloads: 4 workloads ready',
      '✓ health checks: 7 passed (api-proxy)',
      '✓ function checks: 2 passed (port-forward, api-proxy)',
      '✓ container restarts: no container was OOMKilled',
      `✓ image digests: 1 components match ${o.lockFile}`,
      `✓ reports: smoke.json and junit.xml in ${dir}, step summary written`,
    ],
  );
  assert.ok(existsSync(join(dir, 'smoke.json')) && !existsSync(join(dir, 'summary.md')));
  const found = outcome.report.results.filter((r) => r.detail).map((r) => `${r.name}: ${r.detail}`);
  assert.equal(found, [
    'nats client protocol: INFO, PING, PONG (nats-server 2.10.27)',
    'nats JetStream limits: JetStream on: max_memory 268435456, max_storage 1073741824',
  ]);
  assert.match(readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8'), /^### smoke PASSED/);
});
flow('reports that cannot be written fail the run: never PASSED over a failed step', async () => {
  const notADir = join(mkdtempSync(join(tmpdir(), 'smoke-run-file-')), 'a-file');
  writeFileSync(notADir, 'x');
  const { output, o } = options(cluster(), { dir: notADir });
  const outcome = await runSmoke(o);
  assert.ok(output.lines.some((l) => l.startsWith('✗ reports')));
  assert.is(outcome.report.status, 'failed');
  assert.match(outcome.headline, /^smoke FAILED/);
  assert.match(smokeFailure(outcome).message, /reports: .*(ENOTDIR|EEXIST)/);
});
flow(
  'a digest mismatch fails the run after every health check ran; reports and bundle go to the failure dir',
  async () => {
    const failureDir = join(mkdtempSync(join(tmpdir(), 'smoke-run-fail-')), 'artifacts');
    const { output, env, o } = options(cluster(), { lockFile: lockFile(`sha256:${'1'.repeat(64)}`), failureDir });
    const outcome = await runSmoke(o);
    assert.is(outcome.report.status, 'failed');
    assert.is(outcome.dir, failureDir);
    assert.ok(output.lines.some((l) => l.startsWith('✓ health checks: 7 passed')));
    assert.ok(output.lines.some((l) => l.startsWith('✗ image digests')));
    assert.ok(existsSync(join(failureDir, 'workloads', 'runtime', 'pods.txt')));
    const message = smokeFailure(outcome).message;
    assert.match(
      message,
      /^smoke FAILED: 1 of 13 checks failed\n {2}- runtime image digest: pod runtime-558b65dbdf-n94jv container runtime runs sha256:4009e8ab\S+, but \S+ pins sha256:1111/,
    );
    assert.match(message, new RegExp(`diagnostics: ${failureDir}/summary.md$`));
    assert.match(readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8'), /^### smoke FAILED/);
  },
);
flow('an unreachable cluster: the checks are skipped, the report says why, nothing says PASSED', async () => {
  const down = cluster((r) => r.on(raw('/version'), { exitCode: 1, stderr: recorded('kubectl-unreachable.stderr') }));
  const { output, o } = options(down);
  const outcome = await runSmoke(o);
  assert.equal(outcome.report.counts, { passed: 0, failed: 1, skipped: 9 });
  assert.match(outcome.report.results[0]!.error!, /cannot reach the cluster of context "demon-e2e"/);
  assert.not.ok(
    output.lines.some((l) => /^[✓✗] (wait for workloads|health checks)/.test(l)),
    'nothing ran after the cluster step',
  );
  assert.not.match(outcome.headline, /PASSED/);
});
flow('a step that fails without a failed result still fails the report', async () => {
  const broken = cluster((r) =>
    r.on((a) => a.includes('get') && a.includes('pods') && !a.includes('deployments,statefulsets,pods'), {
      exitCode: 1,
      stderr: 'error: the server has asked for the client to provide credentials',
    }),
  );
  const { o } = options(broken, { lockFile: lockFile(RUNTIME) });
  const outcome = await runSmoke(o);
  assert.is(outcome.report.status, 'failed');
  assert.equal(outcome.report.results.at(-1)!.name, 'image digests');
  assert.match(outcome.report.results.at(-1)!.error!, /provide credentials/);
});
flow('an abort (Ctrl-C) stops the run at once and rethrows its reason', async () => {
  const controller = new AbortController();
  const slow = cluster((r) =>
    r.on(
      (a) => a.includes('deployments,statefulsets,pods'),
      () => {
        controller.abort(new Error('interrupted by SIGINT: every port-forward was stopped'));
        return { stdout: recorded('wait-snapshot-failures.json') };
      },
    ),
  );
  const { o } = options(slow, { signal: controller.signal });
  const error = await runSmoke(o).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.match((error as Error).message, /interrupted by SIGINT/);
});

flow.run();
