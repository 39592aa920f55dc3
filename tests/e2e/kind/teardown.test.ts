/**
 * Teardown on kind (runs last: it deletes the lane's cluster). A kind cluster this tool did not
 * create is never deleted, even when the config names it: only what the stack put in its
 * namespace goes. The cluster bootstrap created is deleted whole, and a second teardown says
 * there is nothing left.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runScript } from '../../helpers/cli.ts';
import { ensureLaneStack } from './stack.ts';
import {
  LANE_CLUSTER,
  kindClusters,
  kindConfig,
  kindLane,
  kubectl,
  laneEnv,
  laneStack,
  remember,
  tool,
} from './support.ts';

const FOREIGN = 'demon-lane-foreign';
const env = laneEnv();

const teardown = suite('kind: teardown deletes the cluster only when this tool created it');
teardown.before(() => {
  ensureLaneStack();
  if (!kindClusters().includes(FOREIGN)) {
    remember(FOREIGN);
    // Made by hand, as someone else's cluster would be: plain kind, none of our labels.
    tool(
      'kind',
      ['create', 'cluster', '--name', FOREIGN, '--image', kindLane().nodeImage, '--config', '-'],
      'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  disableDefaultCNI: true\n',
    );
  }
});
teardown.after(() => {
  if (kindClusters().includes(FOREIGN)) tool('kind', ['delete', 'cluster', '--name', FOREIGN]);
});

teardown('a kind cluster someone else made survives, even named in the config', () => {
  kubectl(`kind-${FOREIGN}`, ['create', 'namespace', 'demon']);
  kubectl(`kind-${FOREIGN}`, ['-n', 'demon', 'create', 'configmap', 'theirs', '--from-literal=a=b']);
  const r = runScript('teardown.mts', ['--config', kindConfig(FOREIGN, laneStack()), '--yes'], env);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, /deleted kind cluster/);
  assert.ok(kindClusters().includes(FOREIGN));
  assert.is(
    kubectl(`kind-${FOREIGN}`, ['-n', 'demon', 'get', 'configmap', 'theirs', '-o', 'name']).trim(),
    'configmap/theirs',
  );
});

teardown('the cluster bootstrap created is deleted whole; a second teardown finds nothing to delete', () => {
  const file = kindConfig(LANE_CLUSTER, laneStack());
  const r = runScript('teardown.mts', ['--config', file, '--yes'], env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, `✓ delete: deleted kind cluster "${LANE_CLUSTER}"`);
  assert.not.ok(kindClusters().includes(LANE_CLUSTER));
  assert.ok(kindClusters().includes(FOREIGN), 'the other cluster is untouched');
  const again = runScript('teardown.mts', ['--config', file, '--yes'], env);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stderr, `kind cluster "${LANE_CLUSTER}" does not exist: nothing to delete`);
});

teardown.run();
