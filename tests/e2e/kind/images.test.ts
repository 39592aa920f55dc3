/**
 * The kind way to get images in without a registry: `build-images.mts --no-push --load` builds
 * the components from a Demon checkout, `kind load`s them onto the lane cluster's node and
 * pins them by tag in the lock; bootstrap with that lock then runs them. The repository is
 * one the lane registry does not hold, so a pod could only start from the loaded image.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Lock } from '../../../lib/images/lock.ts';
import { runScript } from '../../helpers/cli.ts';
import { builtComponents, demonCheckout } from '../support/demon-checkout.ts';
import { ensureLaneStack } from './stack.ts';
import {
  LANE_CLUSTER,
  REGISTRY,
  kindConfig,
  kubectl,
  laneContext,
  laneEnv,
  laneImages,
  registryEntry,
  tool,
} from './support.ts';

ensureLaneStack();
const namespace = 'demon-loaded';
const repo = `loaded-${Date.now().toString(36)}`;
const work = mkdtempSync(join(tmpdir(), 'demon-kind-images-'));
const lockFile = join(work, 'images.lock.json');
const configFile = kindConfig(LANE_CLUSTER, {
  namespace,
  nats: { image: laneImages().nats, exporter: { image: laneImages().exporter } },
  components: builtComponents(REGISTRY.host, repo),
  registries: [registryEntry(['nats'])],
  build: { source: demonCheckout() },
  wait: { timeout: '3m' },
});

const images = suite('kind: build-images --no-push --load, then bootstrap from the lock');
images.after(() => {
  kubectl(laneContext(), ['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
});

images('builds from the checkout and loads every component onto the node, pinned by tag', () => {
  const r = runScript(
    'build-images.mts',
    ['--config', configFile, '--no-push', '--load', '--lock', lockFile],
    laneEnv(),
  );
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, `✓ kind load: loaded into kind cluster ${LANE_CLUSTER}`);
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as Lock;
  const node = tool('docker', ['exec', `${LANE_CLUSTER}-control-plane`, 'crictl', 'images', '-o', 'json']);
  for (const name of ['runtime', 'engine', 'operate-ui']) {
    const pinned = lock.images[name]!.pinned;
    assert.match(pinned, new RegExp(`^${REGISTRY.host}/${repo}/${name}:sha-[0-9a-f]{7}$`));
    assert.ok(node.includes(`"${pinned}"`), `${pinned} is not on the node`);
  }
});

images('bootstrap with that lock runs the loaded images (the registry has none of them)', () => {
  const r = runScript('bootstrap.mts', ['--config', configFile, '--lock', lockFile], laneEnv());
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /✓ check pulls: 2 images found, 3 loaded into kind \(not looked up\)/);
  assert.match(r.stderr, /✓ wait for workloads: 4 workloads ready/);
  const running = kubectl(laneContext(), [
    'get',
    'pods',
    '-n',
    namespace,
    '-o',
    'jsonpath={.items[*].spec.containers[0].image}',
  ]);
  for (const name of ['runtime', 'engine', 'operate-ui'])
    assert.match(running, `${REGISTRY.host}/${repo}/${name}:sha-`);
});

images('a second build-images --load builds and loads nothing', () => {
  const r = runScript(
    'build-images.mts',
    ['--config', configFile, '--no-push', '--load', '--lock', lockFile],
    laneEnv(),
  );
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /✓ build: unchanged/);
  assert.match(r.stderr, /✓ kind load: unchanged/);
  assert.match(r.stderr, /unchanged: every image matches the lock/);
});

images.run();
