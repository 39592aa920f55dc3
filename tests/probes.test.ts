/**
 * The checks that the stack does its job, and the diagnosis of what the real servers showed:
 * judged on outputs recorded from nats-server 2.10.27, Prometheus 2.45.0 and the e2e cluster
 * (tests/fixtures/recorded/README.md). Grafana's answer is its documented one (Grafana is a
 * stand-in in e2e).
 */
import { createServer } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfig } from '../lib/config/load.ts';
import { functionalChecks } from '../lib/smoke/checks.ts';
import { judgeDatasource, judgeJetStream, judgeTargets, natsPing } from '../lib/smoke/probes.ts';
import { Kubectl } from '../lib/tools/kubectl.ts';
import { diagnoseFinding } from '../lib/wait/diagnose.ts';
import { describeOom, oomKills, podFindings, type Pod } from '../lib/wait/podstatus.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';
import type { StreamHandle } from '../lib/core/stream.ts';
import { Redactor } from '../lib/core/redact.ts';
import { fakeNats } from './helpers/fake-nats.ts';

const asIs = (text: string) => text;
const MiB = 1024 * 1024;

const probes = suite('function checks: judging what the servers answer');
probes('JetStream: on, with the configured limits (recorded /jsz of nats-server 2.10.27)', () => {
  const jsz = recorded('nats-jsz.json');
  assert.equal(judgeJetStream({ maxMemory: 256 * MiB, maxStorage: 1024 * MiB }, asIs)(200, jsz), {
    ok: true,
    status: 200,
    detail: 'JetStream on: max_memory 268435456, max_storage 1073741824',
  });
  const other = judgeJetStream({ maxMemory: 512 * MiB, maxStorage: 1024 * MiB }, asIs)(200, jsz);
  assert.is(other.ok, false);
  assert.is(other.retryable, false, 'a wrong limit does not fix itself: no retries');
  assert.match(
    other.detail,
    /max_memory 268435456 and max_storage 1073741824, but the config sets 536870912 and 1073741824/,
  );
  assert.match(
    judgeJetStream({ maxMemory: 1, maxStorage: 1 }, asIs)(200, '{"disabled":true,"config":{}}').detail,
    /JetStream is disabled/,
  );
});
probes('Prometheus targets: every expected one discovered and up; a down one names its error (recorded 2.45.0)', () => {
  const targets = recorded('prometheus-targets-one-down.json');
  const outcome = judgeTargets(
    [{ job: 'prometheus' }, { job: 'demon-pods', workload: 'nats' }, { job: 'demon-pods', workload: 'runtime' }],
    asIs,
  )(200, targets);
  assert.is(outcome.ok, false);
  assert.match(
    outcome.detail,
    /nats 127\.0\.0\.1:7777: down \(Get "http:\/\/127\.0\.0\.1:7777\/metrics": dial tcp .*connection refused\)/,
  );
  assert.match(outcome.detail, /runtime: not discovered/);
  assert.equal(judgeTargets([{ job: 'prometheus' }], asIs)(200, targets), {
    ok: true,
    status: 200,
    detail: '1 targets up: prometheus',
  });
});
probes("Grafana's data source health: OK passes; a refused password is not retried and says where it came from", () => {
  assert.is(
    judgeDatasource(asIs)(200, '{"message":"Successfully queried the Prometheus API.","status":"OK"}').ok,
    true,
  );
  const refused = judgeDatasource(asIs)(401, '{"message":"invalid username or password"}');
  assert.equal([refused.ok, refused.retryable], [false, false]);
  assert.match(refused.detail, /monitoring.grafana.adminPasswordEnv was refused/);
  assert.match(
    judgeDatasource(asIs)(
      200,
      '{"status":"ERROR","message":"Post \\"http://prometheus:9090/api/v1/query\\": dial tcp: connection refused"}',
    ).detail,
    /data source unhealthy/,
  );
});
probes('NATS client protocol: INFO, CONNECT + PING, PONG; anything else is named', async () => {
  const nats = await fakeNats();
  assert.equal(await natsPing(nats.port, 2_000), { ok: true, detail: 'INFO, PING, PONG (nats-server 2.10.27)' });
  await nats.close();
  const http = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const outcome = await natsPing((http.address() as { port: number }).port, 2_000);
  http.close();
  assert.match(outcome.detail, /not a NATS server: it said "HTTP\/1.1 400 Bad Request"/);
});
probes(
  'planned: NATS and JetStream always; with monitoring, Prometheus targets (NATS exporter, components with metrics) and Grafana',
  () => {
    assert.equal(
      functionalChecks(parseConfig({})).map((c) => c.name),
      ['nats client protocol', 'nats JetStream limits'],
    );
    const config = parseConfig({
      monitoring: { enabled: true },
      components: [
        { name: 'runtime', image: 'ghcr.io/afewell-hh/demon-runtime:main', port: 8080, metrics: { path: '/metrics' } },
        { name: 'engine', image: 'ghcr.io/afewell-hh/demon-engine:main', port: 8081 },
      ],
    });
    const checks = functionalChecks(config);
    assert.equal(
      checks.map((c) => c.name),
      ['nats client protocol', 'nats JetStream limits', 'prometheus targets', 'grafana data source'],
    );
    assert.equal(checks[2]!.probe, {
      kind: 'targets',
      expected: [
        { job: 'prometheus' },
        { job: 'demon-pods', workload: 'nats' },
        { job: 'demon-pods', workload: 'runtime' },
      ],
    });
    assert.ok(checks[2]!.deadlineMs! > 30_000, 'targets get two scrape intervals to be scraped once');
  },
);
probes.run();

