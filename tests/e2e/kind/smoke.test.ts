/**
 * smoke.mts on the kind cluster bootstrap.test.ts made, where the stack has everything a real
 * cluster has (cluster DNS, kube-proxy, a storage provisioner): health through port-forwards and
 * through the API-server proxy, the running digests against a lock, and the function checks:
 * NATS' client protocol and JetStream limits, every Prometheus target up (itself, the NATS
 * exporter sidecar, runtime's declared /metrics), Grafana's data source healthy through
 * Prometheus' Service. Then the same checks failing for the right reason.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Report } from '../../../lib/smoke/report.ts';
import { runScript } from '../../helpers/cli.ts';
import { repoDigest, writeLockFile } from '../support/smoke.ts';
import { LANE_CLUSTER, kindConfig, laneEnv, laneImages, laneStack, secretsOfLane } from './support.ts';
import { ensureLaneStack } from './stack.ts';

ensureLaneStack();
const env = laneEnv();
const configFile = kindConfig(LANE_CLUSTER, laneStack());
const images = laneImages();
const COMPONENTS = ['runtime', 'engine', 'operate-ui'] as const;

function smoke(args: string[], extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'demon-kind-smoke-'));
  const r = runScript('smoke.mts', ['--config', configFile, '--artifacts', dir, ...args], { ...env, ...extraEnv });
  const report = JSON.parse(readFileSync(join(dir, 'smoke.json'), 'utf8')) as Report;
  const result = (name: string) => report.results.find((x) => x.name === name);
  return { ...r, dir, report, result };
}

const s = suite('kind: smoke proves the stack works, not only that it is alive');

s('healthy: every health path, the digests and the four function checks pass through port-forwards', () => {
  const lock = writeLockFile(
    Object.fromEntries(COMPONENTS.map((name) => [name, { ref: images[name], digest: repoDigest(images[name]) }])),
  );
  const r = smoke(['--lock', lock]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.report.status, 'passed');
  assert.is(r.report.counts.failed, 0);
  assert.match(r.stderr, /image digests: 3 components match/);
  assert.match(r.result('nats client protocol')!.detail!, /INFO, PING, PONG \(nats-server 2\.10\.27\)/);
  assert.match(r.result('nats JetStream limits')!.detail!, /JetStream on/);
  const targets = r.result('prometheus targets')!;
  assert.is(targets.status, 'passed', targets.error);
  for (const workload of ['prometheus', 'nats', 'runtime']) assert.match(targets.detail!, workload);
  assert.is(r.result('grafana data source')!.status, 'passed', r.result('grafana data source')!.error);
  for (const secret of secretsOfLane())
    assert.not.ok(JSON.stringify(r.report).includes(secret) || r.stderr.includes(secret));
});

s('healthy through the API-server proxy as well', () => {
  const r = smoke(['--no-lock', '--method', 'api-proxy']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /\(api-proxy\)/);
});

s('a wrong Grafana password fails the data source check with 401, and the password stays out of every report', () => {
  const wrong = `not-the-password-${Date.now()}`;
  const r = smoke(['--no-lock'], { LANE_GRAFANA_PASSWORD: wrong });
  assert.is(r.code, 1, r.stderr);
  const datasource = r.result('grafana data source')!;
  assert.is(datasource.status, 'failed');
  assert.match(datasource.error!, /401/);
  assert.is(r.report.counts.failed, 1, 'only the data source check fails');
  const everything = r.stderr + r.stdout + readFileSync(join(r.dir, 'junit.xml'), 'utf8') + JSON.stringify(r.report);
  assert.not.ok(everything.includes(wrong));
});

s.run();
