import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfig } from '../lib/config/load.ts';
import { nightlyConfig } from '../lib/nightly/steps.ts';
import { nightlyOutcome, nightlySummary } from '../lib/nightly/report.ts';
import type { StepRecord } from '../lib/core/steps.ts';

const steps = (failAt?: string): StepRecord[] =>
  ['preflight', 'build images', 'fresh cluster', 'bootstrap', 'smoke', 'collect artifacts', 'teardown'].map((name) => ({
    name,
    ok: name !== failAt,
    durationMs: 1000,
    ...(name === failAt ? { error: `${name} broke` } : { outcome: 'ok' }),
  }));
const meta = { time: '2026-11-26T03:17:00Z', commit: 'abc1234', runDir: 'artifacts/x' };

const report = suite('nightly: verdict and summary');
for (const failAt of [
  'preflight',
  'build images',
  'fresh cluster',
  'bootstrap',
  'smoke',
  'collect artifacts',
  'teardown',
]) {
  report(`a failure at "${failAt}" is never reported as PASSED`, () => {
    const outcome = nightlyOutcome(steps(failAt), [], meta);
    assert.is(outcome.passed, false);
    assert.is(outcome.entry.result, 'failed');
    assert.is(outcome.entry.failingStep, failAt);
    const summary = nightlySummary(outcome, steps(failAt), [], ['summary.md']);
    assert.match(summary, new RegExp(`^# Nightly FAILED at "${failAt}"`));
    assert.not.match(summary, /PASSED/);
    assert.match(summary, new RegExp(`${failAt} broke`));
  });
}
report('all steps passing is PASSED, with durations against the median of earlier runs', () => {
  const previous = [1, 2, 3].map(
    () =>
      nightlyOutcome(
        steps().map((s) => ({ ...s, durationMs: 2000 })),
        [],
        meta,
      ).entry,
  );
  const outcome = nightlyOutcome(steps(), previous, meta);
  assert.is(outcome.passed, true);
  const summary = nightlySummary(outcome, steps(), previous, ['summary.md', 'smoke/junit.xml']);
  assert.match(summary, /^# Nightly PASSED/);
  assert.match(summary, /\| ✓ smoke \| 1\.0s \| 2\.0s \(-50%\) \| ok \|/);
  assert.match(summary, /- smoke\/junit.xml/);
});
report('the history line records time, commit, result, failing step and per-step durations', () => {
  const { entry } = nightlyOutcome(steps('smoke'), [], meta);
  assert.equal(entry, {
    time: meta.time,
    commit: 'abc1234',
    result: 'failed',
    failingStep: 'smoke',
    steps: Object.fromEntries(steps().map((s) => [s.name, 1000])),
    runDir: 'artifacts/x',
  });
});
report.run();

const fresh = suite('nightly: a fresh place to deploy');
fresh("kind: the nightly's own cluster name; existing: a namespace of its own, deleted afterwards", () => {
  const kind = nightlyConfig(parseConfig({}), '20261126t031700z');
  assert.is(kind.cluster.name, 'demon-nightly');
  assert.is(kind.namespace, 'demon-system');
  const existing = nightlyConfig(
    parseConfig({ cluster: { provider: 'existing', context: 'prod' } }),
    '20261126t031700z',
  );
  assert.is(existing.namespace, 'demon-system-nightly-20261126t031700z');
  assert.ok(
    nightlyConfig(
      parseConfig({ cluster: { provider: 'existing', context: 'p' }, namespace: 'a'.repeat(60) }),
      '123456789',
    ).namespace.length <= 63,
  );
});
fresh.run();
