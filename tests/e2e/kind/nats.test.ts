/**
 * NATS as the components use it, on the lane's kind cluster: JetStream data written through
 * the client protocol survives the NATS pod being deleted (its volume comes back with it), and
 * a component that cannot reach NATS at its $NATS_URL is not called ready: bootstrap and smoke
 * fail naming it, with what its readiness endpoint says.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Report } from '../../../lib/smoke/report.ts';
import { runScript } from '../../helpers/cli.ts';
import { ensureLaneStack } from './stack.ts';
import {
  LANE_CLUSTER,
  LANE_NAMESPACE,
  NATS_READY_PATH,
  forward,
  kindConfig,
  kubectl,
  laneContext,
  laneEnv,
  laneImages,
  natsRequest,
  registryEntry,
} from './support.ts';

ensureLaneStack();
const context = laneContext();
const STREAM = `LANE_${Date.now().toString(36).toUpperCase()}`;

async function withNats<T>(use: (port: number) => Promise<T>): Promise<T> {
  const pf = await forward(context, LANE_NAMESPACE, 'svc/nats', [4222]);
  try {
    return await use(pf.ports[0]!);
  } finally {
    pf.close();
  }
}

const podUid = () => kubectl(context, ['get', 'pod', 'nats-0', '-n', LANE_NAMESPACE, '-o', 'jsonpath={.metadata.uid}']);

const nats = suite('kind: NATS keeps its data and the components find it');

nats('a JetStream file stream keeps its messages across a NATS pod deletion', async () => {
  await withNats(async (port) => {
    const created = JSON.parse(
      await natsRequest(
        port,
        `$JS.API.STREAM.CREATE.${STREAM}`,
        JSON.stringify({ name: STREAM, subjects: [`${STREAM.toLowerCase()}.>`], storage: 'file' }),
      ),
    ) as { error?: unknown; config?: { name: string } };
    assert.is(created.error, undefined, JSON.stringify(created));
    const ack = JSON.parse(await natsRequest(port, `${STREAM.toLowerCase()}.event`, 'ritual started')) as {
      stream?: string;
      seq?: number;
    };
    assert.equal(ack, { stream: STREAM, seq: 1 });
  });
  const before = podUid();
  kubectl(context, ['delete', 'pod', 'nats-0', '-n', LANE_NAMESPACE, '--wait=true', '--timeout=60s']);
  // The StatefulSet makes a new nats-0; wait for it (bounded) to be another pod, and Ready.
  const deadline = Date.now() + 120_000;
  while (podUid() === before || podUid() === '') {
    if (Date.now() > deadline) throw new Error('nats-0 was not re-created within 120 s');
    await new Promise((r) => setTimeout(r, 1000));
  }
  kubectl(context, ['wait', 'pod/nats-0', '-n', LANE_NAMESPACE, '--for=condition=Ready', '--timeout=120s']);
  await withNats(async (port) => {
    const info = JSON.parse(await natsRequest(port, `$JS.API.STREAM.INFO.${STREAM}`, '')) as {
      state?: { messages: number };
    };
    assert.is(info.state?.messages, 1, JSON.stringify(info));
    await natsRequest(port, `$JS.API.STREAM.DELETE.${STREAM}`, '');
  });
});

nats('a component pointed at the wrong NATS is not ready: bootstrap and smoke name it and show why', () => {
  const images = laneImages();
  const namespace = 'demon-wiring';
  const wrongUrl = 'nats://nats.nowhere.svc:4222';
  const file = kindConfig(LANE_CLUSTER, {
    namespace,
    nats: { image: images.nats, exporter: { image: images.exporter } },
    components: [
      {
        name: 'runtime',
        image: images.runtime,
        port: 8080,
        health: { liveness: '/health', readiness: NATS_READY_PATH },
        env: { NATS_URL: wrongUrl },
      },
    ],
    registries: [registryEntry(['nats', 'runtime'])],
    wait: { timeout: '90s', readinessGrace: '20s' },
  });
  try {
    const boot = runScript('bootstrap.mts', ['--config', file], laneEnv());
    assert.is(boot.code, 1, boot.stderr);
    assert.match(boot.stderr, /✗ wait for workloads/);
    assert.match(boot.stderr, /[Rr]eadiness probe failed.*503/);
    // The kubelet's event has only the status; the tool asked the endpoint what it says.
    assert.ok(
      boot.stderr.includes(`readiness ${NATS_READY_PATH} says: HTTP 503: cannot reach nats at ${wrongUrl}`),
      boot.stderr,
    );
    const dir = mkdtempSync(join(tmpdir(), 'demon-kind-wiring-'));
    const smoke = runScript('smoke.mts', ['--config', file, '--no-lock', '--artifacts', dir], laneEnv());
    assert.is(smoke.code, 1, smoke.stderr);
    const report = JSON.parse(readFileSync(join(dir, 'smoke.json'), 'utf8')) as Report;
    const ready = report.results.find((r) => r.name === 'workloads ready')!;
    assert.is(ready.status, 'failed');
    assert.match(ready.error!, `cannot reach nats at ${wrongUrl}`);
  } finally {
    // Not teardown.mts: on a kind cluster the tool created, teardown deletes the whole cluster.
    kubectl(context, ['delete', 'namespace', namespace, '--wait=false']);
  }
});

nats.run();
