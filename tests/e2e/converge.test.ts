/**
 * Converge on a real cluster: what a config drops is pruned, exactly that and nothing else.
 *   - A full stack (3 components, NATS with a PersistentVolumeClaim, Prometheus with one,
 *     the exporter sidecar, Grafana), then a config without `engine` and without monitoring:
 *     --diff lists exactly the objects the inventory says we created and the new plan lacks,
 *     and the one object that really changes (NATS loses its exporter and scrape annotations);
 *     the real run deletes exactly those, keeps the volumes and says so, and restarts nothing
 *     else; --diff afterwards finds nothing to change.
 *   - A ConfigMap made by hand with our labels, not in the inventory, survives bootstrap and prune.
 *   - A rollout that fails (an image that cannot be pulled) prunes nothing.
 *   - A namespace that existed before bootstrap, with something of someone else's in it, is
 *     kept by teardown, which says why, while our objects go.
 * The e2e cluster has no storage provisioner: the test makes a hostPath PersistentVolume for
 * each claim, pre-bound to it (claimRef) under a storage class of its own, so the claims bind
 * for real and the workloads mount them.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { runScript } from '../helpers/cli.ts';
import { e2eConfig, e2eRegistries, writeConfig } from './support/config.ts';
import { deleteNamespace, harness, kubectl, kubectlJson, unique } from './support/harness.ts';
import { buildStack, grafanaStandIn, realServers } from './support/images.ts';

const h = harness();
const images = buildStack(h, unique('conv'));
const servers = realServers(h);
const grafana = grafanaStandIn(h);
const GRAFANA_PASSWORD = `grafana-${unique('pw')}`;
const env = { ...h.env, GRAFANA_ADMIN_PASSWORD: GRAFANA_PASSWORD };
const namespace = unique('e2e-conv');
const foundNs = unique('e2e-conv-found');
// No StorageClass object of this name exists: with none, the claims bind to the PVs made below only.
const STORAGE_CLASS = unique('e2e-static');
const volumeRoot = mkdtempSync(join(tmpdir(), 'demon-e2e-pv-'));
const INVENTORY = 'demon-bootstrap-inventory';

const COMPONENTS: Record<string, Record<string, unknown>> = {
  runtime: { name: 'runtime', image: images.runtime, port: 8080 },
  engine: { name: 'engine', image: images.engine, port: 8081 },
  'operate-ui': {
    name: 'operate-ui',
    image: images['operate-ui'],
    port: 3000,
    health: { liveness: '/health', readiness: '/health' },
  },
};
const persistence = { enabled: true, storageClass: STORAGE_CLASS, size: '64Mi' };

function stackConfig(
  ns: string,
  names: string[],
  monitoring: boolean,
  rest: { wait?: Record<string, unknown>; components?: Record<string, unknown>[] } = {},
): string {
  const components = rest.components ?? names.map((name) => COMPONENTS[name]!);
  return writeConfig(
    e2eConfig(h, {
      namespace: ns,
      images,
      components,
      overrides: {
        nats: { image: images.nats, persistence, exporter: { image: servers.exporter } },
        monitoring: monitoring
          ? {
              enabled: true,
              prometheus: { image: servers.prometheus, persistence },
              grafana: { image: grafana },
            }
          : { enabled: false },
        registries: e2eRegistries(h, [
          'nats',
          ...components.map((c) => c.name as string),
          ...(monitoring ? ['prometheus', 'grafana'] : []),
        ]),
        ...(rest.wait ? { wait: rest.wait } : {}),
      },
    }),
  );
}

const fullFile = stackConfig(namespace, ['runtime', 'engine', 'operate-ui'], true);
const slimFile = stackConfig(namespace, ['runtime', 'operate-ui'], false);

/** A hostPath volume for exactly one claim (claimRef), in a directory any pod user may write. */
function staticVolume(claim: string): void {
  const dir = join(volumeRoot, claim);
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  const pv = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `${namespace}-${claim}`, labels: { 'demon-e2e/converge': namespace } },
    spec: {
      capacity: { storage: '64Mi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: STORAGE_CLASS,
      claimRef: { namespace, name: claim },
      hostPath: { path: dir, type: 'Directory' },
    },
  };
  kubectl(h, ['apply', '-f', '-'], JSON.stringify(pv));
}

// ---- what the tests read back --------------------------------------------------------------

/** `Kind name` of every object a config's --dry-run plan holds (the namespace aside), with its YAML. */
function planOf(file: string): Map<string, string> {
  const r = runScript('bootstrap.mts', ['--config', file, '--dry-run'], env);
  assert.is(r.code, 0, r.stderr);
  const plan = new Map<string, string>();
  for (const doc of parseAllDocuments(r.stdout)) {
    const object = doc.toJSON() as { kind: string; metadata: { name: string } } | null;
    if (object && object.kind !== 'Namespace') plan.set(`${object.kind} ${object.metadata.name}`, doc.toString());
  }
  return plan;
}

