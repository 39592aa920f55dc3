import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { CommandError } from '../lib/core/exec.ts';
import type { K8sObject } from '../lib/render/manifests.ts';
import { Kubectl, objectKey, parseObjects, valueDigest } from '../lib/tools/kubectl.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';

const target = { context: 'demon-e2e', kubeconfig: '/var/tmp/demon-e2e/kubeconfig' };
const base = ['kubectl', '--kubeconfig', '/var/tmp/demon-e2e/kubeconfig', '--context', 'demon-e2e'];
const OBJECTS: K8sObject[] = [
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'demon-secrets', namespace: 'rec' },
    data: { APP_TOKEN: 'cmVjb3JkZWQ=' },
  },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'engine', namespace: 'rec' } },
];

const calls = suite('kubectl: the exact commands');
calls(
  'apply: explicit kubeconfig and context, server-side, our field manager, no forcing, manifests on stdin',
  async () => {
    const runner = new FakeRunner().on(base, { stdout: recorded('converge-apply-unchanged.stdout') });
    await new Kubectl(runner, target).apply(OBJECTS);
    assert.equal(runner.argvs(), [
      [
        ...base,
        'apply',
        '--server-side',
        '--field-manager=demon-bootstrap',
        '-f',
        '-',
        '-o',
        'json',
        '--show-managed-fields',
      ],
    ]);
    assert.equal(
      parseAllDocuments(runner.calls[0]!.options!.input!).map((d) => (d.toJS() as K8sObject).metadata.name),
      ['demon-secrets', 'engine'],
    );
    assert.is(runner.calls[0]!.options!.sensitiveStdout, true, 'the output holds Secret data: never shown');
  },
);
calls('apply takes conflicting fields only when told, and a dry-run stays on the server', async () => {
  const runner = new FakeRunner().on(base, { stdout: '' });
  await new Kubectl(runner, target).apply(OBJECTS, { force: true, dryRun: true });
  assert.ok(runner.argvs()[0]!.includes('--force-conflicts') && runner.argvs()[0]!.includes('--dry-run=server'));
});
calls('getObjects: one get of the given objects, missing ones ignored, managed fields on request', async () => {
  const runner = new FakeRunner().on(base, { stdout: recorded('converge-look-present.stdout') });
  const live = await new Kubectl(runner, target).getObjects(OBJECTS, { managedFields: true });
  assert.equal(runner.argvs(), [
    [...base, 'get', '-f', '-', '--ignore-not-found', '-o', 'json', '--show-managed-fields'],
  ]);
  assert.ok(live.length > 5);
});
calls.run();

const parse = suite('kubectl: reading its JSON');
parse('one object or a List; a Secret keeps only digests of its values, never the values', () => {
  const live = parseObjects(recorded('converge-look-present.stdout'), 'kubectl get');
  const secret = live.find((o) => o.kind === 'Secret')!;
  assert.equal(secret.data, { APP_TOKEN: valueDigest(Buffer.from('recorded-token-value').toString('base64')) });
  assert.not.match(JSON.stringify(live), Buffer.from('recorded-token-value').toString('base64'));
  assert.is(
    parseObjects(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }), 'get').length,
    1,
  );
  assert.equal(parseObjects('', 'get'), []);
  assert.is(objectKey(secret), 'Secret/rec/demon-secrets');
});
parse('output that is not JSON names the command (a proxy answering HTML)', () => {
  assert.throws(
    () => parseObjects('<html><body>gateway</body></html>', 'kubectl get'),
    /kubectl get printed something that is not JSON/,
  );
});
parse.run();

const reach = suite('kubectl: reachability');
reach("an unreachable cluster names the context and kubectl's reason, whichever call meets it", async () => {
  const runner = new FakeRunner().on(['kubectl'], { exitCode: 1, stderr: recorded('kubectl-unreachable.stderr') });
  const k = new Kubectl(runner, { context: 'prod-eks' });
  const error = await k.checkReachable().catch((e: Error) => e);
  assert.match(
    (error as Error).message,
    /^cannot reach the cluster of context "prod-eks": The connection to the server 127.0.0.1:1 was refused/,
  );
  assert.equal(runner.argvs()[0], [
    'kubectl',
    '--context',
    'prod-eks',
    'get',
    '--raw',
    '/version',
    '--request-timeout=10s',
  ]);
  const viaApply = await k.apply(OBJECTS).catch((e: Error) => e);
  assert.match((viaApply as Error).message, /^cannot reach the cluster of context "prod-eks"/);
});
reach('a reachable cluster reports its version', async () => {
  const runner = new FakeRunner().on(['kubectl'], { stdout: recorded('kubectl-version.stdout') });
  assert.is(await new Kubectl(runner, { context: 'demon-e2e' }).checkReachable(), 'v1.32.13');
});
reach(
  "any other failure is a CommandError with the pastable command and kubectl's words, never its stdout",
  async () => {
    const runner = new FakeRunner().on(['kubectl'], {
      exitCode: 1,
      stdout: 'SECRET-DATA',
      stderr: 'Error from server (Forbidden): secrets is forbidden',
    });
    const error = await new Kubectl(runner, { context: 'c' }).apply(OBJECTS).catch((e: Error) => e);
    assert.instance(error, CommandError);
    assert.match(
      (error as Error).message,
      /`kubectl --context c apply --server-side[^`]*` exited with code 1:\nError from server \(Forbidden\)/,
    );
    assert.not.match((error as Error).message, 'SECRET-DATA');
    assert.is((error as CommandError).stdout, '');
  },
);
reach.run();
