import { createServer } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfig } from '../lib/config/load.ts';
import { Kubectl } from '../lib/tools/kubectl.ts';
import type { Lock } from '../lib/images/lock.ts';
import type { K8sObject } from '../lib/render/manifests.ts';
import type { Pod } from '../lib/wait/podstatus.ts';
import { Children } from '../lib/core/children.ts';
import { ProcessRunner } from '../lib/core/exec.ts';
import { Redactor } from '../lib/core/redact.ts';
import { TEMPLATES_DIR } from '../lib/core/session.ts';
import { checkDigests, judgeProxyResult, planChecks, runHealthChecks, type PlannedCheck } from '../lib/smoke/checks.ts';
import { smokePlan } from '../lib/smoke/steps.ts';
import { serviceProxyPath } from '../lib/tools/api-proxy.ts';
import { allGone, fakeKubectl } from './helpers/fake-kubectl.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';
import { planFor } from './helpers/plan.ts';

const plan = suite('smoke: checks planned from the config');
plan('the default stack: NATS on its monitor port, each component on its port, one check per distinct path', () => {
  const checks = planChecks(parseConfig({}));
  assert.equal(
    checks.map((c) => [c.name, c.service, c.port, c.probes.join('+')]),
    [
      ['nats /healthz', 'nats', 8222, 'liveness'],
      ['nats /healthz?js-enabled-only=true', 'nats', 8222, 'readiness'],
      ['runtime /health', 'runtime', 8080, 'liveness'],
      ['runtime /ready', 'runtime', 8080, 'readiness'],
      ['engine /health', 'engine', 8081, 'liveness'],
      ['engine /ready', 'engine', 8081, 'readiness'],
      ['operate-ui /health', 'operate-ui', 3000, 'liveness+readiness'],
    ],
  );
});
plan('monitoring on adds Prometheus on its port and Grafana on its Service port', () => {
  const checks = planChecks(parseConfig({ monitoring: { enabled: true } })).filter((c) =>
    ['prometheus', 'grafana'].includes(c.workload),
  );
  assert.equal(
    checks.map((c) => [c.name, c.port]),
    [
      ['prometheus /-/healthy', 9090],
      ['prometheus /-/ready', 9090],
      ['grafana /api/health', 80],
    ],
  );
});
plan('a component with 0 replicas is planned as skipped, not failed', () => {
  const checks = planChecks(
    parseConfig({ components: [{ name: 'runtime', image: 'x/runtime:1', port: 8080, replicas: 0 }] }),
  );
  assert.match(checks.find((c) => c.workload === 'runtime')!.skip ?? '', /replicas: 0/);
});

interface Probe {
  httpGet: { path: string; port: string | number };
}
interface PodSpec {
  containers: { ports?: { name?: string; containerPort: number }[]; livenessProbe?: Probe; readinessProbe?: Probe }[];
}

/** The probed container port and path set, and which Service port reaches which container port. */
function probesAndServices(manifests: K8sObject[]) {
  const probes = new Set<string>();
  const servicePorts = new Map<string, number>();
  const named = new Map<string, Map<string, number>>();
  for (const o of manifests) {
    if (o.kind === 'Deployment' || o.kind === 'StatefulSet') {
      const spec = (o.spec as { template: { spec: PodSpec } }).template.spec;
      const ports = new Map(spec.containers.flatMap((c) => c.ports ?? []).map((p) => [p.name ?? '', p.containerPort]));
      named.set(o.metadata.name, ports);
      for (const c of spec.containers)
        for (const probe of [c.livenessProbe, c.readinessProbe]) {
          if (probe)
            probes.add(
              `${o.metadata.name} ${typeof probe.httpGet.port === 'number' ? probe.httpGet.port : ports.get(probe.httpGet.port)} ${probe.httpGet.path}`,
            );
        }
    }
  }
  for (const o of manifests.filter((m) => m.kind === 'Service')) {
    for (const p of (o.spec as { ports: { port: number; targetPort: string | number }[] }).ports) {
      const target = typeof p.targetPort === 'number' ? p.targetPort : named.get(o.metadata.name)?.get(p.targetPort);
      if (target !== undefined) servicePorts.set(`${o.metadata.name}:${p.port}`, target);
    }
  }
  return { probes, servicePorts };
}