interface Inventory {
  created: string[];
  adopted: string[];
  retained: string[];
}

/** The inventory ConfigMap's lists, as `Kind name` (its lines are `apiVersion Kind name`). */
function inventoryOf(ns: string): Inventory | undefined {
  const found = kubectlJson<{ items: { data?: Record<string, string> }[] }>(h, [
    'get',
    'configmap',
    '-n',
    ns,
    '--field-selector',
    `metadata.name=${INVENTORY}`,
  ]).items[0];
  if (!found) return undefined;
  const list = (key: string) =>
    (found.data?.[key] ?? '')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ').slice(1).join(' '))
      .sort();
  return { created: list('created'), adopted: list('adopted'), retained: list('retained') };
}

interface Item {
  kind: string;
  metadata: { name: string; uid: string; labels?: Record<string, string> };
  spec?: { volumeName?: string };
  status?: { phase?: string; containerStatuses?: { ready: boolean; restartCount: number }[] };
}

/** Every object of these kinds in the namespace, `Kind name` -> object. */
function objectsOf(ns: string, kinds: string[]): Map<string, Item> {
  const list = kubectlJson<{ items: Item[] }>(h, ['get', kinds.map((k) => k.toLowerCase()).join(','), '-n', ns]);
  return new Map(list.items.map((item) => [`${item.kind} ${item.metadata.name}`, item]));
}