const diagnosis = suite('diagnosis: what the real servers showed');
const oomPod = JSON.parse(recorded('pod-oomkilled.json')) as Pod;
diagnosis('a container the kernel killed for memory is named, with its limit (recorded pod)', () => {
  const kills = oomKills([oomPod]);
  assert.equal(kills, [{ pod: 'nats-0', container: 'nats', restarts: 1, limit: '32Mi' }]);
  assert.is(describeOom(kills[0]!), 'pod nats-0 container nats was OOMKilled (memory limit 32Mi) and restarted 1 time');
});
diagnosis('a container that exited (not waiting) has its reason, never a blank', () => {
  const exited: Pod = JSON.parse(JSON.stringify(oomPod)) as Pod;
  exited.status!.containerStatuses![0]!.restartCount = 3;
  const [finding] = podFindings(exited);
  assert.is(finding!.reason, 'OOMKilled');
  assert.is(finding!.cause, 'crash-loop');
  assert.is(finding!.previousLogs, false, 'it just exited: the error is in the current run');
});
diagnosis(
  'an unbound claim is named, with its own event, not only "unbound immediate PersistentVolumeClaims"',
  async () => {
    const runner = new FakeRunner()
      .on((a) => a.includes('involvedObject.kind=PersistentVolumeClaim,involvedObject.name=data-nats-0'), {
        stdout: recorded('pvc-unbound-claim-events.json'),
      })
      .on((a) => a.includes('involvedObject.name=nats-0'), { stdout: recorded('pvc-unbound-pod-events.json') })
      .on((a) => a.includes('pod') && a.includes('nats-0'), { stdout: recorded('pvc-unbound-pod.json') });
    const pod = JSON.parse(recorded('pvc-unbound-pod.json')) as Pod;
    const [finding] = podFindings(pod);
    const text = await diagnoseFinding(new Kubectl(runner, { context: 'demon-e2e' }), 'rec-pvc', finding!);
    assert.match(text, /pod has unbound immediate PersistentVolumeClaims/);
    assert.match(
      text,
      /claim data-nats-0:\n {4}\S+ +Normal +FailedBinding.*: no persistent volumes available for this claim and no storage class is set/,
    );
  },
);
diagnosis(
  'a failing readiness probe: the endpoint is asked once through a port-forward, its words shown masked',
  async () => {
    // busybox httpd's real CGI answer (bare-LF headers, as the kubelet's prober accepts).
    const answer = recorded('readiness-cgi-503.http').replace('127.0.0.1:1', 'sekrit-host:1');
    const server = createServer((socket) => socket.end(answer));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const pod = {
      kind: 'Pod',
      metadata: { name: 'runtime-1' },
      spec: {
        containers: [
          {
            name: 'runtime',
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/cgi-bin/nats-ready', port: 'http' } },
          },
        ],
      },
    };
    const forwards: string[][] = [];
    const runner = Object.assign(
      new FakeRunner()
        .on((a) => a.includes('events'), { stdout: '{"items":[]}' })
        .on((a) => a.includes('logs'), { stdout: '' })
        .on((a) => a.includes('pod') && a.includes('runtime-1'), { stdout: JSON.stringify(pod) }),
      {
        stream(argv: string[], onStdout: (chunk: string) => void): StreamHandle {
          forwards.push(argv);
          setImmediate(() => onStdout(`Forwarding from 127.0.0.1:${port} -> 8080\n`));
          let stopped: (value: { exitCode: null; signal: 'SIGTERM'; stderr: string }) => void = () => {};
          const exited = new Promise<{ exitCode: null; signal: 'SIGTERM'; stderr: string }>((r) => (stopped = r));
          return {
            pid: 1,
            exited,
            stop: () => stopped({ exitCode: null, signal: 'SIGTERM', stderr: '' }),
            serving() {},
          };
        },
      },
    );
    const redactor = new Redactor();
    redactor.add('sekrit-host');
    try {
      const text = await diagnoseFinding(new Kubectl(runner, { context: 'kind-demon' }, redactor), 'demon', {
        cause: 'readiness',
        pod: 'runtime-1',
        container: 'runtime',
        reason: 'NotReady',
        message: 'running but not ready (its readiness probe is failing)',
      });
      assert.match(
        text,
        "readiness /cgi-bin/nats-ready says: HTTP 503: cannot reach nats at nats://***:1: nc: can't connect to remote host",
      );
      assert.not.match(text, 'sekrit');
      assert.equal(
        forwards[0]!.slice(-6, -2),
        ['-n', 'demon', 'pod/runtime-1', ':8080'],
        'the named port resolved to 8080',
      );
    } finally {
      server.close();
    }
  },
);
diagnosis.run();
