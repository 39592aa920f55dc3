import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { boundTail, eventsOf, workloadsToDiagnose, writeBundle } from '../lib/smoke/bundle.ts';
import type { KubeEvent } from '../lib/wait/diagnose.ts';
import { Kubectl } from '../lib/tools/kubectl.ts';
import type { Plan } from '../lib/render/plan.ts';
import { redactedPlanYaml } from '../lib/render/plan.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';
import { planFor } from './helpers/plan.ts';

// The e2e stack of tests/fixtures/valid-everything.yaml with its fake credentials; one more
// secret stands for a token the app prints in its own logs and describe shows in an env var.
const { plan, redactor, env } = planFor('tests/fixtures/valid-everything.yaml');
const SENTINEL = 'sentinel-Zq8vX2-secret-value';
redactor.add(SENTINEL);
const SECRETS = [...Object.values(env), SENTINEL];
const b64 = (text: string) => Buffer.from(text).toString('base64');

const POD = 'runtime-55895995c7-np98g';
function recordedCluster(): FakeRunner {
  return new FakeRunner()
    .on((a) => a.includes('get') && a.includes('pods'), { stdout: recorded('bundle-pods.json') })
    .on((a) => a.includes('get') && a.includes('events'), { stdout: recorded('bundle-events.json') })
    .on((a) => a.includes('rollout'), { stdout: recorded('bundle-rollout-status.stdout') })
    .on((a) => a.includes('describe') && a.includes('deployment/runtime'), {
      stdout: recorded('bundle-describe-deployment.stdout'),
    })
    .on((a) => a.includes('describe') && a.includes('pods'), {
      stdout: `${recorded('bundle-describe-pods.stdout')}    API_TOKEN:  ${SENTINEL}\n`,
    })
    .on((a) => a.includes('logs') && a.includes('--previous'), { stdout: recorded('bundle-logs-previous.stdout') })
    .on((a) => a.includes('logs'), {
      stdout: `${recorded('bundle-logs.stdout')}connecting with token ${SENTINEL} (${b64(SENTINEL)})\n`,
    });
}

