import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { loadConfig, parseConfig } from '../lib/config/load.ts';
import { REPO_ROOT } from '../lib/core/session.ts';
import { runStamp, type StepRecord } from '../lib/core/steps.ts';
import { writeNightlyEvidence } from '../lib/nightly/evidence.ts';
import { mermaidTrend } from '../lib/nightly/mermaid.ts';
import { nightlyConfig, type NightlyContext } from '../lib/nightly/steps.ts';
import { nightlyOutcome, nightlySummary } from '../lib/nightly/report.ts';
import { testSession } from './helpers/session.ts';

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

const summary = suite('nightly: the summary at a glance');
const history = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    ...nightlyOutcome(
      steps(i === n - 1 ? 'smoke' : undefined).map((s) => ({
        ...s,
        durationMs: s.name === 'build images' ? 90_000 + i * 1000 : 1000,
      })),
      [],
      { ...meta, time: new Date(Date.UTC(2026, 10, 1 + i, 3, 17)).toISOString(), commit: `${i}`.padStart(40, 'c') },
    ).entry,
  }));
summary('the streak line, and Mermaid charts of the slowest steps over the last 14 runs', () => {
  const previous = history(20);
  // Failed at preflight: the later main steps never ran.
  const records = steps('preflight').filter((r) => ['preflight', 'collect artifacts', 'teardown'].includes(r.name));
  const outcome = nightlyOutcome(records, previous, { ...meta, time: '2026-11-21T03:17:00Z' });
  const text = nightlySummary(outcome, records, previous, ['summary.md']);
  assert.match(
    text,
    /\n- streak: red for 2 nights since c{7} \(2026-11-20\), at step preflight \(earlier in the streak: smoke\)\n/,
  );
  const charts = [
    ...text.matchAll(
      /```mermaid\nxychart-beta\n {2}title "([^"]+)"\n {2}x-axis \[([^\]]+)\]\n {2}y-axis "seconds" 0 --> (\d+)\n {2}bar \[([^\]]+)\]\n```/g,
    ),
  ];
  assert.is(charts.length, 3);
  assert.is(charts[0]![1], 'build images: seconds per run, 11-08 to 11-21');
  const labels = charts[0]![2]!.split(', ');
  assert.is(labels.length, 14);
  assert.equal(labels.slice(-3), ['"19 ✓"', '"20 ✗"', '"21 ✗"']);
  assert.is(charts[0]![3], '120', 'from zero to a round figure above the slowest (109 s)');
  assert.equal(charts[0]![4]!.split(', ').slice(-3), ['108', '109', '0'], 'seconds; 0 where the step did not run');
  assert.ok(text.indexOf('## Trend') < text.indexOf('## Evidence in this directory'));
});
summary('the first run has a streak line and no chart; text Mermaid cannot quote is dropped', () => {
  const outcome = nightlyOutcome(steps(), [], meta);
  const text = nightlySummary(outcome, steps(), [], ['summary.md']);
  assert.match(text, /- streak: green for 1 night since abc1234 \(2026-11-26\)/);
  assert.not.match(text, /mermaid/);
  const odd = history(3).map((e) => ({ ...e, steps: { 'say "hi" [x]; %%': 5000 } }));
  assert.match(mermaidTrend(odd).join('\n'), /title "say  hi   x     : seconds per run, /);
  const sameDay = history(3).map((e) => ({ ...e, time: '2026-11-05T03:17:00Z' }));
  assert.match(mermaidTrend(sameDay).join('\n'), /x-axis \["05 ✓", "05 ✓ \(2\)", "05 ✗"\]/);
});
summary.run();

/**
 * The Actions cache as nightly.yml uses it: restore takes the newest entry whose key starts
 * with the prefix, save refuses a key that exists (entries are immutable). Keys come from
 * the workflow itself, with the run id and attempt filled in.
 */
function actionsCache(dir: string) {
  const workflow = parse(readFileSync(join(REPO_ROOT, '.github/workflows/nightly.yml'), 'utf8')) as {
    jobs: { nightly: { steps: { uses?: string; with?: Record<string, string> }[] } };
  };
  const step = (action: string) => workflow.jobs.nightly.steps.find((s) => s.uses?.startsWith(action))!.with!;
  const key = (template: string, run: { id: number; attempt: number }) =>
    template.replace('${{ github.run_id }}', `${run.id}`).replace('${{ github.run_attempt }}', `${run.attempt}`);
  let saved = 0;
  return {
    restore(workspace: string, run: { id: number; attempt: number }) {
      const { path, 'restore-keys': prefix } = step('actions/cache/restore@');
      const exact = key(step('actions/cache/restore@').key!, run);
      const entries = readdirSync(dir)
        .map((name) => ({ name, key: name.replace(/^\d+-/, ''), order: Number(name.split('-')[0]) }))
        .filter((e) => e.key === exact || e.key.startsWith(prefix!))
        .sort((a, b) => b.order - a.order);
      if (entries[0]) cpSync(join(dir, entries[0].name, path!), join(workspace, path!));
    },
    save(workspace: string, run: { id: number; attempt: number }) {
      const { path, key: template } = step('actions/cache/save@');
      const name = key(template!, run);
      assert.not.ok(
        readdirSync(dir).some((n) => n.endsWith(`-${name}`)),
        `cache key ${name} saved twice`,
      );
      cpSync(join(workspace, path!), join(dir, `${++saved}-${name}`, path!));
    },
  };
}

const persisted = suite('nightly: history carried between GitHub runs');
persisted('two runs on fresh checkouts sharing the cache: the second knows the first', () => {
  const root = mkdtempSync(join(tmpdir(), 'demon-carried-'));
  mkdirSync(join(root, 'cache'));
  const cache = actionsCache(join(root, 'cache'));
  const { nightly: settings } = loadConfig(join(REPO_ROOT, 'config/nightly.yaml'));
  // The runner's workspace has the same path on every run, and nothing in it survives.
  const workspace = join(root, 'work', 'demon-bootstrap');
  const nightlyRun = (id: number, startedAt: Date) => {
    rmSync(workspace, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    cache.restore(workspace, { id, attempt: 1 });
    const runDir = join(workspace, settings.artifacts, runStamp(startedAt));
    const stepSummary = join(workspace, 'step-summary.md');
    const context = {
      config: parseConfig({}),
      options: { runDir },
      images: { revision: { commit: `${id}`.padStart(40, 'f') } },
      session: testSession(
        { exec: () => Promise.reject(new Error('no tools here')) },
        {
          env: {
            GITHUB_STEP_SUMMARY: stepSummary,
            GITHUB_SERVER_URL: 'https://github.com',
            GITHUB_REPOSITORY: 'o/demon-bootstrap',
            GITHUB_RUN_ID: `${id}`,
          },
        },
      ),
    } as unknown as NightlyContext;
    const verdict = writeNightlyEvidence(context, steps('smoke'), startedAt, join(workspace, settings.history));
    cache.save(workspace, { id, attempt: 1 });
    return { verdict, runDir, stepSummary };
  };

  const first = nightlyRun(1001, new Date('2026-11-26T03:17:00Z'));
  assert.match(first.verdict, /new failure at "smoke": first failure \(first run on record\)/);
  const second = nightlyRun(1002, new Date('2026-11-27T03:17:00Z'));
  assert.match(second.verdict, /repeated failure: 2 failed runs in a row, same step as before \("smoke"\)/);
  const text = readFileSync(join(second.runDir, 'summary.md'), 'utf8');
  assert.match(text, /\| ✗ smoke \| 1\.0s \| 1\.0s \(\+0%\) \|/, 'a median, not n/a');
  assert.match(text, /- streak: red for 2 nights since f{7} \(2026-11-26\), at step smoke/);
  assert.match(text, /```mermaid\nxychart-beta/);
  assert.is(readFileSync(second.stepSummary, 'utf8'), `${text}\n`);
  const html = readFileSync(join(second.runDir, 'index.html'), 'utf8');
  assert.is([...html.matchAll(/<li class="failed">/g)].length, 2);
  assert.match(html, /href="\.\.\/20261126T031700Z\/summary\.md"/);
  assert.match(html, /href="https:\/\/github\.com\/o\/demon-bootstrap\/actions\/runs\/1001">CI run</);
  assert.match(text, /\n- index\.html\n/);
});
persisted('the history holds at most nightly.keep runs', () => {
  const root = mkdtempSync(join(tmpdir(), 'demon-keep-'));
  const file = join(root, 'history.jsonl');
  const config = parseConfig({ nightly: { keep: 8 } });
  for (let day = 1; day <= 10; day++) {
    const context = {
      config,
      options: { runDir: join(root, `run-${day}`) },
      images: {},
      session: testSession({ exec: () => Promise.reject(new Error('no tools here')) }),
    } as unknown as NightlyContext;
    writeNightlyEvidence(context, steps(), new Date(Date.UTC(2026, 10, day, 3, 17)), file);
  }
  const kept = readFileSync(file, 'utf8').trim().split('\n');
  assert.is(kept.length, 8);
  assert.match(kept[0]!, /"runDir":"[^"]*run-3"/);
  const page = readFileSync(join(root, 'run-10', 'index.html'), 'utf8');
  assert.is([...page.matchAll(/<li class="passed">/g)].length, 8);
});
persisted.run();
