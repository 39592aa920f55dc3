import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { IDENTITY_TEMPLATE, Kubectl } from '../lib/tools/kubectl.ts';
import type { K8sObject } from '../lib/render/manifests.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';

// The 11 non-Secret objects of the e2e stack in namespace demon-rec; outputs recorded from the
// e2e cluster with exactly these commands (tests/fixtures/recorded/README.md).
const OBJECTS: K8sObject[] = [
  ['Namespace', undefined, 'demon-rec'], ['ConfigMap', 'demon-rec', 'nats-config'], ['Service', 'demon-rec', 'nats-headless'],
  ['Service', 'demon-rec', 'nats'], ['Service', 'demon-rec', 'runtime'], ['Service', 'demon-rec', 'engine'], ['Service', 'demon-rec', 'operate-ui'],
  ['StatefulSet', 'demon-rec', 'nats'], ['Deployment', 'demon-rec', 'runtime'], ['Deployment', 'demon-rec', 'engine'], ['Deployment', 'demon-rec', 'operate-ui'],
].map(([kind, namespace, name]) => ({ apiVersion: kind === 'Deployment' || kind === 'StatefulSet' ? 'apps/v1' : 'v1', kind: kind!, metadata: { name: name!, ...(namespace ? { namespace } : {}) } }));

const target = { context: 'demon-e2e', kubeconfig: '/var/tmp/demon-e2e/kubeconfig' };
const fake = (before: string, after: string) => new FakeRunner().on(['kubectl', '--kubeconfig', target.kubeconfig, '--context', 'demon-e2e', 'get'], { stdout: recorded(before) }).on(['kubectl', '--kubeconfig', target.kubeconfig, '--context', 'demon-e2e', 'apply'], { stdout: recorded(after) });

const apply = suite('kubectl: server-side apply, created / configured / unchanged');
apply('exact argv: explicit kubeconfig and context, server-side, our field manager, manifests on stdin', async () => {
  const runner = fake('kubectl-get-absent.stdout', 'kubectl-apply-created.stdout');
  await new Kubectl(runner, target).apply(OBJECTS);
  const base = ['kubectl', '--kubeconfig', '/var/tmp/demon-e2e/kubeconfig', '--context', 'demon-e2e'];
  assert.equal(runner.argvs(), [
    [...base, 'get', '-f', '-', '--ignore-not-found', '-o', `go-template=${IDENTITY_TEMPLATE}`],
    [...base, 'apply', '--server-side', '--field-manager=demon-bootstrap', '--force-conflicts', '-f', '-', '-o', `go-template=${IDENTITY_TEMPLATE}`],
  ]);
  const stdin = runner.calls[1]!.options!.input!;
  assert.equal(parseAllDocuments(stdin).map((d) => (d.toJS() as K8sObject).metadata.name), OBJECTS.map((o) => o.metadata.name));
});
apply('first run: everything created', async () => {
  const result = await new Kubectl(fake('kubectl-get-absent.stdout', 'kubectl-apply-created.stdout'), target).apply(OBJECTS);
  assert.is(result.summary, '11 created');
});
apply('second run on the same manifests: everything unchanged', async () => {
  const result = await new Kubectl(fake('kubectl-get-present.stdout', 'kubectl-apply-unchanged.stdout'), target).apply(OBJECTS);
  assert.is(result.summary, '11 unchanged');
});
apply('replicas changed: exactly the four workloads are configured', async () => {
  const result = await new Kubectl(fake('kubectl-get-present.stdout', 'kubectl-apply-configured.stdout'), target).apply(OBJECTS);
  assert.is(result.summary, '4 configured, 7 unchanged');
  assert.equal(result.outcomes.filter((o) => o.outcome === 'configured').map((o) => o.object), ['statefulset/nats', 'deployment/runtime', 'deployment/engine', 'deployment/operate-ui']);
});
apply('a failed apply throws with kubectl\'s message', async () => {
  const runner = new FakeRunner().on(['kubectl'], (argv) => (argv.includes('apply') ? { exitCode: 1, stderr: 'Error from server (Forbidden): namespaces is forbidden' } : { stdout: '' }));
  const error = await new Kubectl(runner, { context: 'c' }).apply(OBJECTS).catch((e: Error) => e);
  assert.match((error as Error).message, /`kubectl --context c apply --server-side[^`]*` exited with code 1:\nError from server \(Forbidden\)/);
});
apply.run();

const reach = suite('kubectl: reachability');
reach('an unreachable cluster names the context and kubectl\'s reason', async () => {
  const runner = new FakeRunner().on(['kubectl'], { exitCode: 1, stderr: recorded('kubectl-unreachable.stderr') });
  const error = await new Kubectl(runner, { context: 'prod-eks' }).checkReachable().catch((e: Error) => e);
  assert.match((error as Error).message, /^cannot reach the cluster of context "prod-eks": The connection to the server 127.0.0.1:1 was refused/);
  assert.equal(runner.argvs()[0], ['kubectl', '--context', 'prod-eks', 'get', '--raw', '/version', '--request-timeout=10s']);
});
reach('a reachable cluster reports its version', async () => {
  const runner = new FakeRunner().on(['kubectl'], { stdout: recorded('kubectl-version.stdout') });
  assert.is(await new Kubectl(runner, { context: 'demon-e2e' }).checkReachable(), 'v1.32.13');
});
reach.run();
