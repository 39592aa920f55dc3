/**
 * secrets.mts against the real registry and cluster: --check-pull verdicts for good
 * credentials, a wrong password (401), a missing tag (manifest unknown) and a registry that is
 * down (bounded), and a changed credential restarting exactly the workloads that use it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runScript } from '../helpers/cli.ts';
import { e2eConfig, writeConfig } from './support/config.ts';
import { deleteNamespace, harness, kubectlJson, unique } from './support/harness.ts';
import { buildStack } from './support/images.ts';

const h = harness();
const images = buildStack(h, unique('sec'));
const namespace = unique('e2e-secrets');
const config = e2eConfig(h, { namespace, images, overrides: { secrets: { data: { API_TOKEN: 'DEMON_API_TOKEN' } } } });
const file = writeConfig(config);
const env = { ...h.env, DEMON_API_TOKEN: 'first-api-token-value' };

const checkPull = suite('e2e: secrets.mts --check-pull verdicts from the real registry');
checkPull('good credentials: every image found', () => {
  const r = runScript('secrets.mts', ['--config', file, '--check-pull'], env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /✓ check pulls: 5 images found/);
});
checkPull('a wrong password: 401 names the env vars to fix, never the value', () => {
  const r = runScript('secrets.mts', ['--config', file, '--check-pull'], {
    ...env,
    DEMON_E2E_REGISTRY_PASSWORD: 'wrong-password-123',
  });
  assert.is(r.code, 1);
  assert.match(
    r.stderr,
    /401 Unauthorized .*rejected the credentials from DEMON_E2E_REGISTRY_USER \/ DEMON_E2E_REGISTRY_PASSWORD/,
  );
  assert.not.match(r.stderr, 'wrong-password-123');
});
checkPull('a tag that was never pushed: manifest unknown', () => {
  const missing = writeConfig({
    ...config,
    nats: { ...(config.nats as object), image: `${h.registry}/demon-e2e/nats:never-pushed` },
  });
  const r = runScript('secrets.mts', ['--config', missing, '--check-pull'], env);
  assert.is(r.code, 1);
  assert.match(r.stderr, /1 of 5 images cannot be pulled/);
  assert.match(r.stderr, /nats: 404 not found \(MANIFEST_UNKNOWN\)/);
});
checkPull('a registry that is down: a clear error in bounded time', () => {
  const down = '127.0.0.1:5999';
  const moved = JSON.parse(JSON.stringify(config).replaceAll(h.registry, down)) as Record<string, unknown>;
  const started = Date.now();
  const r = runScript('secrets.mts', ['--config', writeConfig(moved), '--check-pull'], env);
  assert.is(r.code, 1);
  assert.match(r.stderr, /127.0.0.1:5999 cannot be reached: cannot connect to 127.0.0.1:5999 \(ECONNREFUSED\)/);
  assert.ok(Date.now() - started < 15_000);
});
checkPull.run();

interface DeploymentList {
  items: { metadata: { name: string }; spec: { template: { metadata: { annotations?: Record<string, string> } } } }[];
}
const restartedAt = () =>
  Object.fromEntries(
    kubectlJson<DeploymentList>(h, ['get', 'deployments', '-n', namespace]).items.map((d) => [
      d.metadata.name,
      d.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'] ?? null,
    ]),
  );

const rotate = suite('e2e: changing a credential');
rotate.after(() => deleteNamespace(h, namespace));
rotate('an unchanged credential changes nothing; a changed one restarts exactly its consumers', () => {
  assert.is(runScript('bootstrap.mts', ['--config', file], env).code, 0);
  const same = runScript('secrets.mts', ['--config', file], env);
  assert.is(same.code, 0, same.stderr);
  assert.match(same.stderr, /✓ apply: 2 unchanged/);
  assert.equal(Object.values(restartedAt()), [null, null, null]);

  const changed = runScript('secrets.mts', ['--config', file], { ...env, DEMON_API_TOKEN: 'second-api-token-value' });
  assert.is(changed.code, 0, changed.stderr);
  assert.match(
    changed.stderr,
    /✓ apply: 1 configured, 1 unchanged; restarted deployment\/runtime, deployment\/engine, deployment\/operate-ui/,
  );
  assert.not.match(changed.stderr, 'second-api-token-value');
  const after = restartedAt();
  assert.ok(
    Object.values(after).every((value) => value !== null),
    JSON.stringify(after),
  );
  const nats = kubectlJson<{ spec: { template: { metadata: { annotations?: Record<string, string> } } } }>(h, [
    'get',
    'statefulset',
    'nats',
    '-n',
    namespace,
  ]);
  assert.is(nats.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'], undefined);
});
rotate.run();