function podsOf(ns: string, workload: string): Item[] {
  return kubectlJson<{ items: Item[] }>(h, ['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/name=${workload}`]).items;
}

/** --diff's stdout, by its line markers: + create, ~ change, - prune, = kept volume, ! conflict. */
function diffLines(stdout: string): Record<'+' | '~' | '-' | '=' | '!', string[]> {
  const lines = { '+': [], '~': [], '-': [], '=': [], '!': [] } as Record<'+' | '~' | '-' | '=' | '!', string[]>;
  for (const line of stdout.split('\n')) {
    const match = /^([+~\-=!]) (\S+ \S+) \(/.exec(line);
    if (match) lines[match[1] as keyof typeof lines].push(match[2]!);
  }
  for (const list of Object.values(lines)) list.sort();
  return lines;
}

const difference = (a: Iterable<string>, b: Iterable<string>) => {
  const minus = new Set(b);
  return [...a].filter((x) => !minus.has(x)).sort();
};

// ---- the suite -------------------------------------------------------------------------------

const converge = suite('e2e: converge prunes exactly what the config dropped');
converge.after(() => {
  deleteNamespace(h, namespace);
  deleteNamespace(h, foundNs);
  // Retained volumes of ours: released once the namespace (and its claims) are gone.
  try {
    kubectl(h, [
      'delete',
      'persistentvolumes',
      '-l',
      `demon-e2e/converge=${namespace}`,
      '--ignore-not-found',
      '--wait=false',
    ]);
  } catch (error) {
    console.error(`could not delete the test's PersistentVolumes: ${String(error)}`);
  }
  rmSync(volumeRoot, { recursive: true, force: true });
});

const full = planOf(fullFile);
const slim = planOf(slimFile);
// The namespaced kinds the stack uses: the before/after comparison looks at all of them.
const KINDS = [...new Set([...full.keys()].map((key) => key.split(' ')[0]!))];
const HAND_MADE = 'ConfigMap hand-made-notes';
let before: Map<string, Item>;
let kept: Record<string, string>;
const steady: Record<string, { uid: string }> = {};
let expected: { prune: string[]; keep: string[]; change: string[] };

converge('a full stack with volumes and monitoring comes up; the inventory lists everything it created', () => {
  staticVolume('data-nats-0');
  staticVolume('prometheus-data');
  const r = runScript('bootstrap.mts', ['--config', fullFile], env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`✓ apply: namespace ${namespace} created; ${full.size} created`));
  assert.match(r.stderr, /✓ wait for workloads: 6 workloads ready/);
  const inventory = inventoryOf(namespace)!;
  assert.equal(inventory.created, [...full.keys()].sort());
  assert.equal([inventory.adopted, inventory.retained], [[], []]);
  // The claims bound to the volumes made for them, so the data really is on a volume.
  const claims = objectsOf(namespace, ['PersistentVolumeClaim']);
  for (const claim of ['data-nats-0', 'prometheus-data']) {
    const pvc = claims.get(`PersistentVolumeClaim ${claim}`);
    assert.is(pvc?.status?.phase, 'Bound', claim);
    assert.is(pvc?.spec?.volumeName, `${namespace}-${claim}`);
  }
  kept = Object.fromEntries([...claims].map(([key, pvc]) => [key, pvc.metadata.uid]));
});

converge(
  '--diff of a config without engine and monitoring lists exactly what would be pruned, and changes nothing',
  () => {
    // Made by hand, with our labels, but not by the tool: never in the inventory, never pruned.
    kubectl(
      h,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: HAND_MADE.split(' ')[1],
          namespace,
          labels: { 'app.kubernetes.io/part-of': 'demon', 'app.kubernetes.io/managed-by': 'demon-bootstrap' },
        },
        data: { note: 'made by a person' },
      }),
    );
    before = objectsOf(namespace, KINDS);
    for (const workload of ['nats', 'runtime', 'operate-ui'])
      steady[workload] = { uid: podsOf(namespace, workload)[0]!.metadata.uid };

    // Expected, from the cluster's own record and the two plans (not a list written here):
    // prune = what the inventory says we created that the slim plan no longer has, volumes kept;
    // change = objects in both plans whose rendered YAML differs.
    const gone = difference(inventoryOf(namespace)!.created, slim.keys());
    expected = {
      prune: gone.filter((ref) => !ref.startsWith('PersistentVolumeClaim ')),
      keep: gone.filter((ref) => ref.startsWith('PersistentVolumeClaim ')),
      change: [...slim.keys()].filter((key) => full.has(key) && full.get(key) !== slim.get(key)).sort(),
    };
    // What that amounts to, said plainly: engine's Deployment and Service, all of monitoring
    // (Grafana's Secret, ConfigMaps, Service, Deployment; Prometheus' RBAC, config, Service,
    // Deployment), its volume kept. Nothing that stays changes: the exporter sidecar and the
    // scrape annotations do not depend on monitoring.enabled, so NATS is not restarted.
    assert.ok(expected.prune.includes('Deployment engine') && expected.prune.includes('Service engine'));
    assert.ok(expected.prune.includes('Deployment prometheus') && expected.prune.includes('Deployment grafana'));
    assert.equal(expected.keep, ['PersistentVolumeClaim prometheus-data']);
    assert.equal(expected.change, []);

    const r = runScript('bootstrap.mts', ['--config', slimFile, '--diff'], env);
    assert.is(r.code, 1, r.stderr);
    const lines = diffLines(r.stdout);
    assert.equal(lines['-'], expected.prune);
    assert.equal(lines['='], expected.keep);
    assert.equal(lines['~'], expected.change);
    assert.equal([lines['+'], lines['!']], [[], []]);
    assert.not.match(r.stdout, /^ {4}[+-]/m, 'no field of a remaining object changes');
    const unchanged = slim.size - expected.change.length;
    assert.match(
      r.stderr,
      `✓ diff: 0 to create, ${expected.change.length} to change, ${unchanged} unchanged, ${expected.prune.length} to prune, ${expected.keep.length} volume${expected.keep.length === 1 ? '' : 's'} kept`,
    );
    assert.equal(
      [...objectsOf(namespace, KINDS).keys()].sort(),
      [...before.keys()].sort(),
      '--diff changed the cluster',
    );
    assert.not.ok(r.stdout.includes(GRAFANA_PASSWORD) || r.stderr.includes(GRAFANA_PASSWORD));
  },
);

converge('the real run deletes exactly those objects, keeps the volumes, restarts nothing else', () => {
  const r = runScript('bootstrap.mts', ['--config', slimFile], env);
  assert.is(r.code, 0, r.stderr);
  const prune = /✓ prune: (\d+) deleted \(([^)]*)\); kept ([^(]*) \(volumes go only with --prune-volumes\)/.exec(
    r.stderr,
  );
  assert.ok(prune, r.stderr);
  assert.equal(prune[2]!.split(', ').sort(), expected.prune);
  assert.is(Number(prune[1]), expected.prune.length);
  assert.equal(prune[3]!.split(', ').sort(), expected.keep);

  const after = objectsOf(namespace, KINDS);
  assert.equal(difference(before.keys(), after.keys()), expected.prune, 'gone');
  assert.equal(difference(after.keys(), before.keys()), [], 'appeared');
  // The hand-made ConfigMap, with our very labels, is still there.
  assert.ok(after.has(HAND_MADE));
  // The volumes are the same claims as before, still bound.
  for (const [key, uid] of Object.entries(kept)) {
    assert.is(after.get(key)?.metadata.uid, uid, key);
    assert.is(after.get(key)?.status?.phase, 'Bound', key);
  }
  // NATS, runtime and operate-ui were not touched: the same pods, never restarted.
  for (const workload of ['nats', 'runtime', 'operate-ui']) {
    const pods = podsOf(namespace, workload);
    assert.equal(
      pods.map((pod) => pod.metadata.uid),
      [steady[workload]!.uid],
      workload,
    );
    const statuses = pods[0]!.status!.containerStatuses!;
    assert.ok(statuses.length > 0 && statuses.every((c) => c.ready && c.restartCount === 0), workload);
  }
  // The inventory now holds the slim plan, and the kept volume as retained.
  const inventory = inventoryOf(namespace)!;
  assert.equal(inventory.created, [...slim.keys()].sort());
  assert.equal(inventory.retained, expected.keep);
});

