/**
 * The nightly on the real cluster (provider existing, a fresh namespace per run): a green run
 * with images built from a git checkout, pushed to the local registry and pulled through the
 * pull Secret; a red run (one service's /health answers 500) that leaves a complete bundle and
 * exits 1; and a run interrupted with SIGINT that still tears down, with no port-forward left.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import type { HistoryEntry } from '../../lib/nightly/history.ts';
import { REPO_ROOT } from '../../lib/core/session.ts';
import { runScript } from '../helpers/cli.ts';
import { builtComponents, commitAll, demonCheckout } from './support/demon-checkout.ts';
import { harness, kubectl, unique } from './support/harness.ts';
import { login, realServers } from './support/images.ts';
import { BROKEN_HEALTH_PATH, brokenHealthContext, portForwardPids } from './support/smoke.ts';

const h = harness();
login(h);
// The real nats-server: the smoke's function checks speak its client protocol and read /jsz.
const natsImage = realServers(h).nats;

function nightlySetup(name: string, breakRuntime = false) {
  const checkout = demonCheckout();
  if (breakRuntime) {
    mkdirSync(join(checkout, 'www', 'cgi-bin'));
    copyFileSync(join(brokenHealthContext(), 'www', 'cgi-bin', 'health'), join(checkout, 'www', 'cgi-bin', 'health'));
    commitAll(checkout, 'break runtime health');
  }
  const work = mkdtempSync(join(tmpdir(), `demon-e2e-${name}-`));
  const components = builtComponents(h.registry, unique('repo')).map((c) =>
    breakRuntime && c.name === 'runtime' ? { ...c, health: { liveness: BROKEN_HEALTH_PATH, readiness: '/ready' } } : c,
  );
  const namespace = unique(name);
  writeFileSync(
    join(work, 'demon.yaml'),
    stringify({
      cluster: { provider: 'existing', context: h.context },
      namespace,
      nats: { image: natsImage, exporter: { enabled: false } },
      components,
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
      nightly: {
        artifacts: join(work, 'artifacts'),
        history: join(work, 'artifacts', 'history.jsonl'),
        deadline: '10m',
      },
      wait: { timeout: '3m' },
    }),
  );
  return { work, namespace, args: ['--config', join(work, 'demon.yaml'), '--lock', join(work, 'images.lock.json')] };
}

const runDirOf = (work: string) =>
  join(
    work,
    'artifacts',
    readdirSync(join(work, 'artifacts')).find((n) => /^\d{8}T\d{6}Z$/.test(n))!,
  );
const namespaceGone = (namespace: string) =>
  kubectl(h, ['get', 'namespace', namespace, '--ignore-not-found', '-o', 'name']).trim() === '';

const nightly = suite('e2e: the nightly on the real cluster');

nightly('green: build, push, deploy pinned, smoke, evidence, teardown; exit 0', () => {
  const { work, namespace, args } = nightlySetup('e2e-green');
  const r = runScript('nightly.mts', args, h.env);
  assert.is(r.code, 0, r.stderr);
  for (const step of [
    'preflight',
    'build images',
    'fresh cluster',
    'bootstrap',
    'smoke',
    'collect artifacts',
    'teardown',
  ])
    assert.match(r.stderr, new RegExp(`^✓ ${step}`, 'm'));
  assert.match(r.stderr, /smoke PASSED/);
  assert.match(r.stderr, /image digests: 3 components match/);
  const dir = runDirOf(work);
  for (const file of [
    'summary.md',
    'steps.json',
    'images.lock.json',
    'manifests.yaml',
    'smoke/smoke.json',
    'smoke/junit.xml',
  ])
    assert.ok(existsSync(join(dir, file)), file);
  assert.match(readFileSync(join(dir, 'summary.md'), 'utf8'), /^# Nightly PASSED/);
  assert.match(readFileSync(join(dir, 'manifests.yaml'), 'utf8'), /@sha256:[0-9a-f]{64}/);
  const history = readFileSync(join(work, 'artifacts', 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as HistoryEntry);
  assert.is(history.length, 1);
  assert.is(history[0]!.result, 'passed');
  assert.ok(namespaceGone(`${namespace}-nightly-${dir.split('/').pop()!.toLowerCase()}`));
  const everything = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
  assert.not.match(everything, h.registryPassword);
});

nightly('red: a /health that answers 500 fails the smoke; a complete bundle is left and the exit is 1', () => {
  const { work, args } = nightlySetup('e2e-red', true);
  const r = runScript('nightly.mts', args, h.env);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /^✗ smoke/m);
  assert.match(r.stderr, /^✓ collect artifacts/m);
  assert.match(r.stderr, /^✓ teardown/m);
  assert.match(r.stderr, /nightly FAILED at "smoke" \(new failure at "smoke": first failure/);
  const dir = runDirOf(work);
  const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
  assert.match(summary, /^# Nightly FAILED at "smoke"/);
  assert.not.match(summary, /PASSED/);
  const smokeFiles = readdirSync(join(dir, 'smoke'), { recursive: true }).map(String);
  assert.ok(smokeFiles.includes('summary.md') && smokeFiles.includes('junit.xml'), smokeFiles.join(', '));
  assert.ok(
    smokeFiles.some((f) => /runtime/.test(f)),
    `bundle has the failing workload: ${smokeFiles.join(', ')}`,
  );
  assert.match(readFileSync(join(dir, 'smoke', 'smoke.json'), 'utf8'), /500/);
  const everything = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
  assert.not.match(everything, h.registryPassword);
  assert.not.match(everything, /BEGIN (RSA |EC )?PRIVATE KEY|client-key-data/);
});

nightly('SIGINT mid-run still collects evidence and tears down, leaving no port-forward behind', async () => {
  const { work, namespace, args } = nightlySetup('e2e-int');
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'nightly.mts'), ...args], {
    cwd: REPO_ROOT,
    env: h.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nightly did not finish: ${stderr}`));
    }, 240_000);
    // Interrupt once the health checks are running: port-forwards are open then.
    const poll = setInterval(() => {
      if (/✓ wait for workloads: 4 workloads ready[\s\S]*✓ wait for workloads/.test(stderr) && !child.killed) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 20);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve(exitCode);
    });
  });
  assert.is(code, 130, stderr);
  assert.match(stderr, /interrupted \(SIGINT\)|interrupted by SIGINT/);
  assert.match(stderr, /✓ teardown/);
  const runId = runDirOf(work).split('/').pop()!.toLowerCase();
  assert.ok(namespaceGone(`${namespace}-nightly-${runId}`));
  assert.equal(portForwardPids(`${namespace}-nightly-${runId}`), []);
  assert.match(readFileSync(join(runDirOf(work), 'summary.md'), 'utf8'), /^# Nightly FAILED/);
});
nightly.run();
