/**
 * smoke.mts against the real cluster: a healthy stack passes through real port-forwards and
 * through the API-server proxy, with digests matching a lock made from the registry's own
 * digests; a health path answering 500 fails, named, in bounded time, with a bundle; a pod
 * running another digest than the lock fails with both; a port-forward killed mid-check is
 * restarted; Ctrl-C leaves no kubectl port-forward behind.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessRunner } from '../../lib/core/exec.ts';
import { Children } from '../../lib/core/children.ts';
import { Kubectl } from '../../lib/tools/kubectl.ts';
import { Redactor } from '../../lib/core/redact.ts';
import { planChecks, runHealthChecks } from '../../lib/smoke/checks.ts';
import { parseConfig } from '../../lib/config/load.ts';
import { runScript } from '../helpers/cli.ts';
import { allGone } from '../helpers/fake-kubectl.ts';
import { e2eConfig, writeConfig } from './support/config.ts';
import { deleteNamespace, harness, unique } from './support/harness.ts';
import { buildAndPush, buildStack, login } from './support/images.ts';
import {
  BROKEN_HEALTH_PATH,
  brokenHealthContext,
  portForwardChildren,
  portForwardPids,
  rebuiltContext,
  repoDigest,
  runSmoke,
  startSmoke,
  writeLockFile,
} from './support/smoke.ts';

const h = harness();
const tag = unique('smoke');
const images = buildStack(h, tag);
const broken = buildAndPush(h, brokenHealthContext(), 'runtime', '8080', unique('broken'));
const SENTINEL = `sentinel-${unique('tok')}`;
const env = { ...h.env, SMOKE_E2E_API_TOKEN: SENTINEL };
const healthyNs = unique('e2e-smoke');
const brokenNs = unique('e2e-smoke-bad');
const secrets = { secrets: { data: { API_TOKEN: 'SMOKE_E2E_API_TOKEN' } } };
const healthyConfig = e2eConfig(h, { namespace: healthyNs, images, overrides: secrets });
const healthyFile = writeConfig(healthyConfig);
const brokenFile = writeConfig(
  e2eConfig(h, {
    namespace: brokenNs,
    images,
    components: [
      { name: 'runtime', image: broken, port: 8080, health: { liveness: BROKEN_HEALTH_PATH, readiness: '/ready' } },
    ],
  }),
);
const COMPONENTS = ['runtime', 'engine', 'operate-ui'] as const;
const goodLock = writeLockFile(
  Object.fromEntries(COMPONENTS.map((name) => [name, { ref: images[name], digest: repoDigest(images[name]) }])),
);

/** Every artifact file's text, to look for what must never be there. */
function artifactTexts(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => statSync(join(dir, f)).isFile())
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}
function assertNothingSecret(dir: string): void {
  for (const [file, text] of Object.entries(artifactTexts(dir))) {
    for (const secret of [SENTINEL, h.registryPassword]) {
      assert.not.ok(
        text.includes(secret) || text.includes(Buffer.from(secret).toString('base64')),
        `${file} holds a secret value`,
      );
    }
    assert.not.match(
      text,
      /client-key-data|BEGIN [A-Z ]*PRIVATE KEY|kind: Config\b/,
      `${file} holds kubeconfig material`,
    );
  }
}
const artifactsDir = () => join(mkdtempSync(join(tmpdir(), 'demon-e2e-smoke-')), 'artifacts');

const smoke = suite('e2e: smoke checks on a real cluster');
smoke.before(() => {
  for (const file of [healthyFile, brokenFile]) {
    const r = runScript('bootstrap.mts', ['--config', file, '--no-lock'], env);
    // uvu reports a failed hook as every test failing, without the reason: print it.
    if (r.code !== 0) console.error(`bootstrap for the smoke suite failed:\n${r.stderr}`);
    assert.is(r.code, 0, r.stderr);
  }
});
smoke.after(() => {
  deleteNamespace(h, healthyNs);
  deleteNamespace(h, brokenNs);
});

smoke('a healthy stack passes: every path through a port-forward, every digest matches the lock', async () => {
  const dir = artifactsDir();
  const r = await runSmoke(['--config', healthyFile, '--lock', goodLock, '--artifacts', dir], env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /✓ health checks: 7 passed \(port-forward\)/);
  assert.match(r.stderr, /✓ image digests: 3 components match/);
  assert.match(r.stderr, /✓ function checks: 2 passed \(port-forward\)/);
  assert.match(r.stderr, /smoke PASSED: 15 of 15 checks passed/);
  const report = JSON.parse(readFileSync(join(dir, 'smoke.json'), 'utf8'));
  assert.is(report.status, 'passed');
  // 7 health paths and 2 function checks (NATS' client protocol, JetStream's limits).
  assert.equal(report.results.filter((x: { method?: string }) => x.method === 'port-forward').length, 9);
  assert.match(readFileSync(join(dir, 'junit.xml'), 'utf8'), /tests="15" failures="0"/);
  assert.ok(existsSync(join(dir, 'manifests.yaml')) && existsSync(join(dir, 'images.lock.json')));
  assertNothingSecret(dir);
  assert.equal(portForwardPids(healthyNs), [], 'a port-forward outlived the run');
});