plan('every check hits exactly a path and container port the rendered probes use (everything enabled)', () => {
  const { config, plan: rendered } = planFor('tests/fixtures/valid-everything.yaml');
  const { probes, servicePorts } = probesAndServices(rendered.manifests);
  const checks = planChecks(config);
  const reached = new Set(checks.map((c) => `${c.workload} ${servicePorts.get(`${c.service}:${c.port}`)} ${c.path}`));
  assert.equal([...reached].sort(), [...probes].sort());
});

const proxy = suite('smoke: the API-server service proxy');
proxy('the path names namespace, Service, port and the health path, query included', () => {
  assert.is(
    serviceProxyPath('demon', 'nats', 8222, '/healthz?js-enabled-only=true'),
    '/api/v1/namespaces/demon/services/nats:8222/proxy/healthz?js-enabled-only=true',
  );
});
proxy("recorded kubectl answers become HTTP statuses with the service's own words", () => {
  assert.equal(judgeProxyResult(0, recorded('proxy-health-ok.stdout'), ''), {
    ok: true,
    status: 200,
    detail: 'HTTP 200',
  });
  assert.equal(judgeProxyResult(1, '', recorded('proxy-health-500.stderr')), {
    ok: false,
    status: 500,
    detail: 'HTTP 500: health: database unreachable',
  });
  assert.equal(judgeProxyResult(1, '', recorded('proxy-path-404.stderr')), {
    ok: false,
    status: 404,
    detail: 'HTTP 404: Error from server (NotFound): the server could not find the requested resource',
  });
  assert.match(
    judgeProxyResult(1, '', recorded('proxy-no-endpoints.stderr')).detail,
    /^HTTP 503: .*no endpoints available for service "operate-ui"/,
  );
  assert.match(judgeProxyResult(1, '', recorded('proxy-no-service.stderr')).detail, /services "nosuch" not found/);
});

