/**
 * The README's first command for real: `bootstrap.mts` with provider kind creates a kind
 * cluster (kind v0.27.0, the offline node image), deploys the whole stack (real NATS with a
 * volume from kind's local-path provisioner, real Prometheus and the NATS exporter, the Grafana
 * stand-in) with images pulled from an authenticated registry through the tool's pull Secret,
 * waits until it is ready, and a second run reuses the cluster and changes nothing.
 * The cluster stays for the suites after this one (teardown.test.ts deletes it).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CREATED_BY, MANAGED_BY } from '../../../lib/render/names.ts';
import { runScript } from '../../helpers/cli.ts';
import {
  LANE_CLUSTER,
  LANE_NAMESPACE,
  NATS_READY_PATH,
  REGISTRY,
  kindClusters,
  kindConfig,
  kindLane,
  kubectl,
  laneContext,
  laneEnv,
  laneStack,
  remember,
  secretsOfLane,
  tool,
} from './support.ts';

const env = laneEnv();
const configFile = kindConfig(LANE_CLUSTER, laneStack());

interface PodList {
  items: {
    metadata: { name: string; labels: Record<string, string> };
    spec: { imagePullSecrets?: { name: string }[]; containers: { name: string; image: string }[] };
    status: { containerStatuses?: { name: string; ready: boolean; restartCount: number; imageID: string }[] };
  }[];
}
const pods = (namespace = LANE_NAMESPACE) =>
  JSON.parse(kubectl(laneContext(), ['get', 'pods', '-n', namespace, '-o', 'json'])) as PodList;

const boot = suite('kind: bootstrap creates a kind cluster and deploys the stack');

boot.before(() => {
  // A leftover from an interrupted earlier run would turn "created" into "reused".
  if (kindClusters().includes(LANE_CLUSTER)) tool('kind', ['delete', 'cluster', '--name', LANE_CLUSTER]);
  remember(LANE_CLUSTER);
});

boot('first run: creates the cluster, pulls through the pull Secret, waits for every workload', () => {
  const r = runScript('bootstrap.mts', ['--config', configFile], env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, `✓ cluster: created kind cluster "${LANE_CLUSTER}" (context ${laneContext()})`);
  assert.match(r.stderr, new RegExp(`✓ apply: namespace ${LANE_NAMESPACE} created; \\d+ created`));
  assert.match(r.stderr, /✓ wait for workloads: 6 workloads ready/);
  for (const secret of secretsOfLane()) assert.not.ok((r.stdout + r.stderr).includes(secret), 'a secret in the output');
  assert.ok(kindClusters().includes(LANE_CLUSTER));
});

boot('the cluster is marked as ours, and the kind config reached kind (node image, registry mirror)', () => {
  const nodes = kubectl(laneContext(), ['get', 'nodes', '-l', `${CREATED_BY}=${MANAGED_BY}`, '-o', 'name']);
  assert.is(nodes.trim(), `node/${LANE_CLUSTER}-control-plane`);
  const image = tool('docker', ['inspect', '--format', '{{.Config.Image}}', `${LANE_CLUSTER}-control-plane`]).trim();
  assert.is(image, kindLane().nodeImage);
  const containerd = tool('docker', ['exec', `${LANE_CLUSTER}-control-plane`, 'cat', '/etc/containerd/config.toml']);
  assert.match(containerd, `endpoint = ["http://${REGISTRY.container}:5000"]`);
});

boot('every pod runs the registry image it was given, pulled with the pull Secret', () => {
  const list = pods();
  assert.is(list.items.length, 6);
  for (const pod of list.items) {
    assert.equal(pod.spec.imagePullSecrets, [{ name: 'demon-pull-kindreg' }], pod.metadata.name);
    for (const container of pod.spec.containers)
      assert.ok(container.image.startsWith(`${REGISTRY.host}/demon/`), container.image);
    assert.ok(
      pod.status.containerStatuses?.every((c) => c.ready && c.imageID.includes('@sha256:')),
      pod.metadata.name,
    );
  }
});

boot('runtime is ready only because it reached NATS at $NATS_URL, by cluster DNS and the Service IP', () => {
  const runtime = pods().items.find((p) => p.metadata.name.startsWith('runtime-'))!;
  const probe = kubectl(laneContext(), [
    'get',
    'pod',
    runtime.metadata.name,
    '-n',
    LANE_NAMESPACE,
    '-o',
    'jsonpath={.spec.containers[0].readinessProbe.httpGet.path} {.spec.containers[0].env[?(@.name=="NATS_URL")].value}',
  ]);
  assert.is(probe, `${NATS_READY_PATH} nats://nats.${LANE_NAMESPACE}.svc:4222`);
  // The same CGI, asked through the API server's proxy: it answers with what it saw.
  const answer = kubectl(laneContext(), [
    'get',
    '--raw',
    `/api/v1/namespaces/${LANE_NAMESPACE}/services/runtime:8080/proxy${NATS_READY_PATH}`,
  ]);
  assert.match(answer, `nats reachable at nats://nats.${LANE_NAMESPACE}.svc:4222`);
});

boot('NATS keeps JetStream on a volume the local-path provisioner bound', () => {
  const claims = JSON.parse(kubectl(laneContext(), ['get', 'pvc', '-n', LANE_NAMESPACE, '-o', 'json'])) as {
    items: { metadata: { name: string; labels?: Record<string, string> }; status: { phase: string } }[];
  };
  const nats = claims.items.find((c) => c.metadata.name.includes('nats'));
  assert.ok(nats, 'no NATS claim');
  assert.is(nats.status.phase, 'Bound');
  assert.is(nats.metadata.labels?.['app.kubernetes.io/part-of'], 'demon');
});

boot('second run: reuses the cluster and changes nothing', () => {
  const r = runScript('bootstrap.mts', ['--config', configFile], env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, `✓ cluster: reused kind cluster "${LANE_CLUSTER}"`);
  assert.match(r.stderr, /✓ apply: \d+ unchanged/);
  assert.match(r.stderr, /unchanged: the cluster already matched the config/);
  assert.ok(pods().items.every((p) => p.status.containerStatuses?.every((c) => c.restartCount === 0)));
});

boot.run();
