/**
 * bootstrap.mts and teardown.mts against the real cluster: images pulled by the kubelet from
 * the authenticated local registry through the pull Secret the tool created, an idempotent
 * re-run, a real port-forward to /health, the wait's watch streams and their polling fallback
 * under RBAC that forbids watch, and teardown.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessRunner, type RunOptions } from '../../lib/core/exec.ts';
import { ToolClock } from '../../lib/core/tool-clock.ts';
import { Kubectl } from '../../lib/tools/kubectl.ts';
import { Redactor } from '../../lib/core/redact.ts';
import { waitForWorkloads } from '../../lib/wait/wait.ts';
import { runScript } from '../helpers/cli.ts';
import { e2eConfig, writeConfig } from './support/config.ts';
import { deleteNamespace, harness, kubectl, kubectlJson, unique } from './support/harness.ts';
import { buildStack } from './support/images.ts';

const h = harness();
const namespace = unique('e2e-boot');
const images = buildStack(h, unique('boot'));
const configFile = writeConfig(e2eConfig(h, { namespace, images }));

interface PodList {
  items: {
    spec: { imagePullSecrets?: { name: string }[]; containers: { image: string }[] };
    status: { containerStatuses?: { imageID: string; ready: boolean }[] };
  }[];
}

const boot = suite('e2e: bootstrap on a real cluster');
boot.after(() => deleteNamespace(h, namespace));

boot('first run creates everything and waits until every workload is ready', () => {
  const r = runScript('bootstrap.mts', ['--config', configFile], h.env);
  assert.is(r.code, 0, r.stderr);
  for (const step of ['preflight', 'check pulls', 'cluster', 'apply', 'wait for workloads', 'prune'])
    assert.match(r.stderr, `✓ ${step}`);
  assert.match(r.stderr, new RegExp(`✓ apply: namespace ${namespace} created; 11 created`));
  assert.match(r.stderr, /✓ wait for workloads: 4 workloads ready/);
  assert.not.match(r.stderr + r.stdout, h.registryPassword);
});

boot('the kubelet pulled every image through the pull Secret the tool created', () => {
  const pods = kubectlJson<PodList>(h, ['get', 'pods', '-n', namespace]);
  assert.is(pods.items.length, 4);
  for (const pod of pods.items) {
    assert.equal(pod.spec.imagePullSecrets, [{ name: 'demon-pull-e2e' }]);
    assert.ok(pod.spec.containers[0]!.image.startsWith(`${h.registry}/demon-e2e/`));
    assert.ok(pod.status.containerStatuses?.every((c) => c.ready && c.imageID.includes('@sha256:')));
  }
});

boot('a second run changes nothing and says so', () => {
  const r = runScript('bootstrap.mts', ['--config', configFile], h.env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /✓ apply: 11 unchanged/);
  assert.match(r.stderr, /✓ prune: 0 deleted/);
  assert.match(r.stderr, /unchanged: the cluster already matched the config/);
});

boot('the printed port-forward reaches /health of a distroless-style service', async () => {
  const forward = spawn(
    'kubectl',
    ['--kubeconfig', h.kubeconfig, '--context', h.context, '-n', namespace, 'port-forward', 'svc/runtime', ':8080'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('port-forward did not start within 20s')), 20_000);
      forward.stdout.on('data', (chunk: Buffer) => {
        const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(chunk.toString());
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      forward.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`port-forward exited with ${code}`));
      });
    });
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(10_000) });
    assert.is(response.status, 200);
  } finally {
    forward.kill();
  }
});

const STACK = [
  { kind: 'StatefulSet' as const, name: 'nats' },
  ...['runtime', 'engine', 'operate-ui'].map((name) => ({ kind: 'Deployment' as const, name })),
];

/** Restarts runtime (so the first look is not ready), then runs the real wait in-process. */
async function restartAndWait(target: { context: string; kubeconfig: string }) {
  kubectl(h, ['rollout', 'restart', 'deployment/runtime', '-n', namespace]);
  const clock = new ToolClock();
  const runner = new ProcessRunner({ env: { ...process.env, ...h.env }, redactor: new Redactor(), clock });
  let polls = 0;
  const counting = {
    exec: (argv: string[], options?: RunOptions) => ((polls += 1), runner.exec(argv, options)),
    stream: runner.stream.bind(runner),
  };
  const progress: string[] = [];
  const result = await waitForWorkloads(new Kubectl(counting, target), namespace, STACK, {
    timeoutMs: 120_000,
    pullGraceMs: 30_000,
    readinessGraceMs: 45_000,
    onProgress: (text) => progress.push(text),
  });
  return { result, progress: progress.join('\n'), polls, runs: clock.calls };
}

boot('the wait follows a rollout through watch streams: one look, then no polling', async () => {
  const { result, progress, polls, runs } = await restartAndWait({ context: h.context, kubeconfig: h.kubeconfig });
  assert.is(result, '4 workloads ready');
  assert.match(progress, /waiting for deployment\/runtime/);
  assert.not.match(progress, /polling instead/);
  assert.equal([polls, runs], [1, 4]);
});

boot('where RBAC allows list but not watch, the wait says so and polls', async () => {
  // A ServiceAccount that may get and list the stack, never watch it, and a kubeconfig for it.
  kubectl(h, ['create', 'serviceaccount', 'no-watch', '-n', namespace]);
  kubectl(h, [
    'create',
    'role',
    'no-watch',
    '-n',
    namespace,
    '--verb=get,list',
    '--resource=deployments,statefulsets,pods',
  ]);
  kubectl(h, [
    'create',
    'rolebinding',
    'no-watch',
    '-n',
    namespace,
    '--role=no-watch',
    `--serviceaccount=${namespace}:no-watch`,
  ]);
  const token = kubectl(h, ['create', 'token', 'no-watch', '-n', namespace, '--duration=10m']).trim();
  const admin = kubectlJson<{ clusters: { cluster: Record<string, string> }[] }>(h, [
    'config',
    'view',
    '--raw',
    '--minify',
  ]);
  const file = join(mkdtempSync(join(tmpdir(), 'demon-e2e-nowatch-')), 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'no-watch',
      clusters: [{ name: 'e2e', cluster: admin.clusters[0]!.cluster }],
      users: [{ name: 'no-watch', user: { token } }],
      contexts: [{ name: 'no-watch', context: { cluster: 'e2e', user: 'no-watch', namespace } }],
    }),
    { mode: 0o600 },
  );
  try {
    const { result, progress, polls } = await restartAndWait({ context: 'no-watch', kubeconfig: file });
    assert.is(result, '4 workloads ready');
    assert.match(
      progress,
      /the (deployments|statefulsets|pods) watch ended \(kubectl exited 1: .*forbidden.*cannot watch resource.*\); polling instead/,
    );
    assert.ok(polls > 1, `${polls} polls`);
  } finally {
    rmSync(dirname(file), { recursive: true, force: true });
    // Ours to remove: teardown (next) keeps a namespace that holds objects it did not create.
    kubectl(h, ['delete', 'rolebinding/no-watch', 'role/no-watch', 'serviceaccount/no-watch', '-n', namespace]);
  }
});

boot('teardown removes the stack and its namespace; a second teardown has nothing to do', () => {
  const first = runScript('teardown.mts', ['--config', configFile, '--yes'], h.env);
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stderr, new RegExp(`deleted 11 objects; deleted namespace ${namespace}`));
  const second = runScript('teardown.mts', ['--config', configFile, '--yes'], h.env);
  assert.is(second.code, 0, second.stderr);
  assert.match(second.stderr, /does not exist: nothing to delete/);
});
boot.run();
