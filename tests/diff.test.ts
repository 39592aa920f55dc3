/**
 * --diff on recorded outputs: the live look with every component at 2 replicas, and the
 * server-side dry-run of the config that says 1 (tests/e2e/support/record-converge.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffPlan, diffSummary, formatDiff } from '../lib/bootstrap/diff.ts';
import { look } from '../lib/bootstrap/converge.ts';
import { parseConfig } from '../lib/config/load.ts';
import { Redactor } from '../lib/core/redact.ts';
import { buildPlan, planInputs } from '../lib/render/plan.ts';
import { Kubectl } from '../lib/tools/kubectl.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';

const config = parseConfig({
  cluster: { provider: 'existing', context: 'demon-e2e' },
  namespace: 'rec',
  secrets: { data: { APP_TOKEN: 'DEMON_RECORDED_TOKEN' } },
  components: ['runtime', 'engine', 'operate-ui'].map((name, i) => ({
    name,
    image: `ghcr.io/afewell-hh/demon-${name}:main`,
    port: 8080 + i,
    replicas: 1,
  })),
});
const planWith = (token: string) =>
  buildPlan(
    planInputs({ env: { DEMON_RECORDED_TOKEN: token }, redactor: new Redactor() }, config, 'config/demon.yaml'),
  );

async function diffAgainst(lookFile: string, token = 'recorded-token-value') {
  const plan = planWith(token);
  const objects = [...plan.secrets, ...plan.manifests];
  const runner = new FakeRunner()
    .on((a) => a[3] === 'get', { stdout: recorded(lookFile) })
    .on((a) => a.includes('--dry-run=server'), { stdout: recorded('converge-dry-run.stdout') });
  const kubectl = new Kubectl(runner, { context: 'demon-e2e' });
  const seen = await look(kubectl, plan.namespace[0]!, objects);
  return { result: await diffPlan(kubectl, objects, seen, { force: false, pruneVolumes: false }), runner };
}

const diff = suite('diff: what a real run would change');
diff('replicas 2 in the cluster, 1 in the config: three Deployments change, with the field shown', async () => {
  const { result, runner } = await diffAgainst('converge-look-scaled.stdout');
  assert.equal(
    result.objects.filter((o) => o.change === 'change').map((o) => `${o.object.kind} ${o.object.metadata.name}`),
    ['Deployment runtime', 'Deployment engine', 'Deployment operate-ui'],
  );
  const text = formatDiff(result);
  assert.match(
    text,
    /~ Deployment engine \(change\)\n {4}@@[^\n]*\n(?: {4}[ +-][^\n]*\n)*? {4}- {2}replicas: 2\n {4}\+ {2}replicas: 1\n/,
  );
  assert.equal(diffSummary(result), { text: '0 to create, 3 to change, 8 unchanged, 0 to prune', changes: 3 });
  assert.ok(runner.argvs()[1]!.includes('--dry-run=server') && !runner.argvs()[1]!.includes('--force-conflicts'));
});
diff('an unchanged cluster: nothing to print, no changes', async () => {
  const { result } = await diffAgainst('converge-look-present.stdout');
  assert.is(formatDiff(result), '');
  assert.equal(diffSummary(result), { text: 'no changes: the cluster matches the config (11 unchanged)', changes: 0 });
});
diff('a Secret whose value changed: only the key is named, the value never appears, not even masked', async () => {
  const { result } = await diffAgainst('converge-look-present.stdout', 'a-new-token-value');
  const text = formatDiff(result);
  assert.match(text, /~ Secret demon-secrets \(change\)\n {4}values changed: APP_TOKEN \(values not shown\)\n/);
  for (const value of ['a-new-token-value', 'recorded-token-value']) {
    assert.not.match(text, value);
    assert.not.match(text, Buffer.from(value).toString('base64'));
  }
});
diff('a namespace that does not exist yet: everything would be created (nothing can be dry-run in it)', async () => {
  const { result, runner } = await diffAgainst('converge-look-absent.stdout');
  assert.is(result.namespace, 'rec');
  assert.equal(diffSummary(result).text, '12 to create, 0 to change, 0 unchanged, 0 to prune');
  assert.is(runner.calls.length, 1);
});
diff('a StatefulSet whose claim templates change: shown as replaced (it is ours), the rest still dry-run', async () => {
  const plan = planWith('recorded-token-value');
  const objects = [...plan.secrets, ...plan.manifests];
  const dryRuns: string[] = [];
  const runner = new FakeRunner()
    .on((a) => a[3] === 'get', { stdout: recorded('converge-look-present.stdout') })
    .on(
      (a) => a.includes('--dry-run=server'),
      (_argv, options) => {
        dryRuns.push(options!.input!);
        return /kind: StatefulSet/.test(options!.input!)
          ? { exitCode: 1, stderr: recorded('converge-apply-immutable-statefulset.stderr') }
          : { stdout: recorded('converge-dry-run.stdout') };
      },
    );
  const kubectl = new Kubectl(runner, { context: 'demon-e2e' });
  const result = await diffPlan(kubectl, objects, await look(kubectl, plan.namespace[0]!, objects), {
    force: false,
    pruneVolumes: false,
  });
  assert.equal(result.replace, ['StatefulSet nats']);
  assert.is(dryRuns.length, 2);
  assert.not.match(dryRuns[1]!, /kind: StatefulSet/);
  assert.match(formatDiff(result), /~ StatefulSet nats \(replace: .*pods and volumes are kept\)/);
  assert.equal(diffSummary(result), { text: '0 to create, 1 to change, 10 unchanged, 0 to prune', changes: 1 });
});
diff('a listed object made again by hand is not promised as a deletion: the prune would leave it', async () => {
  const dropped = parseConfig({ ...config, components: config.components.filter((c) => c.name !== 'engine') });
  const plan = buildPlan(
    planInputs(
      { env: { DEMON_RECORDED_TOKEN: 'recorded-token-value' }, redactor: new Redactor() },
      dropped,
      'config/demon.yaml',
    ),
  );
  const objects = [...plan.secrets, ...plan.manifests];
  // The engine Service was deleted and re-made with kubectl create: our label, not our manager.
  const live = JSON.parse(recorded('converge-look-present.stdout')) as {
    items: { kind: string; metadata: { name: string; managedFields?: unknown[] } }[];
  };
  const service = live.items.find((o) => o.kind === 'Service' && o.metadata.name === 'engine')!;
  service.metadata.managedFields = [{ manager: 'kubectl-create', operation: 'Update' }];
  const runner = new FakeRunner()
    .on((a) => a[3] === 'get', { stdout: JSON.stringify(live) })
    .on((a) => a.includes('--dry-run=server'), { stdout: recorded('converge-dry-run.stdout') });
  const kubectl = new Kubectl(runner, { context: 'demon-e2e' });
  const result = await diffPlan(kubectl, objects, await look(kubectl, plan.namespace[0]!, objects), {
    force: false,
    pruneVolumes: false,
  });
  assert.equal(result.prune, ['Deployment engine']);
  assert.equal(result.notOurs, ['Service engine']);
  assert.match(
    formatDiff(result),
    /^- Deployment engine \(prune: delete\)\n= Service engine \(prune leaves it: no longer ours\)\n$/m,
  );
});
diff.run();