converge('--diff on the converged cluster: nothing would change (exit 0)', () => {
  const r = runScript('bootstrap.mts', ['--config', slimFile, '--diff'], env);
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stderr, `✓ diff: no changes: the cluster matches the config (${slim.size} unchanged)`);
  // Only the retained volume is mentioned, as kept: not a change.
  assert.is(
    r.stdout,
    expected.keep.map((ref) => `= ${ref} (prune keeps it: volumes go only with --prune-volumes)\n`).join(''),
  );
});

converge('a failed rollout prunes nothing: the dropped component stays, the old version keeps running', () => {
  // operate-ui dropped, runtime pointed at a tag never pushed. The pull check would refuse
  // that before applying anything; --no-check-pull lets the rollout itself fail in the wait.
  const broken = { ...COMPONENTS.runtime!, image: `${h.registry}/demon-e2e/runtime:${unique('never-pushed')}` };
  const file = stackConfig(namespace, ['runtime'], false, {
    components: [broken],
    wait: { timeout: '40s', pullGrace: '10s', readinessGrace: '15s' },
  });
  const started = Date.now();
  const r = runScript('bootstrap.mts', ['--config', file, '--no-check-pull'], env);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /✗ wait for workloads/);
  assert.match(r.stderr, /runtime.*\((ErrImagePull|ImagePullBackOff)\)/);
  assert.not.match(r.stderr, /prune/);
  assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
  const now = objectsOf(namespace, KINDS);
  for (const ref of ['Deployment operate-ui', 'Service operate-ui']) assert.ok(now.has(ref), `${ref} was pruned`);
  assert.ok(inventoryOf(namespace)!.created.includes('Deployment operate-ui'));
  assert.equal(
    podsOf(namespace, 'operate-ui').map((pod) => pod.metadata.uid),
    [steady['operate-ui']!.uid],
  );
  // The old runtime pod still serves, beside the new one that cannot pull.
  const runtime = podsOf(namespace, 'runtime');
  const old = runtime.find((pod) => pod.metadata.uid === steady.runtime!.uid);
  assert.ok(old?.status?.containerStatuses?.[0]?.ready, 'the old runtime pod is gone or not ready');
});

converge('a namespace that existed before is kept by teardown, with what else it holds; ours goes', () => {
  kubectl(h, ['create', 'namespace', foundNs]);
  kubectl(h, ['create', 'configmap', 'theirs', '-n', foundNs, '--from-literal=owner=someone-else']);
  const file = writeConfig(e2eConfig(h, { namespace: foundNs, images, components: [COMPONENTS.runtime!] }));
  const up = runScript('bootstrap.mts', ['--config', file], env);
  assert.is(up.code, 0, up.stderr);
  assert.match(up.stderr, `✓ apply: namespace ${foundNs} exists (not created by demon-bootstrap: left as it is);`);
  const ours = inventoryOf(foundNs)!.created;
  assert.ok(ours.length > 0);

  const down = runScript('teardown.mts', ['--config', file, '--yes'], env);
  assert.is(down.code, 0, down.stderr);
  assert.match(
    down.stderr,
    `✓ delete: deleted ${ours.length} objects; namespace ${foundNs} was not created by demon-bootstrap and stays`,
  );
  const ns = kubectlJson<{ metadata: { annotations?: Record<string, string> }; status: { phase: string } }>(h, [
    'get',
    'namespace',
    foundNs,
  ]);
  assert.is(ns.status.phase, 'Active');
  // Bootstrap never marked it as created by the tool, which is why teardown keeps it.
  assert.is(ns.metadata.annotations?.['demon-bootstrap.io/created-by'], undefined);
  const left = objectsOf(foundNs, KINDS);
  assert.ok(left.has('ConfigMap theirs'), 'the foreign ConfigMap is gone');
  for (const ref of [...ours, `ConfigMap ${INVENTORY}`]) assert.not.ok(left.has(ref), `${ref} is still there`);
  assert.equal(
    [...left.values()].filter((o) => o.metadata.labels?.['app.kubernetes.io/managed-by'] === 'demon-bootstrap'),
    [],
  );
});

converge.run();
