import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sampleHistory, writeSampleRuns } from './browser/fixture.ts';
import { runScript } from './helpers/cli.ts';
import {
  appendHistory,
  classify,
  compareDurations,
  median,
  readHistory,
  type HistoryEntry,
} from '../lib/nightly/history.ts';
import { historyPage } from '../lib/nightly/page.ts';
import { currentStreak, streakText } from '../lib/nightly/streak.ts';
import { slowestSteps, stepTrends } from '../lib/nightly/trends.ts';

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
  appendHistory(file, run('passed', { a: 1 }), 60);
  appendHistory(file, run('failed', { a: 2 }, 'a'), 60);
  appendFileSync(file, '{"time": "torn');
  assert.equal(
    readHistory(file).map((e) => e.result),
    ['passed', 'failed'],
  );
  assert.equal(readHistory(join(file, 'missing')), []);
  // Lines of another shape are skipped too: they never reach a summary or the page.
  appendFileSync(file, '\n{"time":"t","commit":"c","result":"maybe","steps":{}}\n');
  appendFileSync(file, '{"time":"t","commit":"c","result":"passed","steps":{"a":"<script>"}}\n');
  appendFileSync(file, '{"time":"t","commit":"c","result":"passed","steps":{"a":4},"later":"key"}\n');
  assert.equal(readHistory(file).slice(2), [{ time: 't', commit: 'c', result: 'passed', steps: { a: 4 } }]);
  // The next append rewrites the file whole: the torn line is gone, not buried mid-file.
  appendHistory(file, run('passed', { a: 3 }), 60);
  assert.equal(readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 4);
});
history('keeps only the newest `keep` runs, replacing the file through a rename', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demon-history-'));
  const file = join(dir, 'history.jsonl');
  for (let i = 1; i <= 12; i++) appendHistory(file, run('passed', { a: i }), 8);
  assert.equal(
    readHistory(file).map((e) => e.steps.a),
    [5, 6, 7, 8, 9, 10, 11, 12],
  );
  assert.equal(readdirSync(dir), ['history.jsonl'], 'no temporary file left behind');
});
history.run();

const at = (day: number, result: 'passed' | 'failed', commit: string, failingStep?: string): HistoryEntry => ({
  time: new Date(Date.UTC(2026, 10, day, 3, 17)).toISOString(),
  commit,
  result,
  steps: { build: 1000 * day, smoke: 500 },
  ...(failingStep ? { failingStep } : {}),
});

const streak = suite('nightly history: the current streak');
streak('red: how many nights, since which commit, at which step', () => {
  const history = [
    at(1, 'passed', 'a'.repeat(40)),
    at(2, 'failed', 'b'.repeat(40), 'bootstrap'),
    at(3, 'failed', 'c'.repeat(40), 'smoke'),
    at(4, 'failed', 'd'.repeat(40), 'smoke'),
  ];
  assert.is(
    streakText(currentStreak(history)),
    'red for 3 nights since bbbbbbb (2026-11-02), at step smoke (earlier in the streak: bootstrap)',
  );
  assert.is(
    streakText(currentStreak(history.slice(0, 2))),
    'red for 1 night since bbbbbbb (2026-11-02), at step bootstrap',
  );
});
streak('green, a commit that is not a hash, and no runs at all', () => {
  assert.is(
    streakText(currentStreak([at(1, 'failed', 'x', 's'), at(2, 'passed', 'unknown'), at(3, 'passed', 'v1.2')])),
    'green for 2 nights since 2026-11-02',
  );
  assert.is(streakText(currentStreak([at(5, 'passed', 'v1.2')])), 'green for 1 night since v1.2 (2026-11-05)');
  assert.is(streakText(currentStreak([])), 'no runs on record yet');
});
streak.run();

const trends = suite('nightly history: step trends');
trends('per step: a value per run (none where it did not run), the band, and recent against earlier', () => {
  const history = Array.from({ length: 14 }, (_, i) => run('passed', { build: (i < 7 ? 100 : 150) + i, smoke: 10 }));
  history.push(run('failed', { build: 40 }, 'build'));
  const [build, smoke] = stepTrends(history);
  assert.is(build!.step, 'build');
  assert.is(build!.values.length, 15);
  assert.is(smoke!.values[14], undefined);
  // ran: 100..106, 157..163, 40. Last 7: 158..163 and 40 -> 160; the 7 before: 101..106 and 157 -> 104.
  assert.is(build!.recentMs, 160);
  assert.is(build!.earlierMs, 104);
  assert.is(build!.deltaPercent, 54);
  assert.is(build!.failures, 1);
  assert.ok(build!.lowMs <= build!.medianMs && build!.medianMs <= build!.highMs);
  assert.equal(
    slowestSteps([smoke!, build!], 1).map((t) => t.step),
    ['build'],
  );
});
trends.run();

const page = suite('nightly history: the page');
const ARTIFACTS = '/srv/nightly/artifacts';
const sample = sampleHistory(40, ARTIFACTS);
const latestDir = sample[sample.length - 1]!.runDir!;
const cells = (html: string) => [...html.matchAll(/<li class="(passed|failed)">(.*?)<\/li>/g)];

