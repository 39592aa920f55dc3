import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Kubectl } from '../lib/tools/kubectl.ts';
import type { WorkloadRef } from '../lib/render/manifests.ts';
import { podFindings, workloadReady, type Pod, type Snapshot, type Workload } from '../lib/wait/podstatus.ts';
import { assess, GraceTracker, graceFor, waitForWorkloads, WaitError } from '../lib/wait/wait.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';

// Snapshots recorded from the e2e cluster (see tests/fixtures/recorded/README.md).
function snapshot(file: string): Snapshot {
  const items = (JSON.parse(recorded(file)) as { items: (Pod | Workload)[] }).items;
  return {
    workloads: items.filter((i): i is Workload => i.kind === 'Deployment' || i.kind === 'StatefulSet'),
    pods: items.filter((i): i is Pod => i.kind === 'Pod'),
  };
}

const RECORDED_WORKLOADS = ['configerr', 'crashloop', 'healthy', 'noauth', 'notfound', 'notready', 'unschedulable'];
const refs = (names: string[]): WorkloadRef[] => names.map((name) => ({ kind: 'Deployment', name }));

const classify = suite('wait: classification of recorded pod status');
classify('each recorded failure is named by its cause', () => {
  const { findings } = assess(snapshot('wait-snapshot-failures.json'), refs(RECORDED_WORKLOADS));
  const byWorkload = Object.fromEntries(findings.map((f) => [f.workload, f.finding.cause]));
  assert.equal(byWorkload, {
    configerr: 'config-error',
    crashloop: 'crash-loop',
    notfound: 'image-pull',
    notready: 'readiness',
    unschedulable: 'unschedulable',
  });
});
classify('the image-pull finding carries the registry\'s own "not found"', () => {
  const { findings } = assess(snapshot('wait-snapshot-failures.json'), refs(['notfound']));
  assert.match(findings[0]!.finding.message, /never-pushed: not found/);
  assert.is(findings[0]!.finding.reason, 'ImagePullBackOff');
});
classify("a crash loop reports the exit code and reads the previous run's logs", () => {
  const { findings } = assess(snapshot('wait-snapshot-crashloopbackoff.json'), refs(['crashloop']));
  assert.is(findings[0]!.finding.cause, 'crash-loop');
  assert.match(findings[0]!.finding.message, /last exit code 3/);
  assert.is(findings[0]!.finding.previousLogs, true);
});
classify('ready workloads are ready; the others are pending with their progress', () => {
  const snap = snapshot('wait-snapshot-failures.json');
  const ready = snap.workloads
    .filter(workloadReady)
    .map((w) => w.metadata.name)
    .sort();
  assert.equal(ready, ['healthy', 'noauth']);
  const { pending } = assess(snap, refs(['healthy', 'notready']));
  assert.equal(pending, ['deployment/notready 0/1 ready']);
});
classify('a real bootstrap snapshot is all ready', () => {
  const snap = snapshot('wait-snapshot-ready.json');
  const names = snap.workloads.map((w) => ({ kind: w.kind, name: w.metadata.name }));
  assert.is(names.length, 4);
  assert.equal(assess(snap, names), { pending: [], findings: [] });
});
classify('a workload that does not exist yet is pending, not an error (no "no matching resources" race)', () => {
  assert.equal(assess({ workloads: [], pods: [] }, refs(['runtime'])).pending, ['deployment/runtime (not found yet)']);
});
classify('conditions are read by type and status, never by substring', () => {
  const pod: Pod = {
    kind: 'Pod',
    metadata: { name: 'p' },
    status: { conditions: [{ type: 'PodScheduled', status: 'True', reason: 'NotUnschedulable' }] },
  };
  assert.equal(podFindings(pod), []);
});
classify('a pod being deleted is not a failure', () => {
  const pod = snapshot('wait-snapshot-crashloopbackoff.json').pods.find(
    (p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'crashloop',
  )!;
  assert.equal(podFindings({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }), []);
});
classify.run();

const grace = suite('wait: grace windows');
const options = { pullGraceMs: 20_000, readinessGraceMs: 45_000 };
grace('pull errors get the pull grace, crash loops none', () => {
  assert.is(graceFor('image-pull', options), 20_000);
  assert.is(graceFor('crash-loop', options), 0);
  assert.is(graceFor('readiness', options), 45_000);
});
grace('a finding becomes fatal only after it has lasted its window, and is forgotten when it clears', () => {
  const tracker = new GraceTracker();
  const finding = { cause: 'image-pull' as const, pod: 'p', container: 'c', reason: 'ErrImagePull', message: '' };
  const graceOf = (cause: Parameters<typeof graceFor>[0]) => graceFor(cause, options);
  assert.equal(tracker.expired([finding], 0, graceOf), []);
  assert.equal(tracker.expired([finding], 19_999, graceOf), []);
  assert.equal(tracker.expired([finding], 20_000, graceOf), [finding]);
  assert.equal(tracker.expired([], 21_000, graceOf), []);
  assert.equal(tracker.expired([finding], 22_000, graceOf), []);
});
grace('a pull flipping between ErrImagePull and ImagePullBackOff keeps its grace window running', () => {
  const tracker = new GraceTracker();
  const graceOf = (cause: Parameters<typeof graceFor>[0]) => graceFor(cause, options);
  const pull = (reason: string) => ({ cause: 'image-pull' as const, pod: 'p', container: 'c', reason, message: '' });
  assert.equal(tracker.expired([pull('ErrImagePull')], 0, graceOf), []);
  assert.equal(tracker.expired([pull('ImagePullBackOff')], 10_000, graceOf), []);
  assert.equal(tracker.expired([pull('ErrImagePull')], 20_000, graceOf).length, 1);
});
grace.run();

/** A cluster that always returns the same recorded snapshot, events and logs. */
function fakeCluster(file: string) {
  const runner = new FakeRunner()
    .on((argv) => argv.includes('deployments,statefulsets,pods'), { stdout: recorded(file) })
    .on(
      (argv) => argv.includes('events'),
      (argv) => {
        const pod = argv.find((a) => a.startsWith('involvedObject.name='))!.split('=')[1]!;
        const name = pod.replace(/-[a-z0-9]+-[a-z0-9]+$/, '');
        return { stdout: recorded(`events-${name}.json`) };
      },
    )
    .on((argv) => argv.includes('logs'), { stdout: recorded('logs-crashloop-previous.stdout') });
  return { runner, kubectl: new Kubectl(runner, { context: 'demon-e2e' }) };
}

function fakeClock() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

const loop = suite('wait: the polling loop');
loop('stops at the first poll on a crash loop, with events and the previous logs', async () => {
  const { runner, kubectl } = fakeCluster('wait-snapshot-crashloopbackoff.json');
  const clock = fakeClock();
  try {
    await waitForWorkloads(kubectl, 'rec', refs(['crashloop']), { timeoutMs: 300_000, ...options, ...clock });
    assert.unreachable('should fail');
  } catch (error) {
    assert.instance(error, WaitError);
    const message = (error as Error).message;
    assert.match(message, /stopped waiting early: crashloop \(CrashLoopBackOff\)/);
    assert.match(message, /BackOff.*Back-off restarting failed container/);
    assert.match(message, /last log lines \(previous run\):\n\s+starting\n\s+fatal: cannot connect to NATS/);
  }
  assert.is(clock.now(), 0);
  assert.ok(runner.argvs().some((argv) => argv.includes('--previous')));
});
loop('an image pull error is given its grace window, then stops well before the timeout', async () => {
  const { kubectl } = fakeCluster('wait-snapshot-failures.json');
  const clock = fakeClock();
  const error = await waitForWorkloads(kubectl, 'rec', refs(['notfound']), {
    timeoutMs: 300_000,
    ...options,
    intervalMs: 1000,
    ...clock,
  }).catch((e: Error) => e);
  assert.instance(error, WaitError);
  assert.is(clock.now(), 20_000);
  assert.match((error as Error).message, /notfound: image-pull[\s\S]*not found/);
});
loop("a failing readiness probe stops after the readiness grace with the probe's events", async () => {
  const { kubectl } = fakeCluster('wait-snapshot-failures.json');
  const clock = fakeClock();
  const error = await waitForWorkloads(kubectl, 'rec', refs(['notready']), {
    timeoutMs: 300_000,
    ...options,
    ...clock,
  }).catch((e: Error) => e);
  assert.is(clock.now(), 45_000);
  assert.match((error as Error).message, /Readiness probe failed: HTTP probe failed with statuscode: 404/);
});
loop('returns as soon as every workload is ready', async () => {
  const { runner, kubectl } = fakeCluster('wait-snapshot-ready.json');
  const clock = fakeClock();
  const result = await waitForWorkloads(
    kubectl,
    'demon-manual',
    [{ kind: 'StatefulSet', name: 'nats' }, ...refs(['runtime', 'engine', 'operate-ui'])],
    { timeoutMs: 300_000, ...options, ...clock },
  );
  assert.is(result, '4 workloads ready');
  assert.is(runner.calls.length, 1);
});
loop('times out with the pending workloads named when nothing is fatal', async () => {
  const { kubectl } = fakeCluster('wait-snapshot-failures.json');
  const clock = fakeClock();
  const error = await waitForWorkloads(kubectl, 'rec', refs(['missing-workload']), {
    timeoutMs: 10_000,
    ...options,
    ...clock,
  }).catch((e: Error) => e);
  assert.match(
    (error as Error).message,
    /timed out after 10s waiting for deployment\/missing-workload \(not found yet\)/,
  );
  assert.is(clock.now(), 10_000);
});
loop.run();
