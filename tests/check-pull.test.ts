import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertPullable, checkPulls, loadedIntoKind } from '../lib/bootstrap/check-pull.ts';
import { parseConfig } from '../lib/config/load.ts';
import type { K8sObject } from '../lib/render/manifests.ts';

const deployment = (name: string, image: string): K8sObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: { template: { spec: { containers: [{ name, image }] } } },
});

const loaded = suite('check pulls: images kind-loaded by build-images --no-push --load');

loaded('a lock pinning by tag means the image was loaded into kind: not looked up there, only there', () => {
  const pinned = {
    runtime: 'localhost:5002/demon/runtime:sha-3d207e0',
    engine: 'ghcr.io/a/engine@sha256:' + 'a'.repeat(64),
  };
  assert.equal([...loadedIntoKind('kind', pinned)], ['localhost:5002/demon/runtime:sha-3d207e0']);
  assert.equal([...loadedIntoKind('existing', pinned)], [], 'another cluster must pull it like any image');
});

loaded('a loaded image gets no registry request; the summary says how many were skipped and why', async () => {
  // 127.0.0.1:9 refuses: had the image been looked up, its verdict would be "unreachable".
  const image = '127.0.0.1:9/demon/runtime:sha-3d207e0';
  const config = parseConfig({ cluster: { provider: 'kind', name: 'demon' }, namespace: 'demon' });
  const checks = await checkPulls(config, [deployment('runtime', image)], {}, {}, new Set([image]));
  assert.equal(checks, []);
  assert.is(assertPullable(checks, 1), '0 images found, 1 loaded into kind (not looked up)');
  const looked = await checkPulls(config, [deployment('runtime', image)], {}, { timeoutMs: 2_000 });
  assert.is(looked.length, 1);
  assert.is.not(looked[0]!.verdict.kind, 'ok');
});

loaded.run();
