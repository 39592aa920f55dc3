/**
 * build-images.mts with the real docker engine and the real authenticated registry: build and
 * push three images from a git checkout, digests from the push equal the registry's, an
 * unchanged second run pushes nothing, a one-byte change rebuilds only its image, registry
 * and Dockerfile failures are explained, and bootstrap deploys the pinned digests.
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import type { Lock } from '../../lib/images/lock.ts';
import { runScript } from '../helpers/cli.ts';
import { builtComponents, demonCheckout } from './support/demon-checkout.ts';
import { deleteNamespace, harness, kubectlJson, unique } from './support/harness.ts';
import { buildAndPush, buildContext, login } from './support/images.ts';

const h = harness();
const checkout = demonCheckout();
const work = mkdtempSync(join(tmpdir(), 'demon-e2e-images-'));
const lockFile = join(work, 'images.lock.json');
const namespace = unique('e2e-images');
const config = {
  cluster: { provider: 'existing', context: h.context },
  namespace,
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
  wait: { timeout: '3m' },
};
const configFile = join(work, 'demon.yaml');
writeFileSync(configFile, stringify(config));
const build = (args: string[] = [], env = h.env) =>
  runScript('build-images.mts', ['--config', configFile, '--lock', lockFile, ...args], env);
const readLockFile = () => JSON.parse(readFileSync(lockFile, 'utf8')) as Lock;

async function registryDigest(reference: string): Promise<string | null> {
  const [repository, tag] = reference.replace(`${h.registry}/`, '').split(/[:@](?=[^:@]+$)/);
  const response = await fetch(`http://${h.registry}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      Authorization: `Basic ${Buffer.from(`${h.registryUser}:${h.registryPassword}`).toString('base64')}`,
      Accept: 'application/vnd.docker.distribution.manifest.v2+json',
    },
    signal: AbortSignal.timeout(10_000),
  });
  return response.headers.get('docker-content-digest');
}

const images = suite('e2e: build-images against docker and the registry');
images.after(() => deleteNamespace(h, namespace));

images("builds and pushes three images; the lock's digests are the registry's", async () => {
  const r = build();
  assert.is(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /✓ build, push, verify: runtime@[0-9a-f]{12}, engine@[0-9a-f]{12}, operate-ui@[0-9a-f]{12} pushed, digests present in the registry/,
  );
  const lock = readLockFile();
  assert.equal(Object.keys(lock.images), ['runtime', 'engine', 'operate-ui']);
  for (const entry of Object.values(lock.images)) {
    assert.is(entry.pinned, `${entry.repository}@${entry.digest}`);
    assert.is(entry.tags[1], 'main');
    assert.match(entry.tags[0]!, /^sha-[0-9a-f]{7}$/);
    assert.is(entry.tags[0], `sha-${entry.sourceCommit.slice(0, 7)}`);
    for (const tag of entry.tags) assert.is(await registryDigest(`${entry.repository}:${tag}`), entry.digest);
  }
  assert.not.match(r.stderr, h.registryPassword);
});

images('a second run is unchanged and pushes nothing', () => {
  const before = readFileSync(lockFile, 'utf8');
  const r = build(['--verbose']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /unchanged: every image matches the lock/);
  assert.not.match(r.stderr, /\$ docker (build|push|login)/);
  assert.is(readFileSync(lockFile, 'utf8'), before);
});

images('a one-byte change rebuilds and pushes only that image', () => {
  const before = readLockFile();
  appendFileSync(join(checkout, 'engine', 'VERSION'), 'x');
  const r = build();
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /1 to build, unchanged: runtime, operate-ui/);
  assert.match(r.stderr, /✓ build, push, verify: engine@[0-9a-f]{12} pushed/);
  const after = readLockFile();
  assert.is.not(after.images.engine!.digest, before.images.engine!.digest);
  assert.equal(after.images.runtime, before.images.runtime);
});

images('bootstrap deploys the pinned digests and the pods run exactly them', () => {
  // NATS is not built by build-images; push a stand-in for it the way the other suites do.
  login(h);
  writeFileSync(
    configFile,
    stringify({
      ...config,
      nats: { image: buildAndPush(h, buildContext(), 'nats', '8222', unique('nats')), exporter: { enabled: false } },
    }),
  );
  const lock = readLockFile();
  const r = runScript('bootstrap.mts', ['--config', configFile, '--lock', lockFile], h.env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /pinned runtime, engine, operate-ui from/);
  const pods = kubectlJson<{
    items: {
      metadata: { labels: Record<string, string> };
      spec: { containers: { image: string }[] };
      status: { containerStatuses: { imageID: string }[] };
    }[];
  }>(h, ['get', 'pods', '-n', namespace]);
  for (const pod of pods.items) {
    const name = pod.metadata.labels['app.kubernetes.io/name']!;
    const entry = lock.images[name];
    if (!entry) continue;
    assert.is(pod.spec.containers[0]!.image, entry.pinned);
    assert.ok(
      pod.status.containerStatuses[0]!.imageID.endsWith(entry.digest),
      `${name}: ${pod.status.containerStatuses[0]!.imageID}`,
    );
  }
});

images('a wrong password gives the 401 sentence', () => {
  const r = build(['--force'], { ...h.env, DEMON_E2E_REGISTRY_PASSWORD: 'not-the-password' });
  assert.is(r.code, 1);
  assert.match(
    r.stderr,
    /logging in to 127.0.0.1:5001: 401 Unauthorized .*rejected the credentials from DEMON_E2E_REGISTRY_USER \/ DEMON_E2E_REGISTRY_PASSWORD/,
  );
  assert.not.match(r.stderr, 'not-the-password');
});

images('a registry that is down: a clear error in bounded time', () => {
  const down = JSON.parse(JSON.stringify(config).replaceAll(h.registry, '127.0.0.1:5999')) as typeof config;
  const file = join(work, 'down.yaml');
  writeFileSync(file, stringify(down));
  const started = Date.now();
  const r = runScript('build-images.mts', ['--config', file, '--lock', join(work, 'down.lock.json')], h.env);
  assert.is(r.code, 1);
  assert.match(r.stderr, /127.0.0.1:5999 cannot be reached: .*connection refused/);
  assert.ok(Date.now() - started < 60_000);
});

images("a failing Dockerfile names the image and shows the build output's last lines", () => {
  appendFileSync(join(checkout, 'runtime', 'Dockerfile'), 'RUN-THIS-IS-NOT-AN-INSTRUCTION\n');
  const r = build();
  assert.is(r.code, 1);
  assert.match(r.stderr, /building runtime failed \(.*runtime\/Dockerfile, exit 1\); last lines of the build output:/);
  assert.match(r.stderr, /unknown instruction: RUN-THIS-IS-NOT-AN-INSTRUCTION/);
});
images.run();