page(
  'the strip: the last 30 runs, each linked to its summary.md relative to the page, commit and failing step on hover',
  () => {
    const html = historyPage(sample, { pageDir: latestDir });
    const strip = cells(html);
    assert.is(strip.length, 30);
    strip.forEach(([, result, cell], i) => {
      const entry = sample[10 + i]!;
      assert.is(result, entry.result);
      // The page sits in the newest run's directory, beside that run's own summary.md.
      const expected = i === 29 ? './summary.md' : `../${basename(entry.runDir!)}/summary.md`;
      assert.is(/href="([^"]+)"/.exec(cell!)![1], expected);
      const title = /title="([^"]+)"/.exec(cell!)![1]!;
      assert.ok(title.includes(`commit ${entry.commit.slice(0, 7)}`), title);
      if (entry.result === 'failed') assert.ok(title.startsWith(`✗ failed at ${entry.failingStep}`), title);
      assert.match(cell!, entry.result === 'passed' ? />✓<\/a>$/ : />✗<\/a>$/);
    });
    assert.match(
      html,
      /<p class="streak failed" id="streak">✗ red for 3 nights since [0-9a-f]{7} \(2026-11-07\), at step smoke<\/p>/,
    );
  },
);
page('charts are images with a title and a description; the table carries the same runs', () => {
  const html = historyPage(sample, { pageDir: latestDir });
  const images = [...html.matchAll(/<svg class="(chart|spark)"[^>]*role="img" aria-labelledby="([^ "]+) ([^"]+)">/g)];
  assert.is(images.filter((m) => m[1] === 'chart').length, 7, 'one chart per step');
  assert.is(images.filter((m) => m[1] === 'spark').length, 3, 'the three slowest steps');
  for (const [, , title, desc] of images) {
    assert.match(html, new RegExp(`<title id="${title}">[^<]+</title>`));
    assert.match(html, new RegExp(`<desc id="${desc}">[^<]+</desc>`));
  }
  assert.match(
    html,
    /<desc id="chart-4-d">40 runs from 2026-10-01 to 2026-11-09\. Median [^<]*Failed at this step in 3 runs\.<\/desc>/,
  );
  assert.is([...html.matchAll(/<tr><th scope="row">/g)].length, 30 + 3, '30 runs and the 3 slowest steps');
});
page('every piece of text is escaped, links stay relative, and nothing is loaded or run', () => {
  const hostile: HistoryEntry = {
    time: '<b>now</b>',
    commit: '"><script>alert(1)</script>',
    result: 'failed',
    failingStep: '<img src=x onerror=alert(1)>',
    steps: { '<img src=x onerror=alert(1)>': 5, "it's & <ok>": 7 },
    runDir: 'javascript:alert(1)',
    url: 'javascript:alert(2)',
  };
  const html = historyPage([hostile, { ...hostile, url: 'https://github.com/o/r/actions/runs/1' }], { pageDir: '/p' });
  assert.not.match(html, /<script|<img|<b>/i);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  assert.match(html, /it&#39;s &amp; &lt;ok&gt;/);
  assert.match(html, /&quot;&gt;&lt;script&gt;/);
  for (const [, href] of html.matchAll(/href="([^"]*)"/g)) assert.match(href!, /^(\.{1,2}\/|https:\/\/)/, href);
  assert.match(html, /href="\.\/javascript%3Aalert\(1\)\/summary\.md"/);
  assert.match(html, /href="https:\/\/github\.com\/o\/r\/actions\/runs\/1">CI run</);
  assert.not.match(html, /javascript:alert\(2\)/);
  // Nothing from elsewhere: no http(s) resource, no @import or url(); the CSP forbids it anyway.
  const markup = html.replace(/"[^"]*"/g, '""'); // attribute values are text, already escaped
  assert.not.match(markup, /<[^>]*\s(src|srcset)=|@import|url\(/);
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">/,
  );
});
page('an empty history says so', () => {
  assert.match(historyPage([], { pageDir: '/p' }), /<p class="streak" id="streak">no runs on record yet<\/p>/);
});
page('1000 runs: points beyond the marked ones are a line, not an element each', () => {
  const html = historyPage(sampleHistory(1000, ARTIFACTS), { pageDir: ARTIFACTS });
  assert.is(cells(html).length, 30);
  assert.ok(html.length < 600_000, `${html.length} bytes`);
});
page('scripts/history-page.mts draws the page from a history file; a missing file is a usage error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demon-page-'));
  const history = sampleHistory(40, join(dir, 'artifacts'));
  const file = writeSampleRuns(join(dir, 'artifacts'), history);
  const ok = runScript('history-page.mts', ['--history', file]);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /index\.html: 40 runs, red for 3 nights since [0-9a-f]{7} \(2026-11-07\), at step smoke/);
  const written = readFileSync(join(dir, 'artifacts', 'index.html'), 'utf8');
  assert.is(/href="([^"]+)"/.exec(written)![1], `./${basename(history[10]!.runDir!)}/summary.md`);
  const missing = runScript('history-page.mts', ['--history', join(dir, 'nope.jsonl')]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /--history .*nope\.jsonl: no such file/);
  // Without --history: the config's nightly.history, relative to the working directory.
  const config = join(dir, 'demon.yaml');
  writeFileSync(config, 'nightly: { history: artifacts/history.jsonl }\n');
  const fromConfig = runScript('history-page.mts', ['--config', config, '--out', join(dir, 'page.html')], {}, dir);
  assert.is(fromConfig.code, 0, fromConfig.stderr);
  assert.match(fromConfig.stdout, /page\.html: 40 runs/);
});
page.run();
