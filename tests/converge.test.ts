/**
 * Converging at the argv boundary, on outputs recorded from the e2e cluster with the tool's
 * own calls (tests/e2e/support/record-converge.ts): one look, the namespace only when it is
 * missing, one server-side apply, and each object's outcome from what those two returned.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import {
  applyObjects,
  ConflictError,
  ensureNamespace,
  look,
  outcomesOf,
  summarize,
} from '../lib/bootstrap/converge.ts';
import { parseConfig } from '../lib/config/load.ts';
import { Redactor } from '../lib/core/redact.ts';
import type { K8sObject } from '../lib/render/manifests.ts';
import { buildPlan, planInputs } from '../lib/render/plan.ts';
import { Kubectl, parseObjects } from '../lib/tools/kubectl.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';

const config = (replicas: number) =>
  parseConfig({
    cluster: { provider: 'existing', context: 'demon-e2e' },
    namespace: 'rec',
    secrets: { data: { APP_TOKEN: 'DEMON_RECORDED_TOKEN' } },
    components: ['runtime', 'engine', 'operate-ui'].map((name, i) => ({
      name,
      image: `ghcr.io/afewell-hh/demon-${name}:main`,
      port: 8080 + i,
      replicas,
    })),
  });
const planOf = (replicas = 1) =>
  buildPlan(
    planInputs(
      { env: { DEMON_RECORDED_TOKEN: 'recorded-token-value' }, redactor: new Redactor() },
      config(replicas),
      'config/demon.yaml',
    ),
  );
const plan = planOf();
const objects = [...plan.secrets, ...plan.manifests];
const namespace = plan.namespace[0]!;
const kubectl = (runner: FakeRunner) => new Kubectl(runner, { context: 'demon-e2e' });
const verb = (v: string) => (argv: string[]) => argv[3] === v;

const converge = suite('converge: look, namespace, apply');
converge(
  'a first run: the look finds nothing, the namespace is created with our mark, everything is created',
  async () => {
    const runner = new FakeRunner()
      .on(verb('get'), { stdout: recorded('converge-look-absent.stdout') })
      .on(verb('create'), { stdout: 'namespace/rec\n' })
      .on(verb('apply'), { stdout: recorded('converge-apply-created.stdout') });
    const seen = await look(kubectl(runner), namespace, objects);
    assert.equal([seen.namespace, seen.inventory, seen.live.size], ['missing', undefined, 0]);
    assert.is(await ensureNamespace(kubectl(runner), namespace, seen.namespace), 'namespace rec created');
    const created = parse(runner.calls[1]!.options!.input!) as K8sObject;
    assert.equal(created.metadata.annotations, { 'demon-bootstrap.io/created-by': 'demon-bootstrap' });
    const applied = await applyObjects(kubectl(runner), objects, { force: false });
    assert.is(summarize(outcomesOf(objects, seen.live, applied, 'rec')), '11 created');
    assert.equal(
      runner.argvs().map((argv) => argv[3]),
      ['get', 'create', 'apply'],
    );
  },
);
converge('the look asks for every planned object, the namespace and the inventory in one call', async () => {
  const runner = new FakeRunner().on(verb('get'), { stdout: recorded('converge-look-present.stdout') });
  const seen = await look(kubectl(runner), namespace, objects);
  const asked = runner.calls[0]!.options!.input!.split('---\n')
    .map((doc) => parse(doc) as K8sObject)
    .map((o) => `${o.kind}/${o.metadata.name}`);
  assert.equal(asked, [
    'Namespace/rec',
    ...objects.map((o) => `${o.kind}/${o.metadata.name}`),
    'ConfigMap/demon-bootstrap-inventory',
  ]);
  assert.is(seen.namespace, 'ours');
  assert.is(seen.inventory!.created.length, 11);
});
converge(
  'a re-run on an unchanged cluster: every object unchanged, and the existing namespace is not touched',
  async () => {
    const runner = new FakeRunner()
      .on(verb('get'), { stdout: recorded('converge-look-present.stdout') })
      .on(verb('apply'), { stdout: recorded('converge-apply-unchanged.stdout') });
    const seen = await look(kubectl(runner), namespace, objects);
    assert.is(await ensureNamespace(kubectl(runner), namespace, seen.namespace), 'namespace rec unchanged');
    const applied = await applyObjects(kubectl(runner), objects, { force: false });
    assert.is(summarize(outcomesOf(objects, seen.live, applied, 'rec')), '11 unchanged');
    assert.equal(
      runner.argvs().map((argv) => argv[3]),
      ['get', 'apply'],
      'two kubectl processes, no more',
    );
  },
);
converge('replicas changed: exactly the three Deployments are configured', async () => {
  const runner = new FakeRunner()
    .on(verb('get'), { stdout: recorded('converge-look-present.stdout') })
    .on(verb('apply'), { stdout: recorded('converge-apply-configured.stdout') });
  const seen = await look(kubectl(runner), namespace, objects);
  const scaled = planOf(2);
  const wanted = [...scaled.secrets, ...scaled.manifests];
  const outcomes = outcomesOf(wanted, seen.live, await applyObjects(kubectl(runner), wanted, { force: false }), 'rec');
  assert.is(summarize(outcomes), '3 configured, 8 unchanged');
  assert.equal(
    outcomes.filter((o) => o.outcome === 'configured').map((o) => o.object.metadata.name),
    ['runtime', 'engine', 'operate-ui'],
  );
});
converge('a namespace someone else made is never changed (no create, no apply of our labels)', async () => {
  const theirs = JSON.parse(recorded('converge-look-present.stdout')) as { items: K8sObject[] };
  theirs.items[0]!.metadata.annotations = {};
  const runner = new FakeRunner().on(verb('get'), { stdout: JSON.stringify(theirs) });
  const seen = await look(kubectl(runner), namespace, objects);
  assert.is(seen.namespace, 'theirs');
  assert.is(
    await ensureNamespace(kubectl(runner), namespace, seen.namespace),
    'namespace rec exists (not created by demon-bootstrap: left as it is)',
  );
  assert.is(runner.calls.length, 1);
});
converge('a namespace created by someone else between look and create stays theirs', async () => {
  const runner = new FakeRunner().on(verb('create'), {
    exitCode: 1,
    stderr: 'Error from server (AlreadyExists): namespaces "rec" already exists\n',
  });
  assert.match(
    await ensureNamespace(kubectl(runner), namespace, 'missing'),
    /exists \(created by someone else just now/,
  );
});
converge('namespace-scoped RBAC: a namespace we may not read is looked past and left alone', async () => {
  const forbidden =
    'Error from server (Forbidden): namespaces "rec" is forbidden: User "dev" cannot get resource "namespaces" in API group "" at the cluster scope\n';
  const runner: FakeRunner = new FakeRunner()
    .on(verb('get'), { exitCode: 1, stderr: forbidden }, 1)
    .on(verb('get'), { stdout: recorded('converge-look-present.stdout') });
  const seen = await look(kubectl(runner), namespace, objects);
  assert.is(seen.namespace, 'theirs');
  assert.not.match(runner.calls[1]!.options!.input!, /kind: Namespace/);
});
converge.run();

const conflicts = suite('converge: fields another manager owns');
conflicts('nothing is forced: the conflicting object and field are named, with both ways out', async () => {
  const runner = new FakeRunner()
    // Per object, a server-side dry-run: only the engine Deployment conflicts (as recorded).
    .on(
      (argv) => argv.includes('--dry-run=server'),
      (_argv, options) => {
        const object = parse(options!.input!) as K8sObject;
        return object.kind === 'Deployment' && object.metadata.name === 'engine'
          ? { exitCode: 1, stderr: recorded('converge-dry-run-conflict.stderr') }
          : { stdout: '' };
      },
    )
    .on(verb('apply'), { exitCode: 1, stderr: recorded('converge-apply-conflict.stderr') });
  const error = await applyObjects(kubectl(runner), objects, { force: false }).catch((e: Error) => e);
  assert.instance(error, ConflictError);
  assert.equal((error as ConflictError).conflicts, [
    'Deployment engine: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas',
  ]);
  assert.match(
    (error as Error).message,
    /re-run with --force-conflicts to take these fields back \(the config wins\), or change the config/,
  );
  assert.not.ok(runner.argvs().some((argv) => argv.includes('--force-conflicts')));
});
conflicts('--force-conflicts takes them back', async () => {
  const runner = new FakeRunner().on(verb('apply'), { stdout: recorded('converge-apply-unchanged.stdout') });
  await applyObjects(kubectl(runner), objects, { force: true });
  assert.ok(runner.argvs()[0]!.includes('--force-conflicts'));
});
conflicts(
  'outcome fingerprints ignore status churn: a controller bumping resourceVersion is not a change of ours',
  () => {
    const before = parseObjects(recorded('converge-look-present.stdout'), 'get');
    const live = new Map(before.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));
    const after = parseObjects(recorded('converge-look-present.stdout'), 'get').map((o) =>
      o.kind === 'Deployment' ? { ...o, metadata: { ...o.metadata, resourceVersion: '999999' } } : o,
    );
    assert.is(summarize(outcomesOf(objects, live, after, 'rec')), '11 unchanged');
  },
);
conflicts.run();

const replace = suite('converge: a StatefulSet whose volume claims changed');
replace('ours is deleted with --cascade=orphan (pods and volumes kept) and applied again', async () => {
  const replaced: string[] = [];
  const runner = new FakeRunner()
    .on(verb('apply'), { exitCode: 1, stderr: recorded('converge-apply-immutable-statefulset.stderr') }, 1)
    .on(verb('delete'), { stdout: 'statefulset.apps "nats" deleted\n' })
    .on(verb('apply'), { stdout: recorded('converge-apply-unchanged.stdout') });
  await applyObjects(kubectl(runner), objects, {
    force: false,
    ownsStatefulSet: () => true,
    onReplace: (name) => replaced.push(name),
  });
  assert.equal(replaced, ['nats']);
  assert.equal(runner.argvs()[1]!.slice(3), [
    'delete',
    'statefulset',
    'nats',
    '-n',
    'rec',
    '--cascade=orphan',
    '--wait=true',
    '--timeout=60s',
  ]);
  assert.is(runner.argvs()[2]![3], 'apply');
});
replace('one that is not ours is not touched: the error says to change it by hand', async () => {
  const runner = new FakeRunner().on(verb('apply'), {
    exitCode: 1,
    stderr: recorded('converge-apply-immutable-statefulset.stderr'),
  });
  const error = await applyObjects(kubectl(runner), objects, { force: false, ownsStatefulSet: () => false }).catch(
    (e: Error) => e,
  );
  assert.match((error as Error).message, /StatefulSet nats cannot change in place and was not created by this tool/);
  assert.is(runner.calls.length, 1);
});
replace.run();
