/**
 * Monitoring that monitors, on the e2e cluster: the real Prometheus and prometheus-nats-exporter,
 * the Grafana stand-in, one component serving /metrics and one declaring a metrics path it does
 * not serve. smoke.mts must fail the "prometheus targets" check for that reason, naming that
 * component alone, while Prometheus itself, the NATS exporter and the good component are up.
 * A wrong Grafana password fails the data source check with Grafana's 401; no secret value
 * reaches any artifact. And a JetStream memory store too big for NATS' memory limit is refused
 * before anything is created.
 *
 * This cluster has no cluster DNS and no kube-proxy: Prometheus finds and scrapes pods by pod IP
 * (kubernetes_sd through the API server), which works here; Grafana reaching Prometheus by its
 * Service name does not, so the data source check cannot pass here. The kind lane
 * (tests/e2e/kind/smoke.test.ts) covers the passing data source.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NamedResult, Report } from '../../lib/smoke/report.ts';
import { runScript } from '../helpers/cli.ts';
import { e2eConfig, e2eRegistries, writeConfig } from './support/config.ts';
import { deleteNamespace, harness, kubectl, kubectlJson, unique } from './support/harness.ts';
import { buildStack, grafanaStandIn, realServers } from './support/images.ts';
import { runSmoke } from './support/smoke.ts';

const h = harness();
const images = buildStack(h, unique('mon'));
const servers = realServers(h);
const grafana = grafanaStandIn(h);
const namespace = unique('e2e-mon');
const GRAFANA_PASSWORD = `grafana-${unique('pw')}`;
const WRONG_PASSWORD = `not-the-password-${unique('pw')}`;
const SENTINEL = `sentinel-${unique('tok')}`;
const env = { ...h.env, GRAFANA_ADMIN_PASSWORD: GRAFANA_PASSWORD, MON_E2E_API_TOKEN: SENTINEL };
const BAD_METRICS_PATH = '/nothing-here';

const components = [
  { name: 'runtime', image: images.runtime, port: 8080, metrics: {} },
  { name: 'engine', image: images.engine, port: 8081, metrics: { path: BAD_METRICS_PATH } },
];
const config = e2eConfig(h, {
  namespace,
  images,
  components,
  overrides: {
    nats: { image: images.nats, exporter: { image: servers.exporter } },
    monitoring: { enabled: true, prometheus: { image: servers.prometheus }, grafana: { image: grafana } },
    registries: e2eRegistries(h, ['nats', 'runtime', 'engine', 'prometheus', 'grafana']),
    secrets: { data: { API_TOKEN: 'MON_E2E_API_TOKEN' } },
  },
});
const configFile = writeConfig(config);

interface Smoke {
  code: number;
  stderr: string;
  dir: string;
  report: Report;
  result: (name: string) => NamedResult;
}

async function smoke(extraEnv: Record<string, string> = {}): Promise<Smoke> {
  const dir = join(mkdtempSync(join(tmpdir(), 'demon-e2e-mon-')), 'artifacts');
  const r = await runSmoke(['--config', configFile, '--no-lock', '--artifacts', dir], { ...env, ...extraEnv });
  const report = JSON.parse(readFileSync(join(dir, 'smoke.json'), 'utf8')) as Report;
  const result = (name: string) => {
    const found = report.results.find((x) => x.name === name);
    assert.ok(found, `no "${name}" in smoke.json: ${report.results.map((x) => x.name).join(', ')}`);
    return found!;
  };
  return { code: r.code, stderr: r.stderr, dir, report, result };
}

/** Every artifact file's text, and what must never be in it. */
function assertNothingSecret(dir: string, extra: string[] = []): void {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
  assert.ok(files.includes('smoke.json') && files.includes('manifests.yaml'), files.join(', '));
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const secret of [GRAFANA_PASSWORD, SENTINEL, h.registryPassword, ...extra]) {
      assert.not.ok(
        text.includes(secret) || text.includes(Buffer.from(secret).toString('base64')),
        `${file} holds a secret value`,
      );
    }
  }
}

interface Target {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: string;
  lastError: string;
}

/** Prometheus' own view, through the API server's service proxy (which reaches the pod by IP). */
function activeTargets(): Target[] {
  const raw = kubectl(h, [
    'get',
    '--raw',
    `/api/v1/namespaces/${namespace}/services/prometheus:9090/proxy/api/v1/targets?state=active`,
  ]);
  return (JSON.parse(raw) as { data: { activeTargets: Target[] } }).data.activeTargets;
}

const mon = suite('e2e: monitoring scrapes what it should, and smoke says when it does not');
mon.before(() => {
  const r = runScript('bootstrap.mts', ['--config', configFile], env);
  if (r.code !== 0) console.error(`bootstrap for the monitoring suite failed:\n${r.stderr}`);
  assert.is(r.code, 0, r.stderr);
});
mon.after(() => deleteNamespace(h, namespace));

