/**
 * Prune and teardown delete only what this stack created: listed in its inventory as created,
 * and still carrying our ownership when looked at. Replies are the recorded look of the `rec`
 * stack (tests/e2e/support/record-converge.ts), narrowed to the objects asked for.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import {
  EMPTY_INVENTORY,
  inventoryObject,
  ownedByUs,
  readInventory,
  recordApplied,
  sameInventory,
  type ObjectRef,
} from '../lib/bootstrap/inventory.ts';
import { describePrune, inventoryAfterPrune, prune, prunePlan } from '../lib/bootstrap/prune.ts';
import { teardownObjects } from '../lib/bootstrap/teardown.ts';
import type { RunOptions } from '../lib/core/exec.ts';
import type { K8sObject } from '../lib/render/manifests.ts';
import { Kubectl, parseObjects, type LiveObject } from '../lib/tools/kubectl.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';

const LIVE = parseObjects(recorded('converge-look-present.stdout'), 'get');
const ref = (
  kind: string,
  name: string,
  apiVersion = kind === 'Deployment' || kind === 'StatefulSet' ? 'apps/v1' : 'v1',
): ObjectRef => ({ apiVersion, kind, name });
const asked = (options?: RunOptions) => parseAllDocuments(options!.input!).map((d) => d.toJS() as K8sObject);
/** Replies to `get -f -` with the recorded objects that were asked for (as kubectl would). */
const getReply = (live: LiveObject[]) => (_argv: string[], options?: RunOptions) => {
  const wanted = asked(options).map((o) => `${o.kind}/${o.metadata.name}`);
  return {
    stdout: JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: live.filter((o) => wanted.includes(`${o.kind}/${o.metadata.name}`)),
    }),
  };
};
const verb = (v: string) => (argv: string[]) => argv[3] === v;
const kubectl = (runner: FakeRunner) => new Kubectl(runner, { context: 'demon-e2e' });

const inventory = suite('inventory');
inventory('written and read back: created, adopted and retained lists', () => {
  const inv = recordApplied(
    EMPTY_INVENTORY,
    [ref('Deployment', 'engine')],
    [ref('Deployment', 'engine'), ref('Service', 'legacy')],
  );
  assert.equal(inv.created, [ref('Deployment', 'engine')]);
  assert.equal(inv.adopted, [ref('Service', 'legacy')], 'it existed before our apply: adopted, never deleted');
  const object = inventoryObject('rec', inv) as LiveObject;
  assert.ok(sameInventory(readInventory([object], 'rec'), inv));
  assert.is(readInventory(LIVE, 'rec')!.created.length, 11);
});
inventory('a volume prune kept, back in the config, is ours again: created, so a later prune may delete it', () => {
  const pvc = ref('PersistentVolumeClaim', 'prometheus-data');
  const kept = { created: [], adopted: [], retained: [pvc] };
  const back = recordApplied(kept, [], [pvc, ref('Deployment', 'prometheus')]);
  assert.equal(back.created, [pvc]);
  assert.equal(back.adopted, [ref('Deployment', 'prometheus')]);
  assert.equal(back.retained, []);
  assert.equal(prunePlan(back, [], true).delete, [pvc], 'with --prune-volumes it goes, never "released"');
});
inventory('ownership needs our label and our field manager: a same-named object made by hand is not ours', () => {
  const engine = LIVE.find((o) => o.kind === 'Deployment' && o.metadata.name === 'engine')!;
  assert.ok(ownedByUs(engine));
  assert.not.ok(
    ownedByUs({
      ...engine,
      metadata: { ...engine.metadata, managedFields: [{ manager: 'kubectl-create', operation: 'Update' }] },
    }),
  );
  assert.not.ok(ownedByUs({ ...engine, metadata: { ...engine.metadata, labels: {} } }));
});
inventory.run();

const plan = suite('prune: what goes');
const planned = [ref('Deployment', 'runtime'), ref('Service', 'runtime')];
const inv = {
  created: [...planned, ref('Deployment', 'engine'), ref('Service', 'engine'), ref('PersistentVolumeClaim', 'grafana')],
  adopted: [ref('Service', 'legacy')],
  retained: [],
};
plan('created objects the plan dropped go; volumes stay unless asked; adopted ones are let go, not deleted', () => {
  assert.equal(prunePlan(inv, planned, false), {
    delete: [ref('Deployment', 'engine'), ref('Service', 'engine')],
    keep: [ref('PersistentVolumeClaim', 'grafana')],
    release: [ref('Service', 'legacy')],
  });
  assert.equal(prunePlan(inv, planned, true).delete, [
    ref('Deployment', 'engine'),
    ref('Service', 'engine'),
    ref('PersistentVolumeClaim', 'grafana'),
  ]);
  assert.equal(
    prunePlan(undefined, planned, true),
    { delete: [], keep: [], release: [] },
    'no inventory: nothing is pruned',
  );
});
plan('a kept volume stays on the inventory as retained, so --prune-volumes can still remove it later', () => {
  const after = inventoryAfterPrune(inv, planned, {
    deleted: [],
    kept: [ref('PersistentVolumeClaim', 'grafana')],
    notOurs: [],
    released: [],
  });
  assert.equal(after, { created: planned, adopted: [], retained: [ref('PersistentVolumeClaim', 'grafana')] });
  assert.equal(prunePlan(after, planned, true).delete, [ref('PersistentVolumeClaim', 'grafana')]);
});
plan.run();