function filesUnder(dir: string): Record<string, string> {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
  return Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

const bundle = suite('bundle: what a failing workload leaves behind');
const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
const runner = recordedCluster();
let files: Record<string, string> = {};
bundle.before(async () => {
  await writeBundle({
    dir,
    kubectl: new Kubectl(runner, { context: 'demon-e2e' }),
    namespace: 'smoke-dev-b',
    redactor,
    workloads: [{ kind: 'Deployment', name: 'runtime' }],
    manifestsYaml: redactedPlanYaml(plan),
    lockText: '{"version": 1, "images": {}}\n',
    summary: '### smoke FAILED: 1 of 5 checks failed\n',
  });
  files = filesUnder(dir);
});
bundle('rollout status, describe, events, pod conditions, current and previous logs, manifests, lock, summary', () => {
  assert.equal(Object.keys(files).sort(), [
    'images.lock.json',
    'manifests.yaml',
    'summary.md',
    'workloads/runtime/describe.txt',
    'workloads/runtime/events.txt',
    `workloads/runtime/logs/${POD}.runtime.log`,
    `workloads/runtime/logs/${POD}.runtime.previous.log`,
    'workloads/runtime/pods.txt',
    'workloads/runtime/rollout-status.txt',
  ]);
  assert.match(files['workloads/runtime/rollout-status.txt']!, 'deployment "runtime" successfully rolled out');
  assert.match(files['workloads/runtime/describe.txt']!, /Name:\s+runtime-55895995c7-np98g/);
  assert.match(
    files['workloads/runtime/pods.txt']!,
    /container runtime: running, ready true, restarts 5, .*imageID 127\.0\.0\.1:5001\/demon-e2e\/runtime@sha256:/,
  );
  assert.match(files['workloads/runtime/pods.txt']!, /condition Ready=True/);
  assert.match(
    files['workloads/runtime/events.txt']!,
    /Unhealthy \(x\d+\): Liveness probe failed: HTTP probe failed with statuscode: 500/,
  );
});
bundle('events of the workload, its ReplicaSet and its pods only, in time order', () => {
  const lines = files['workloads/runtime/events.txt']!.trim().split('\n');
  const times = lines.map((l) => l.split('  ')[0]!);
  assert.equal(times, [...times].sort());
  assert.not.match(files['workloads/runtime/events.txt']!, /nats-0/);
  const events = (JSON.parse(recorded('bundle-events.json')) as { items: KubeEvent[] }).items;
  assert.ok(eventsOf(events, 'runtime').every((e) => e.involvedObject!.name!.startsWith('runtime')));
});
bundle('the summary lists the failing workload and every file', () => {
  const summary = files['summary.md']!;
  assert.match(summary, /^### smoke FAILED/);
  assert.match(summary, '- deployment/runtime: `workloads/runtime/`');
  for (const file of Object.keys(files)) assert.match(summary, `\`${file}\``);
});
bundle('no secret value, nor its base64, in any file; the masks are there instead', () => {
  for (const [file, text] of Object.entries(files)) {
    for (const secret of SECRETS) {
      assert.not.ok(text.includes(secret), `${file} contains a secret value`);
      assert.not.ok(text.includes(b64(secret)), `${file} contains a secret value in base64`);
    }
  }
  assert.match(files[`workloads/runtime/logs/${POD}.runtime.log`]!, 'connecting with token *** (***)');
  assert.match(files['manifests.yaml']!, /kind: Secret/);
});
bundle('nothing asked for Secrets or kubeconfigs', () => {
  for (const argv of runner.argvs()) {
    assert.not.ok(
      argv.some((a) => /^secrets?$|^secret\/|kubeconfig|^config$/.test(a)),
      argv.join(' '),
    );
  }
});

const bounds = suite('bundle: bounded logs');
bounds('logs are fetched bounded and cut to their last bytes', () => {
  const logs = runner.argvs().filter((a) => a.includes('logs'));
  assert.ok(logs.length === 2 && logs.every((a) => a.includes('--tail=500') && a.includes('--limit-bytes=262144')));
  const cut = boundTail(`${'a'.repeat(1000)}THE END`, 100);
  assert.ok(cut.endsWith('THE END'));
  assert.match(cut, /^\[\.\.\. 907 earlier bytes cut \.\.\.\]\n/);
  assert.is(boundTail('short', 100), 'short');
});

const which = suite('bundle: which workloads get a section');
const planOf = (names: string[]): Plan => ({
  namespace: [],
  secrets: [],
  warnings: [],
  manifests: names.map((name) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name } })),
});
which('the ones a failed result names, plus any not ready now (recorded snapshots)', async () => {
  const ready = new FakeRunner().on(() => true, { stdout: recorded('bundle-workloads.json') });
  const failedHealth = [{ name: 'runtime /health', group: 'runtime', status: 'failed' as const, durationMs: 1 }];
  assert.equal(
    await workloadsToDiagnose(new Kubectl(ready, { context: 'c' }), 'ns', planOf(['runtime', 'engine']), failedHealth),
    [{ kind: 'Deployment', name: 'runtime' }],
  );
  const failures = new FakeRunner().on(() => true, { stdout: recorded('wait-snapshot-failures.json') });
  const waitFailed = [{ name: 'workloads ready', group: 'readiness', status: 'failed' as const, durationMs: 1 }];
  const names = (
    await workloadsToDiagnose(
      new Kubectl(failures, { context: 'c' }),
      'ns',
      planOf(['healthy', 'crashloop', 'notready']),
      waitFailed,
    )
  ).map((w) => w.name);
  assert.equal(names, ['crashloop', 'notready']);
});
which('an unreachable cluster still bundles what the results name', async () => {
  const down = new FakeRunner().on(() => true, { exitCode: 1, stderr: recorded('kubectl-unreachable.stderr') });
  const failedHealth = [{ name: 'engine /health', group: 'engine', status: 'failed' as const, durationMs: 1 }];
  assert.equal(
    await workloadsToDiagnose(new Kubectl(down, { context: 'c' }), 'ns', planOf(['runtime', 'engine']), failedHealth),
    [{ kind: 'Deployment', name: 'engine' }],
  );
});

bundle.run();
bounds.run();
which.run();