// The port-forward path runs a fake kubectl (tests/helpers/fake-kubectl.ts) forwarding to a
// real local server; the proxy path goes through the FakeRunner.
let healthy = true;
const server = createServer((req, res) => {
  res.statusCode = req.url === '/broken' || !healthy ? 500 : 200;
  res.end(res.statusCode === 200 ? 'ok' : 'database unreachable');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const fake = fakeKubectl((server.address() as { port: number }).port);
const FAST = { deadlineMs: 1_500, attemptTimeoutMs: 1_000, initialDelayMs: 50, maxDelayMs: 200, maxAttempts: 20 };
const check = (name: string, path: string, service = 'runtime', port = 8080): PlannedCheck => ({
  name,
  workload: service,
  service,
  port,
  path,
  probes: ['liveness'],
});
/** kubectl calls answered by the FakeRunner; port-forward streams run the fake kubectl for real. */
const options = (runner: FakeRunner, mode: Parameters<typeof fake.env>[0], extra: object = {}) => {
  const children = new Children();
  const real = new ProcessRunner({
    env: fake.env(mode, { FAKE_KUBECTL_STDERR: recorded('port-forward-no-service.stderr') }),
    redactor: new Redactor(),
    children,
  });
  const hybrid = Object.assign(runner, { stream: real.stream.bind(real) });
  return {
    kubectl: new Kubectl(hybrid, { context: 'demon-e2e' }),
    namespace: 'demon',
    children,
    policy: FAST,
    ...extra,
  };
};

const run = suite('smoke: running the health checks');
run.after(async () => {
  await new Promise((resolve) => server.close(resolve));
  assert.ok(await allGone(fake.pids()), 'a port-forward was left running');
});
run('checks of one Service share a forward; all run at once; every forward is stopped after', async () => {
  const o = options(new FakeRunner(), 'forward');
  const results = await runHealthChecks(
    [
      check('runtime /health', '/health'),
      check('runtime /ready', '/ready'),
      check('engine /health', '/health', 'engine', 8081),
    ],
    o,
  );
  assert.equal(
    results.map((r) => [r.name, r.status, r.method, r.attempts]),
    [
      ['runtime /health', 'passed', 'port-forward', 1],
      ['runtime /ready', 'passed', 'port-forward', 1],
      ['engine /health', 'passed', 'port-forward', 1],
    ],
  );
  assert.is(fake.pids().length, 2, 'one kubectl per Service port');
  assert.is(o.children.size, 0);
});
run('a failing path fails, named, with status, body and attempts', async () => {
  const [result] = await runHealthChecks([check('runtime /broken', '/broken')], options(new FakeRunner(), 'forward'));
  assert.is(result!.status, 'failed');
  assert.match(result!.error!, /^HTTP 500: database unreachable \(\d+ attempts? in \d\.\ds via port-forward\)$/);
});
run('a forward killed mid-check is restarted and the check recovers', async () => {
  let killed = 0;
  const o = options(new FakeRunner(), 'forward', {
    policy: { ...FAST, deadlineMs: 5_000 },
    onAttempt: async (e: { attempt: number; forwardPid?: number }) => {
      if (e.attempt === 1 && e.forwardPid) {
        process.kill(e.forwardPid, 'SIGKILL');
        await allGone([e.forwardPid]);
        killed += 1;
      }
    },
  });
  const [result] = await runHealthChecks([check('runtime /health', '/health')], o);
  assert.is(killed, 1);
  assert.equal([result!.status, result!.method, result!.attempts], ['passed', 'port-forward', 2]);
});
run('when port-forward cannot work, the API-server proxy is used and the report says why', async () => {
  const runner = new FakeRunner().on((argv) => argv.includes('--raw'), { stdout: recorded('proxy-health-ok.stdout') });
  const [result] = await runHealthChecks([check('runtime /health', '/health')], options(runner, 'fail'));
  assert.is(result!.status, 'passed');
  assert.match(
    result!.method!,
    /^api-proxy \(port-forward failed: port-forward to svc\/runtime:8080: kubectl exited \(code 1\) before forwarding: Error from server \(NotFound\)/,
  );
  assert.equal(runner.argvs()[0], [
    'kubectl',
    '--context',
    'demon-e2e',
    'get',
    '--raw',
    '/api/v1/namespaces/demon/services/runtime:8080/proxy/health',
    '--request-timeout=1s',
  ]);
});
run('--method api-proxy never starts a port-forward; a 500 through the proxy fails with the body', async () => {
  const before = fake.pids().length;
  const runner = new FakeRunner().on((argv) => argv.includes('--raw'), {
    exitCode: 1,
    stderr: recorded('proxy-health-500.stderr'),
  });
  const [result] = await runHealthChecks(
    [check('runtime /health', '/health')],
    options(runner, 'forward', { method: 'api-proxy' }),
  );
  assert.is(fake.pids().length, before);
  assert.equal([result!.status, result!.method], ['failed', 'api-proxy']);
  assert.match(result!.error!, /^HTTP 500: health: database unreachable/);
});
run('--method port-forward does not fall back', async () => {
  const [result] = await runHealthChecks(
    [check('runtime /health', '/health')],
    options(new FakeRunner(), 'fail', { method: 'port-forward' }),
  );
  assert.equal([result!.status, result!.attempts], ['failed', 1]);
  assert.match(result!.error!, /kubectl exited \(code 1\) before forwarding/);
});
run('a skipped check runs nothing', async () => {
  const [result] = await runHealthChecks(
    [{ ...check('runtime /health', '/health'), skip: 'replicas: 0, nothing to check' }],
    options(new FakeRunner(), 'forward'),
  );
  assert.equal([result!.status, result!.error], ['skipped', 'replicas: 0, nothing to check']);
});

const digest = suite('smoke: running images against the lock');
const pods = (JSON.parse(recorded('smoke-pods-ready.json')) as { items: Pod[] }).items;
const RUNTIME = 'sha256:4009e8ab6aa1160754be5712fb03e187bc8bd69664ee4c3b9473ed9f8f291b50';
const OTHER = `sha256:${'0'.repeat(64)}`;
const lockWith = (images: Record<string, { digest: string; byDigest?: boolean }>): Lock => ({
  version: 1,
  images: Object.fromEntries(
    Object.entries(images).map(([name, { digest, byDigest = true }]) => [
      name,
      {
        repository: `127.0.0.1:5001/demon-e2e/${name}`,
        tags: ['t'],
        digest,
        pinned: byDigest ? `127.0.0.1:5001/demon-e2e/${name}@${digest}` : `127.0.0.1:5001/demon-e2e/${name}:t`,
        sourceCommit: 'c',
        builtAt: 'now',
        contentHash: 'h',
      },
    ]),
  ),
});
const WORKLOADS = ['nats', 'runtime', 'engine', 'operate-ui'];
digest('the recorded pods run exactly what the lock pins: passed', () => {
  const [result] = checkDigests(lockWith({ runtime: { digest: RUNTIME } }), 'images.lock.json', pods, WORKLOADS);
  assert.equal([result!.name, result!.status], ['runtime image digest', 'passed']);
});
digest('a different digest fails with the pod, the container and both digests', () => {
  const [result] = checkDigests(lockWith({ runtime: { digest: OTHER } }), 'images.lock.json', pods, WORKLOADS);
  assert.is(result!.status, 'failed');
  assert.is(
    result!.error,
    `pod runtime-558b65dbdf-n94jv container runtime runs ${RUNTIME}, but images.lock.json pins ${OTHER}`,
  );
});
digest('pinned by tag only, or not deployed here: skipped and said why; no pods at all: failed', () => {
  const results = checkDigests(
    lockWith({ runtime: { digest: RUNTIME, byDigest: false }, extra: { digest: OTHER } }),
    'l.json',
    pods,
    WORKLOADS,
  );
  assert.equal(
    results.map((r) => [r.status, r.error]),
    [
      ['skipped', 'l.json pins runtime by tag, not by digest'],
      ['skipped', 'extra is in l.json but not deployed by this config'],
    ],
  );
  const [none] = checkDigests(lockWith({ runtime: { digest: RUNTIME } }), 'l.json', [], WORKLOADS);
  assert.match(none!.error!, /no running pod of runtime/);
});

const plans = suite('smoke: the plan needs no credentials');
plans('with every secret value set, it is the bootstrap plan; without, the Secrets are left out with a warning', () => {
  const config = parseConfig({ monitoring: { enabled: true } });
  const inputs = { config, configFile: 'config/demon.yaml', templatesDir: TEMPLATES_DIR, redactor: new Redactor() };
  const warnings: string[] = [];
  const full = smokePlan({ ...inputs, env: { GRAFANA_ADMIN_PASSWORD: 'sentinel-password' } }, (w) => warnings.push(w));
  assert.is(full.secrets.length, 1);
  assert.equal(warnings, []);
  const bare = smokePlan({ ...inputs, env: {} }, (w) => warnings.push(w));
  assert.is(bare.secrets.length, 0);
  assert.equal(
    bare.manifests.map((o) => o.kind),
    full.manifests.map((o) => o.kind),
  );
  assert.match(warnings[0]!, /GRAFANA_ADMIN_PASSWORD is not set .*cannot mask their values/);
});

plan.run();
proxy.run();
run.run();
digest.run();
plans.run();
