import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { parseConfig } from '../lib/config/load.ts';
import { CommandError } from '../lib/core/exec.ts';
import { kindClusterConfig, parseClusterList } from '../lib/tools/kind.ts';
import { clusterTarget, expandHome, providerFor } from '../lib/tools/provider.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';

// kind v0.27.0 outputs recorded on this machine (tests/fixtures/recorded/README.md).
const NONE = { stdout: recorded('kind-get-clusters-none.stdout'), stderr: recorded('kind-get-clusters-none.stderr') };
const TWO = { stdout: recorded('kind-get-clusters-demon.stdout'), stderr: recorded('kind-get-clusters-demon.stderr') };
const config = parseConfig({
  cluster: {
    provider: 'kind',
    name: 'demon',
    kind: { nodeImage: 'kindest/node:v1.32.2', config: { nodes: [{ role: 'control-plane' }, { role: 'worker' }] } },
  },
});
const OWNED = ['demon-bootstrap.io/created-by=demon-bootstrap'];
const nodesOf = (name: string) => [
  'kubectl',
  '--context',
  `kind-${name}`,
  'get',
  'nodes',
  '-l',
  ...OWNED,
  '-o',
  'name',
  '--request-timeout=15s',
];

const kind = suite('kind provider: create or reuse');
kind('parses `kind get clusters` (names on stdout, "No kind clusters found." on stderr)', () => {
  assert.equal(parseClusterList(NONE.stdout), []);
  assert.equal(parseClusterList(TWO.stdout), ['demon', 'other']);
});
kind('creates the cluster with the generated config on stdin, every node labelled as ours', async () => {
  const runner = new FakeRunner().on(['kind', 'get', 'clusters'], NONE).on(['kind', 'create', 'cluster'], {});
  assert.is(await providerFor(config, runner).ensure(), 'created');
  assert.equal(runner.argvs(), [
    ['kind', 'get', 'clusters'],
    [
      'kind',
      'create',
      'cluster',
      '--name',
      'demon',
      '--config',
      '-',
      '--wait',
      '120s',
      '--image',
      'kindest/node:v1.32.2',
    ],
  ]);
  const labels = { 'demon-bootstrap.io/created-by': 'demon-bootstrap' };
  assert.equal(parse(runner.calls[1]!.options!.input!), {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: 'demon',
    nodes: [
      { role: 'control-plane', labels },
      { role: 'worker', labels },
    ],
  });
});
kind('reuses an existing cluster of that name and re-exports its kubeconfig context', async () => {
  const runner = new FakeRunner().on(['kind', 'get', 'clusters'], TWO).on(['kind', 'export', 'kubeconfig'], {});
  assert.is(await providerFor(config, runner).ensure(), 'reused');
  assert.equal(runner.argvs(), [
    ['kind', 'get', 'clusters'],
    ['kind', 'export', 'kubeconfig', '--name', 'demon'],
  ]);
});
kind("a failing kind command surfaces kind's own error with the command line", async () => {
  const runner = new FakeRunner()
    .on(['kind', 'get', 'clusters'], TWO)
    .on(['kind', 'export', 'kubeconfig'], { exitCode: 1, stderr: recorded('kind-export-kubeconfig.stderr') });
  const error = await providerFor(config, runner)
    .ensure()
    .catch((e: Error) => e);
  assert.instance(error, CommandError);
  assert.match(
    (error as Error).message,
    /^`kind export kubeconfig --name demon` exited with code 1:\nERROR: failed to get cluster internal kubeconfig/,
  );
});
kind('user config is deep-merged over the defaults; its own node labels are kept beside ours', () => {
  const merged = kindClusterConfig(
    parseConfig({
      cluster: {
        kind: {
          config: { networking: { apiServerPort: 6443 }, nodes: [{ role: 'control-plane', labels: { tier: 'x' } }] },
        },
      },
    }),
  );
  assert.equal(merged, {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: 'demon',
    networking: { apiServerPort: 6443 },
    nodes: [{ role: 'control-plane', labels: { tier: 'x', 'demon-bootstrap.io/created-by': 'demon-bootstrap' } }],
  });
});
kind.run();

const remove = suite('kind provider: delete only what we created');
remove('a cluster whose nodes carry our label is deleted', async () => {
  const runner = new FakeRunner()
    .on(['kind', 'get', 'clusters'], TWO)
    .on(nodesOf('other'), { stdout: 'node/other-control-plane\n' })
    .on(['kind', 'delete', 'cluster'], { stderr: recorded('kind-delete-cluster.stderr') });
  const other = parseConfig({ cluster: { provider: 'kind', name: 'other' } });
  assert.is(await providerFor(other, runner).remove(), 'deleted');
  assert.equal(runner.argvs().at(-1), ['kind', 'delete', 'cluster', '--name', 'other']);
});
remove("a cluster someone else made (kind's own default, say) is never deleted", async () => {
  const runner = new FakeRunner().on(['kind', 'get', 'clusters'], TWO).on(nodesOf('demon'), { stdout: '' });
  assert.is(await providerFor(config, runner).remove(), 'not ours');
  assert.not.ok(runner.argvs().some((argv) => argv.includes('delete')));
});
remove('a cluster that cannot be asked is not deleted either, and the error says how to do it by hand', async () => {
  const runner = new FakeRunner()
    .on(['kind', 'get', 'clusters'], TWO)
    .on(nodesOf('demon'), { exitCode: 1, stderr: recorded('kubectl-unreachable.stderr') });
  const error = await providerFor(config, runner)
    .remove()
    .catch((e: Error) => e);
  assert.match(
    (error as Error).message,
    /kind cluster "demon" cannot be reached to check that demon-bootstrap created it .*kind delete cluster --name demon/s,
  );
});
remove('delete is idempotent: a missing cluster is not an error', async () => {
  const runner = new FakeRunner().on(['kind', 'get', 'clusters'], NONE);
  assert.is(await providerFor(config, runner).remove(), 'not found');
});
remove("the nightly's fresh cluster refuses to replace a cluster that is not ours", async () => {
  const runner = new FakeRunner().on(['kind', 'get', 'clusters'], TWO).on(nodesOf('demon'), { stdout: '' });
  const error = await providerFor(config, runner)
    .fresh()
    .catch((e: Error) => e);
  assert.match(
    (error as Error).message,
    /a kind cluster "demon" exists and was not created by demon-bootstrap, so the nightly will not delete it/,
  );
});
remove("an existing cluster is never the provider's to delete, and cannot take --load", async () => {
  const existing = parseConfig({ cluster: { provider: 'existing', context: 'prod', kubeconfig: '~/.kube/prod' } });
  const provider = providerFor(existing, new FakeRunner());
  assert.is(await provider.remove(), 'not ours');
  assert.match(
    ((await provider.load('x:1').catch((e: Error) => e)) as Error).message,
    /--load puts images into a kind cluster/,
  );
  assert.equal(clusterTarget(existing, '/home/u'), { context: 'prod', kubeconfig: '/home/u/.kube/prod' });
  assert.is(expandHome('~', '/home/u'), '/home/u');
});
remove.run();
