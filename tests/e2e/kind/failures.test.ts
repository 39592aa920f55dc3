/**
 * The kind path failing the way it fails on people's machines, each with a message that says
 * what to do, and nothing left behind: kind not installed (exit 2, before anything runs), the
 * docker daemon down (exit 1, no cluster), a node image that does not exist (exit 1, kind's
 * own words, no cluster and no node container left).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runScript } from '../../helpers/cli.ts';
import { kindClusters, kindConfig, laneEnv, laneStack, remember, tool } from './support.ts';

const CLUSTER = 'demon-lane-broken';
const env = laneEnv();
const config = (nodeImage?: string) => kindConfig(CLUSTER, laneStack(), nodeImage);
const nodeContainers = () =>
  tool('docker', ['ps', '-a', '--filter', `name=^${CLUSTER}-`, '--format', '{{.Names}}']).trim();

const failures = suite('kind: failures say what to do and leave nothing behind');
failures.before(() => remember(CLUSTER));

failures('kind not installed: exit 2 naming kind and how to install it; nothing created', () => {
  const path = env
    .PATH!.split(':')
    .filter((dir) => !/\/kind-v[^/]+\/bin$/.test(dir))
    .join(':');
  const r = runScript('bootstrap.mts', ['--config', config()], { ...env, PATH: path });
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /kind/);
  assert.match(r.stderr, /go install sigs\.k8s\.io\/kind/);
  assert.not.ok(kindClusters().includes(CLUSTER));
});

failures('the docker daemon down: exit 1 saying so and how to fix it; nothing created', () => {
  const r = runScript('bootstrap.mts', ['--config', config()], {
    ...env,
    DOCKER_HOST: 'unix:///var/run/demon-lane-no-docker.sock',
  });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /the docker daemon is not reachable .*start Docker \(or set DOCKER_HOST\)/);
  assert.not.ok(kindClusters().includes(CLUSTER));
  assert.is(nodeContainers(), '');
});

failures("a node image that does not exist: exit 1 with kind's reason; no cluster, no node container left", () => {
  const r = runScript('bootstrap.mts', ['--config', config('localhost/kind-offline/node:does-not-exist')], env);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /✗ cluster/);
  assert.match(r.stderr, /node:does-not-exist/);
  assert.not.ok(kindClusters().includes(CLUSTER));
  assert.is(nodeContainers(), '');
});

failures.run();
