import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { parseConfig } from '../lib/config/load.ts';
import { CommandError } from '../lib/core/exec.ts';
import { deleteKindCluster, ensureKindCluster, kindClusterConfig, parseClusterList } from '../lib/tools/kind.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';

// kind v0.27.0 outputs recorded on this machine (tests/fixtures/recorded/README.md).
const NONE = { stdout: recorded('kind-get-clusters-none.stdout'), stderr: recorded('kind-get-clusters-none.stderr') };
const TWO = { stdout: recorded('kind-get-clusters-demon.stdout'), stderr: recorded('kind-get-clusters-demon.stderr') };
const config = parseConfig({ cluster: { provider: 'kind', name: 'demon', kind: { nodeImage: 'kindest/node:v1.32.2', config: { nodes: [{ role: 'control-plane' }, { role: 'worker' }] } } } });

const kind = suite('kind: create or reuse');
kind('parses `kind get clusters` (names on stdout, "No kind clusters found." on stderr)', () => {
  assert.equal(parseClusterList(NONE.stdout), []);
  assert.equal(parseClusterList(TWO.stdout), ['demon', 'other']);
});
kind('creates the cluster with the generated config on stdin when none exists', async () => {
  const runner = new FakeRunner().on(['kind', 'get', 'clusters'], NONE).on(['kind', 'create', 'cluster'], {});
  assert.is(await ensureKindCluster(runner, config), 'created');
  assert.equal(runner.argvs(), [
    ['kind', 'get', 'clusters'],
    ['kind', 'create', 'cluster', '--name', 'demon', '--config', '-', '--wait', '120s', '--image', 'kindest/node:v1.32.2'],
  ]);
  const stdin = parse(runner.calls[1]!.options!.input!);
  assert.equal(stdin, { kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', name: 'demon', nodes: [{ role: 'control-plane' }, { role: 'worker' }] });
});
kind('reuses an existing cluster of that name and re-exports its kubeconfig context', async () => {
  const runner = new FakeRunner().on(['kind', 'get', 'clusters'], TWO).on(['kind', 'export', 'kubeconfig'], {});
  assert.is(await ensureKindCluster(runner, config), 'reused');
  assert.equal(runner.argvs(), [['kind', 'get', 'clusters'], ['kind', 'export', 'kubeconfig', '--name', 'demon']]);
});
kind('a failing kind command surfaces kind\'s own error with the command line', async () => {
  const runner = new FakeRunner()
    .on(['kind', 'get', 'clusters'], TWO)
    .on(['kind', 'export', 'kubeconfig'], { exitCode: 1, stderr: recorded('kind-export-kubeconfig.stderr') });
  const error = await ensureKindCluster(runner, config).catch((e: Error) => e);
  assert.instance(error, CommandError);
  assert.match((error as Error).message, /^`kind export kubeconfig --name demon` exited with code 1:\nERROR: failed to get cluster internal kubeconfig/);
});
kind('delete is idempotent: a missing cluster is not an error', async () => {
  const none = new FakeRunner().on(['kind', 'get', 'clusters'], NONE);
  assert.is(await deleteKindCluster(none, 'demon'), 'not found');
  const present = new FakeRunner().on(['kind', 'get', 'clusters'], TWO).on(['kind', 'delete', 'cluster'], { stderr: recorded('kind-delete-cluster.stderr') });
  assert.is(await deleteKindCluster(present, 'other'), 'deleted');
  assert.equal(present.argvs()[1], ['kind', 'delete', 'cluster', '--name', 'other']);
});
kind('user config is deep-merged over the defaults', () => {
  const merged = kindClusterConfig(parseConfig({ cluster: { kind: { config: { networking: { apiServerPort: 6443 }, name: 'ignored-name-is-user-choice' } } } }));
  assert.equal(merged, { kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', name: 'ignored-name-is-user-choice', networking: { apiServerPort: 6443 } });
});
kind.run();
