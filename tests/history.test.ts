import { mkdtempSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  appendHistory,
  classify,
  compareDurations,
  median,
  readHistory,
  type HistoryEntry,
} from '../lib/nightly/history.ts';

const run = (result: 'passed' | 'failed', steps: Record<string, number>, failingStep?: string): HistoryEntry => ({
  time: '2026-11-26T03:17:00Z',
  commit: 'abc1234',
  result,
  steps,
  ...(failingStep ? { failingStep } : {}),
});

const history = suite('nightly history');
history('a failure after passes is new; after a failure it is repeated, with the streak', () => {
  const passes = [run('passed', {}), run('passed', {})];
  assert.equal(classify(run('failed', {}, 'smoke'), passes), {
    kind: 'new failure',
    text: 'new failure at "smoke": first failure after 2 passing runs',
  });
  const once = [...passes, run('failed', {}, 'smoke')];
  assert.equal(classify(run('failed', {}, 'smoke'), once), {
    kind: 'repeated failure',
    text: 'repeated failure: 2 failed runs in a row, same step as before ("smoke")',
  });
  assert.match(classify(run('failed', {}, 'bootstrap'), once).text, /now at "bootstrap" \(was "smoke"\)/);
});
history('a pass after failures is a recovery; the first run ever says so', () => {
  assert.equal(classify(run('passed', {}), [run('failed', {}, 'x'), run('failed', {}, 'x')]).kind, 'recovered');
  assert.match(classify(run('passed', {}), []).text, /first run on record/);
  assert.match(classify(run('failed', {}, 'build images'), []).text, /first run on record/);
});
history('durations are compared with the median of the last 7 runs', () => {
  const previous = [1, 2, 3, 4, 5, 6, 7, 8, 100].map((s) => run('passed', { smoke: s * 1000 }));
  const [comparison] = compareDurations(run('passed', { smoke: 12_000, fresh: 5 }), previous);
  // last 7: 3..8 and 100 -> median 6 s
  assert.equal(comparison, { step: 'smoke', durationMs: 12_000, medianMs: 6000, deltaPercent: 100 });
  assert.equal(compareDurations(run('passed', { fresh: 5 }), previous)[0], { step: 'fresh', durationMs: 5 });
  assert.is(median([3, 1, 2]), 2);
  assert.is(median([]), undefined);
});
history('appends one line per run and survives a torn last line', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'demon-history-')), 'sub', 'history.jsonl');
  appendHistory(file, run('passed', { a: 1 }));
  appendHistory(file, run('failed', { a: 2 }, 'a'));
  appendFileSync(file, '{"time": "torn');
  assert.equal(
    readHistory(file).map((e) => e.result),
    ['passed', 'failed'],
  );
  assert.equal(readHistory(join(file, 'missing')), []);
});
history.run();
