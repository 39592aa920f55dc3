import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Kubectl } from '../lib/tools/kubectl.ts';
import { MANAGED_KINDS, teardownExisting } from '../lib/bootstrap/teardown.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';

const BASE = ['kubectl', '--context', 'demon-e2e'];
const getLabel = [...BASE, 'get', 'namespace', 'demon-td', '--ignore-not-found', '-o', 'jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}'];
const deleteManaged = [...BASE, 'delete', MANAGED_KINDS, '-n', 'demon-td', '-l', 'app.kubernetes.io/managed-by=demon-bootstrap', '--ignore-not-found', '--wait=true', '--timeout=180s', '-o', 'name'];

const teardown = suite('teardown: existing cluster');
teardown('deletes our labelled objects, then the namespace we created', async () => {
  const runner = new FakeRunner()
    .on(getLabel, { stdout: recorded('kubectl-get-namespace-managed-by.stdout') })
    .on(deleteManaged, { stdout: recorded('kubectl-delete-managed.stdout') })
    .on([...BASE, 'delete', 'namespace', 'demon-td'], {});
  const outcome = await teardownExisting(new Kubectl(runner, { context: 'demon-e2e' }), 'demon-td');
  assert.is(outcome, 'deleted 11 objects and namespace demon-td');
  assert.equal(runner.argvs(), [getLabel, deleteManaged, [...BASE, 'delete', 'namespace', 'demon-td', '--ignore-not-found', '--wait=true', '--timeout=180s']]);
});
teardown('a namespace someone else created keeps existing; only our objects go', async () => {
  const runner = new FakeRunner()
    .on(getLabel, { stdout: '' })
    .on([...BASE, 'get', 'namespace', 'demon-td', '-o', 'name'], { stdout: 'namespace/demon-td\n' })
    .on(deleteManaged, { stdout: recorded('kubectl-delete-managed.stdout') });
  const outcome = await teardownExisting(new Kubectl(runner, { context: 'demon-e2e' }), 'demon-td');
  assert.is(outcome, 'deleted 11 objects; namespace demon-td was not created by demon-bootstrap and stays');
  assert.not.ok(runner.argvs().some((argv) => argv.includes('namespace') && argv.includes('delete')));
});
teardown('nothing to delete is not an error', async () => {
  const runner = new FakeRunner()
    .on(getLabel, { stdout: recorded('kubectl-get-namespace-absent.stdout') })
    .on([...BASE, 'get', 'namespace', 'demon-td', '-o', 'name'], { exitCode: 1, stderr: recorded('kubectl-get-namespace-absent.stderr') });
  assert.is(await teardownExisting(new Kubectl(runner, { context: 'demon-e2e' }), 'demon-td'), 'namespace demon-td does not exist: nothing to delete');
});
teardown.run();