let first: Smoke;

mon('prometheus targets fails, naming only the component whose metrics path answers 404', async () => {
  first = await smoke();
  assert.is(first.code, 1, first.stderr);
  const targets = first.result('prometheus targets');
  assert.is(targets.status, 'failed');
  // The judge lists every expected target that is not discovered or not up: engine alone, for
  // the right reason; Prometheus itself, the NATS exporter and runtime's /metrics are not named.
  assert.match(targets.error!, /^engine \S+:8081: down \(server returned HTTP status 404 Not Found\) \(\d+ attempts? /);
  assert.not.match(targets.error!, /runtime|nats|prometheus|not discovered/);
  // The same from Prometheus itself: up, up, up, and engine down on the path it declared.
  const seen = activeTargets();
  const target = (job: string, workload?: string) => {
    const found = seen.filter((t) => t.labels.job === job && t.labels.workload === workload);
    assert.is(found.length, 1, `${job}/${workload}: ${JSON.stringify(seen.map((t) => t.labels))}`);
    return found[0]!;
  };
  assert.is(target('prometheus').health, 'up');
  const nats = target('demon-pods', 'nats');
  assert.is(nats.health, 'up', nats.lastError);
  assert.match(nats.scrapeUrl, /:7777\/metrics$/);
  const runtime = target('demon-pods', 'runtime');
  assert.is(runtime.health, 'up', runtime.lastError);
  assert.match(runtime.scrapeUrl, /:8080\/metrics$/);
  const engine = target('demon-pods', 'engine');
  assert.is(engine.health, 'down');
  assert.ok(engine.scrapeUrl.endsWith(`:8081${BAD_METRICS_PATH}`), engine.scrapeUrl);
  assert.match(engine.lastError, /404 Not Found/);
});

mon('everything else that can pass here passes; the data source fails for lack of cluster DNS', () => {
  const failed = first.report.results.filter((r) => r.status === 'failed').map((r) => r.name);
  assert.equal(failed.sort(), ['grafana data source', 'prometheus targets']);
  for (const name of ['nats client protocol', 'nats JetStream limits', 'runtime /health', 'engine /health'])
    assert.is(first.result(name).status, 'passed', name);
  // With the right password Grafana accepts the request and then cannot resolve
  // prometheus.<namespace>.svc: the stand-in answers 400 with its error, never 401.
  const datasource = first.result('grafana data source');
  assert.match(datasource.error!, /^HTTP 400: .*prometheus\.[^ ]*\.svc/);
  assert.not.match(datasource.error!, /401/);
  assert.match(first.stderr, /smoke FAILED: 2 of \d+ checks failed/);
  assertNothingSecret(first.dir);
});

mon('a wrong Grafana password fails the data source check with 401, and goes nowhere', async () => {
  const r = await smoke({ GRAFANA_ADMIN_PASSWORD: WRONG_PASSWORD });
  assert.is(r.code, 1, r.stderr);
  const datasource = r.result('grafana data source');
  assert.is(datasource.status, 'failed');
  assert.match(
    datasource.error!,
    /^HTTP 401: .*\(the admin password from monitoring\.grafana\.adminPasswordEnv was refused\) \(1 attempt in /,
  );
  assert.not.ok(r.stderr.includes(WRONG_PASSWORD));
  assertNothingSecret(r.dir, [WRONG_PASSWORD]);
});

mon('a JetStream memory store too big for the NATS memory limit is refused: exit 2, nothing created', () => {
  const ns = unique('e2e-mon-oom');
  const file = writeConfig({
    ...config,
    namespace: ns,
    nats: { image: images.nats, jetstream: { maxMemory: '1Gi' }, resources: { limits: { memory: '512Mi' } } },
  });
  try {
    const r = runScript('bootstrap.mts', ['--config', file], env);
    assert.is(r.code, 2, r.stderr);
    // Both numbers, the need they add up to, and the way out.
    assert.match(
      r.stderr,
      /nats\.jetstream\.maxMemory: 1 GiB of memory store needs a container memory limit of at least 1\.6 GiB \(.*\), but nats\.resources\.limits\.memory is 512 MiB: NATS would be OOMKilled once the store fills; lower maxMemory to at most \d+ MiB or raise the limit/,
    );
    assert.not.match(r.stderr, /✓ (preflight|cluster|apply)/);
    const namespaces = kubectlJson<{ items: { metadata: { name: string } }[] }>(h, ['get', 'namespaces']).items;
    assert.not.ok(
      namespaces.some((n) => n.metadata.name === ns),
      `namespace ${ns} exists`,
    );
  } finally {
    deleteNamespace(h, ns);
  }
});

mon.run();