const run = suite('prune: the commands');
run('looks first, deletes only what is still ours, in one call, and says what it did', async () => {
  const handMade = LIVE.map((o) =>
    o.kind === 'Service' && o.metadata.name === 'engine'
      ? { ...o, metadata: { ...o.metadata, managedFields: [{ manager: 'kubectl-create', operation: 'Update' }] } }
      : o,
  );
  const runner = new FakeRunner()
    .on(verb('get'), getReply(handMade))
    .on(verb('delete'), { stdout: 'deployment.apps "engine" deleted\n' });
  const result = await prune(kubectl(runner), 'rec', prunePlan(inv, planned, false));
  assert.equal(
    runner.argvs().map((a) => a.slice(3)),
    [
      ['get', '-f', '-', '--ignore-not-found', '-o', 'json', '--show-managed-fields'],
      ['delete', '-f', '-', '--ignore-not-found', '--wait=true', '--timeout=120s'],
    ],
  );
  assert.equal(
    asked(runner.calls[1]!.options).map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`),
    ['Deployment/rec/engine'],
  );
  assert.is(
    describePrune(result),
    '1 deleted (Deployment engine); no longer managed, left in place: Service legacy (they existed before this stack); left alone, no longer ours: Service engine',
  );
});
run('nothing to prune costs no kubectl call', async () => {
  const runner = new FakeRunner();
  const result = await prune(
    kubectl(runner),
    'rec',
    prunePlan({ created: planned, adopted: [], retained: [] }, planned, false),
  );
  assert.is(describePrune(result), '0 deleted');
  assert.is(runner.calls.length, 0);
});
run.run();

const teardown = suite('teardown: only what this stack created');
const recCreated = (live: LiveObject[], contents = '') =>
  new FakeRunner()
    .on((a) => a[3] === 'get' && a[4]!.startsWith('all,'), { stdout: contents })
    .on(verb('get'), getReply(live))
    .on(verb('delete'), { stdout: '' });
teardown(
  'deletes the created objects, then the inventory, then the namespace we created once nothing else is in it',
  async () => {
    const runner = recCreated(
      LIVE,
      'pod/nats-0\nreplicaset.apps/engine-5d9\nconfigmap/kube-root-ca.crt\nserviceaccount/default\n',
    );
    const outcome = await teardownObjects(kubectl(runner), 'rec', { volumes: false });
    assert.is(outcome, 'deleted 11 objects; deleted namespace rec');
    const deletes = runner.argvs().filter((a) => a[3] === 'delete');
    assert.equal(
      deletes.map((a) => a.slice(3, 6)),
      [
        ['delete', '-f', '-'],
        ['delete', 'configmap', 'demon-bootstrap-inventory'],
        ['delete', 'namespace', 'rec'],
      ],
    );
  },
);
teardown('a namespace that also holds something of somebody else stays', async () => {
  const runner = recCreated(LIVE, 'deployment.apps/payments\n');
  const outcome = await teardownObjects(kubectl(runner), 'rec', { volumes: false });
  assert.is(
    outcome,
    'deleted 11 objects; namespace rec stays: it also holds deployment.apps/payments, which demon-bootstrap did not create',
  );
  assert.not.ok(runner.argvs().some((a) => a.includes('namespace') && a.includes('delete')));
});
teardown('a namespace this tool did not create is never deleted, even with our label on it', async () => {
  const found = LIVE.map((o) =>
    o.kind === 'Namespace'
      ? {
          ...o,
          metadata: { ...o.metadata, annotations: {}, labels: { 'app.kubernetes.io/managed-by': 'demon-bootstrap' } },
        }
      : o,
  );
  const runner = recCreated(found);
  assert.is(
    await teardownObjects(kubectl(runner), 'rec', { volumes: false }),
    'deleted 11 objects; namespace rec was not created by demon-bootstrap and stays',
  );
  assert.not.ok(runner.argvs().some((a) => a.includes('namespace') && a.includes('delete')));
});
teardown('no inventory: nothing is deleted, whatever labels objects carry', async () => {
  const runner = recCreated(
    LIVE.filter((o) => o.kind !== 'ConfigMap' || o.metadata.name !== 'demon-bootstrap-inventory'),
    'deployment.apps/engine\n',
  );
  const outcome = await teardownObjects(kubectl(runner), 'rec', { volumes: false });
  assert.match(
    outcome,
    /^no inventory of demon-bootstrap in namespace rec, so no objects to delete; namespace rec stays: it also holds deployment.apps\/engine/,
  );
  assert.not.ok(runner.argvs().some((a) => a[3] === 'delete'));
});
teardown('nothing to delete is not an error', async () => {
  const runner = new FakeRunner().on(verb('get'), { stdout: '' });
  assert.is(
    await teardownObjects(kubectl(runner), 'rec', { volumes: false }),
    'namespace rec does not exist: nothing to delete',
  );
});
teardown.run();