smoke('the API-server service proxy reaches every service, and the report says so', async () => {
  const r = await runSmoke(['--config', healthyFile, '--no-lock', '--method', 'api-proxy'], env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /✓ health checks: 7 passed \(api-proxy\)/);
  assert.equal(portForwardPids(healthyNs), []);
});

smoke('a port-forward killed mid-check is restarted and the check recovers', async () => {
  const redactor = new Redactor();
  const children = new Children();
  const kubectl = new Kubectl(new ProcessRunner({ env, redactor, children }), { context: h.context });
  const killed: number[] = [];
  const checks = planChecks(parseConfig(healthyConfig)).filter((c) => c.workload === 'runtime');
  const results = await runHealthChecks(checks, {
    kubectl,
    namespace: healthyNs,
    method: 'port-forward',
    onAttempt: async (e) => {
      // Kill the real kubectl under the first check's first request, before the request.
      if (e.check === checks[0]!.name && e.attempt === 1 && e.forwardPid) {
        process.kill(e.forwardPid, 'SIGKILL');
        killed.push(e.forwardPid);
        assert.ok(await allGone([e.forwardPid]));
      }
    },
  });
  assert.is(killed.length, 1);
  assert.equal(
    results.map((r) => [r.name, r.status, r.method]),
    [
      ['runtime /health', 'passed', 'port-forward'],
      ['runtime /ready', 'passed', 'port-forward'],
    ],
  );
  assert.ok(results[0]!.attempts! >= 2);
  assert.is(children.size, 0);
  assert.equal(portForwardPids(healthyNs), []);
});

smoke('a pod running another digest than the lock fails with both digests and a bundle', async () => {
  // A newer runtime was built and locked, but the cluster still runs the old one.
  login(h);
  const newer = buildAndPush(h, rebuiltContext(tag), 'runtime', '8080', unique('newer'));
  const newerDigest = repoDigest(newer);
  const running = repoDigest(images.runtime);
  assert.is.not(newerDigest, running);
  const lock = writeLockFile({
    ...Object.fromEntries(COMPONENTS.map((name) => [name, { ref: images[name], digest: repoDigest(images[name]) }])),
    runtime: { ref: newer, digest: newerDigest },
  });
  const dir = artifactsDir();
  const r = await runSmoke(['--config', healthyFile, '--lock', lock, '--artifacts', dir], env);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /✓ health checks: 7 passed/);
  assert.match(r.stderr, /✗ image digests/);
  assert.match(
    r.stderr,
    new RegExp(
      `runtime image digest: pod runtime-\\S+ container runtime runs ${running}, but ${lock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} pins ${newerDigest}`,
    ),
  );
  assert.not.match(r.stderr, /PASSED/);
  assert.ok(existsSync(join(dir, 'workloads', 'runtime', 'describe.txt')));
  assert.not.ok(existsSync(join(dir, 'workloads', 'engine')), 'only the failing workload gets a section');
  assertNothingSecret(dir);
});

smoke('a health path answering 500 fails the smoke, named, after its retries, with a complete bundle', async () => {
  const dir = artifactsDir();
  const r = await runSmoke(['--config', brokenFile, '--no-lock', '--artifacts', dir], env);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /✗ health checks/);
  assert.match(r.stderr, /smoke FAILED: 1 of \d+ checks failed/);
  // How long this takes is a benchmark's job (bench/smoke.ts: target < 30 s); here, only that
  // the retries ran and stopped.
  assert.match(
    r.stderr,
    /- runtime \/cgi-bin\/health: HTTP 500: health: database unreachable \(\d+ attempts in \d+\.\ds via (port-forward|api-proxy)\)/,
    r.stderr,
  );
  assert.not.match(r.stderr, /PASSED/);
  const files = Object.keys(artifactTexts(dir));
  for (const file of [
    'smoke.json',
    'junit.xml',
    'summary.md',
    'manifests.yaml',
    'workloads/runtime/rollout-status.txt',
    'workloads/runtime/describe.txt',
    'workloads/runtime/events.txt',
    'workloads/runtime/pods.txt',
  ]) {
    assert.ok(files.includes(file), `${file} missing from ${files.join(', ')}`);
  }
  assert.ok(files.some((f) => /^workloads\/runtime\/logs\/runtime-.*\.runtime\.log$/.test(f)));
  assert.match(readFileSync(join(dir, 'summary.md'), 'utf8'), /^### smoke FAILED/);
  assert.equal(portForwardPids(brokenNs), []);
});

smoke('Ctrl-C (SIGINT to the smoke process) leaves no kubectl port-forward behind', async () => {
  // A long deadline keeps the failing check, and so its port-forwards, busy when the signal comes.
  const run = startSmoke(['--config', brokenFile, '--no-lock', '--check-timeout', '2m'], env);
  const deadline = Date.now() + 60_000;
  let children: number[] = [];
  while (Date.now() < deadline && run.child.exitCode === null) {
    children = portForwardChildren(run.child.pid!);
    if (children.length >= 2) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(children.length >= 2, `no port-forward children appeared: ${run.stderr()}`);
  run.child.kill('SIGINT');
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
  const { code } = await run.done;
  clearTimeout(timer);
  assert.is(code, 130, run.stderr());
  assert.match(run.stderr(), /error: interrupted by SIGINT: every tool it started was stopped/);
  assert.ok(await allGone(children), `still running: ${children}`);
  assert.equal(portForwardPids(brokenNs), []);
});

smoke.run();
