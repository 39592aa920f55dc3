/**
 * bootstrap.mts and teardown.mts against the real cluster: images pulled by the kubelet from
 * the authenticated local registry through the pull Secret the tool created, an idempotent
 * re-run, a real port-forward to /health, and teardown.
 */
import { spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runScript } from '../helpers/cli.ts';
import { e2eConfig, writeConfig } from './support/config.ts';
import { deleteNamespace, harness, kubectlJson, unique } from './support/harness.ts';
import { buildStack } from './support/images.ts';

const h = harness();
const namespace = unique('e2e-boot');
const images = buildStack(h, unique('boot'));
const configFile = writeConfig(e2eConfig(h, { namespace, images }));

interface PodList { items: { spec: { imagePullSecrets?: { name: string }[]; containers: { image: string }[] }; status: { containerStatuses?: { imageID: string; ready: boolean }[] } }[] }

const boot = suite('e2e: bootstrap on a real cluster');
boot.after(() => deleteNamespace(h, namespace));

boot('first run creates everything and waits until every workload is ready', () => {
  const r = runScript('bootstrap.mts', ['--config', configFile], h.env);
  assert.is(r.code, 0, r.stderr);
  for (const step of ['preflight', 'check pulls', 'cluster', 'namespace', 'secrets', 'manifests', 'wait for workloads']) assert.match(r.stderr, `✓ ${step}`);
  assert.match(r.stderr, /✓ secrets: 1 created/);
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
  assert.match(r.stderr, /✓ namespace: 1 unchanged/);
  assert.match(r.stderr, /✓ secrets: 1 unchanged/);
  assert.match(r.stderr, /✓ manifests: 10 unchanged/);
  assert.match(r.stderr, /unchanged: the cluster already matched the config/);
});

boot('the printed port-forward reaches /health of a distroless-style service', async () => {
  const forward = spawn('kubectl', ['--kubeconfig', h.kubeconfig, '--context', h.context, '-n', namespace, 'port-forward', 'svc/runtime', ':8080'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('port-forward did not start within 20s')), 20_000);
      forward.stdout.on('data', (chunk: Buffer) => {
        const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(chunk.toString());
        if (match) { clearTimeout(timer); resolve(Number(match[1])); }
      });
      forward.on('exit', (code) => { clearTimeout(timer); reject(new Error(`port-forward exited with ${code}`)); });
    });
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(10_000) });
    assert.is(response.status, 200);
  } finally {
    forward.kill();
  }
});

boot('teardown removes the stack and its namespace; a second teardown has nothing to do', () => {
  const first = runScript('teardown.mts', ['--config', configFile, '--yes'], h.env);
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stderr, new RegExp(`deleted \\d+ objects and namespace ${namespace}`));
  const second = runScript('teardown.mts', ['--config', configFile, '--yes'], h.env);
  assert.is(second.code, 0, second.stderr);
  assert.match(second.stderr, /does not exist: nothing to delete/);
});
boot.run();
