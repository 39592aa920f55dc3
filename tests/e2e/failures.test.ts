/**
 * The wait fails fast, with the reason, events and logs, on real failures: a wrong registry
 * password (401), no pull Secret at all, a tag that was never pushed, a crash-looping
 * container and a readiness probe that never passes. Each must stop well before the 3-minute
 * timeout and exit 1.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runScript } from '../helpers/cli.ts';
import { e2eConfig, writeConfig } from './support/config.ts';
import { deleteNamespace, harness, unique } from './support/harness.ts';
import { buildAndPush, buildContext, buildStack, login } from './support/images.ts';

const h = harness();
const images = buildStack(h, unique('fail'));
const namespaces: string[] = [];

/** Bootstraps a one-component stack (plus NATS) and returns the result and its wall time. */
function bootstrapWith(
  component: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
  env: Record<string, string> = h.env,
  flags: string[] = [],
) {
  const namespace = unique('e2e-fail');
  namespaces.push(namespace);
  const file = writeConfig(e2eConfig(h, { namespace, images, components: [component], overrides }));
  const started = Date.now();
  const result = runScript('bootstrap.mts', ['--config', file, ...flags], env);
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

const fails = suite('e2e: the wait fails fast and says why');
fails.after(() => namespaces.forEach((ns) => deleteNamespace(h, ns)));

fails("a wrong registry password: the kubelet's 401 is shown, well before the timeout", () => {
  // A fresh tag: an image already on the node would start without credentials. The registry
  // check is skipped here so the kubelet meets the bad password (tests/e2e/secrets.test.ts
  // covers the check itself).
  const image = buildAndPush(h, buildContext(), 'runtime', '8080', unique('pw'));
  const r = bootstrapWith(
    { name: 'runtime', image, port: 8080 },
    {},
    { ...h.env, DEMON_E2E_REGISTRY_PASSWORD: 'definitely-wrong-password' },
    ['--no-check-pull'],
  );
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /stopped waiting early: .*(runtime|nats) \((ErrImagePull|ImagePullBackOff)\)/);
  assert.match(r.stderr, /401 Unauthorized/);
  assert.not.match(r.stderr, 'definitely-wrong-password');
  assert.ok(r.seconds < 90, `took ${r.seconds}s`);
});

fails('a wrong registry password is caught by the pull check before anything is applied', () => {
  const r = bootstrapWith(
    { name: 'runtime', image: images.runtime, port: 8080 },
    {},
    { ...h.env, DEMON_E2E_REGISTRY_PASSWORD: 'definitely-wrong-password' },
  );
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /✗ check pulls/);
  assert.match(
    r.stderr,
    /401 Unauthorized .*rejected the credentials from DEMON_E2E_REGISTRY_USER \/ DEMON_E2E_REGISTRY_PASSWORD/,
  );
  assert.not.match(r.stderr, /✓ apply/);
  assert.not.match(r.stderr, 'definitely-wrong-password');
});

fails('no pull Secret at all: the pull is refused with 401', () => {
  login(h);
  const image = buildAndPush(h, buildContext(), 'engine', '8081', unique('anon'));
  // Without registries NATS cannot pull its fresh tag either: whichever fails first is named.
  const r = bootstrapWith({ name: 'engine', image, port: 8081 }, { registries: [] });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /stopped waiting early: .*(engine|nats) \((ErrImagePull|ImagePullBackOff)\)/);
  assert.match(r.stderr, /401 Unauthorized/);
  assert.ok(r.seconds < 90, `took ${r.seconds}s`);
});

fails('an image that was never pushed: the pull check says so before deploying, and so does the wait', () => {
  const component = { name: 'runtime', image: `${h.registry}/demon-e2e/runtime:never-pushed`, port: 8080 };
  const checked = bootstrapWith(component);
  assert.is(checked.code, 1, checked.stderr);
  assert.match(
    checked.stderr,
    /404 not found \(MANIFEST_UNKNOWN\): .*runtime:never-pushed does not exist .*it was never pushed or the tag is wrong/,
  );
  const waited = bootstrapWith(component, {}, h.env, ['--no-check-pull']);
  assert.is(waited.code, 1, waited.stderr);
  assert.match(waited.stderr, /never-pushed: not found/);
  assert.ok(waited.seconds < 90, `took ${waited.seconds}s`);
});

fails("a crash-looping container: exit code, events and the crashed run's log lines", () => {
  const image = buildAndPush(h, buildContext(), 'runtime', 'not-a-port', unique('crash'));
  const r = bootstrapWith({ name: 'runtime', image, port: 8080 });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /runtime: crash-loop/);
  assert.match(r.stderr, /last exit code [1-9]\d*/);
  // The run that holds the error: the previous one in CrashLoopBackOff, the current one when the
  // container has just exited (which of the two the wait sees first is a matter of timing).
  assert.match(r.stderr, /last log lines( \(previous run\))?:\n\s+httpd: bad address 'not-a-port'/);
  assert.match(r.stderr, /BackOff/);
  assert.ok(r.seconds < 120, `took ${r.seconds}s`);
});

fails('a readiness probe that never passes: stops after the readiness grace with the probe events', () => {
  const r = bootstrapWith({
    name: 'engine',
    image: images.engine,
    port: 8081,
    health: { liveness: '/health', readiness: '/not-served' },
  });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /engine \(NotReady\)/);
  assert.match(r.stderr, /Readiness probe failed: HTTP probe failed with statuscode: 404/);
  assert.ok(r.seconds < 90, `took ${r.seconds}s`);
});
fails.run();
