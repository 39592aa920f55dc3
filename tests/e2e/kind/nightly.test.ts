/**
 * The nightly on its default provider: a kind cluster of its own, created fresh for the run.
 * Green with --retain (the cluster is kept, and the output says how to remove it); then a red
 * run, which first deletes the previous run's leftover cluster, fails at smoke with a
 * complete bundle and exit 1, and tears its cluster down. The lane's shared cluster is never
 * touched: the nightly's cluster has a name of its own (nightly.clusterName).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { runScript } from '../../helpers/cli.ts';
import { builtComponents, commitAll, demonCheckout } from '../support/demon-checkout.ts';
import { BROKEN_HEALTH_PATH, brokenHealthContext } from '../support/smoke.ts';
import {
  LANE_CLUSTER,
  REGISTRY,
  kindClusters,
  kindLane,
  laneEnv,
  laneImages,
  MIRROR_PATCH,
  registryEntry,
  remember,
  secretsOfLane,
} from './support.ts';

const NIGHTLY_CLUSTER = 'demon-lane-nightly';
const env = laneEnv();
const nats = laneImages().nats;

function nightlySetup(name: string, breakRuntime = false) {
  const checkout = demonCheckout();
  if (breakRuntime) {
    mkdirSync(join(checkout, 'www', 'cgi-bin'));
    copyFileSync(join(brokenHealthContext(), 'www', 'cgi-bin', 'health'), join(checkout, 'www', 'cgi-bin', 'health'));
    commitAll(checkout, 'break runtime health');
  }
  const work = mkdtempSync(join(tmpdir(), `demon-kind-${name}-`));
  const components = builtComponents(REGISTRY.host, `nightly-${name}-${Date.now().toString(36)}`).map((c) =>
    breakRuntime && c.name === 'runtime' ? { ...c, health: { liveness: BROKEN_HEALTH_PATH, readiness: '/ready' } } : c,
  );
  writeFileSync(
    join(work, 'demon.yaml'),
    stringify({
      cluster: {
        provider: 'kind',
        name: LANE_CLUSTER,
        kind: {
          nodeImage: kindLane().nodeImage,
          config: { networking: { disableDefaultCNI: true }, containerdConfigPatches: [MIRROR_PATCH] },
        },
      },
      namespace: 'demon',
      nats: { image: nats, exporter: { enabled: false } },
      components,
      registries: [registryEntry(['nats', 'runtime', 'engine', 'operate-ui'])],
      build: { source: checkout },
      nightly: {
        clusterName: NIGHTLY_CLUSTER,
        artifacts: join(work, 'artifacts'),
        history: join(work, 'artifacts', 'history.jsonl'),
        deadline: '15m',
      },
      wait: { timeout: '4m', pullGrace: '60s' },
    }),
  );
  return { work, args: ['--config', join(work, 'demon.yaml'), '--lock', join(work, 'images.lock.json')] };
}

const runDirOf = (work: string) =>
  join(
    work,
    'artifacts',
    readdirSync(join(work, 'artifacts')).find((n) => /^\d{8}T\d{6}Z$/.test(n))!,
  );

const allFiles = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');

const nightly = suite('kind: the nightly creates its own kind cluster');
nightly.before(() => remember(NIGHTLY_CLUSTER));

nightly(
  'green with --retain: fresh cluster, pinned deploy, smoke PASSED; the cluster is kept and the removal named',
  () => {
    const { work, args } = nightlySetup('green');
    const r = runScript('nightly.mts', [...args, '--retain'], env);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`✓ fresh cluster: kind cluster ${NIGHTLY_CLUSTER} created`));
    assert.match(r.stderr, /smoke PASSED/);
    assert.match(r.stderr, /image digests: 3 components match/);
    assert.match(r.stderr + r.stdout, `kind delete cluster --name ${NIGHTLY_CLUSTER}`);
    assert.ok(kindClusters().includes(NIGHTLY_CLUSTER), 'retained');
    assert.match(readFileSync(join(runDirOf(work), 'manifests.yaml'), 'utf8'), /@sha256:[0-9a-f]{64}/);
    for (const secret of secretsOfLane()) assert.not.ok(allFiles(runDirOf(work)).includes(secret));
  },
);

nightly('red: the leftover cluster goes first, smoke fails with a bundle, exit 1, and the cluster is torn down', () => {
  const { work, args } = nightlySetup('red', true);
  const r = runScript('nightly.mts', args, env);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /its leftover from an earlier run was deleted first/);
  assert.match(r.stderr, /^✗ smoke/m);
  assert.match(r.stderr, /^✓ teardown/m);
  const dir = runDirOf(work);
  assert.match(readFileSync(join(dir, 'summary.md'), 'utf8'), /^# Nightly FAILED at "smoke"/);
  assert.match(readFileSync(join(dir, 'smoke', 'smoke.json'), 'utf8'), /500/);
  assert.not.ok(kindClusters().includes(NIGHTLY_CLUSTER), 'torn down');
  const everything = allFiles(dir);
  for (const secret of secretsOfLane()) assert.not.ok(everything.includes(secret));
  assert.not.match(everything, /BEGIN (RSA |EC )?PRIVATE KEY|client-key-data/);
});

nightly.run();
