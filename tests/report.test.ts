import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { parse } from 'test-results-parser';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  appendStepSummary,
  buildReport,
  headline,
  overallStatus,
  reportJson,
  reportJUnit,
  reportMarkdown,
  type NamedResult,
} from '../lib/smoke/report.ts';

const STARTED = new Date('2026-11-26T21:31:52.333Z');
const RESULTS: NamedResult[] = [
  { name: 'workloads ready', group: 'readiness', status: 'passed', durationMs: 412 },
  { name: 'runtime /health', group: 'runtime', status: 'passed', method: 'port-forward', attempts: 1, durationMs: 310 },
  {
    name: 'engine /health',
    group: 'engine',
    status: 'failed',
    method: 'api-proxy (port-forward failed: lost connection)',
    attempts: 8,
    durationMs: 15_012,
    error: 'HTTP 500: <db> & "queue" unreachable | retry\nsecond line \u0007bell',
  },
  {
    name: 'operate-ui /health',
    group: 'operate-ui',
    status: 'skipped',
    durationMs: 0,
    error: 'replicas: 0, nothing to check',
  },
];
const failed = buildReport('smoke', STARTED, 15_433, RESULTS);
const passed = buildReport('smoke', STARTED, 900, RESULTS.slice(0, 2));

const status = suite('report: the overall status');
status('failed when any result failed, whatever else passed', () => {
  assert.is(failed.status, 'failed');
  assert.equal(failed.counts, { passed: 2, failed: 1, skipped: 1 });
  assert.is(headline(failed), 'smoke FAILED: 1 of 4 checks failed, 1 skipped');
  assert.is(headline(passed), 'smoke PASSED: 2 of 2 checks passed');
});
status('nothing run, or only skipped, is not a pass', () => {
  assert.is(overallStatus([]), 'failed');
  assert.is(overallStatus([RESULTS[3]!]), 'failed');
});
status('no format says PASSED for a failed run', () => {
  for (const text of [reportJson(failed), reportJUnit(failed), reportMarkdown(failed)])
    assert.not.match(text, /PASSED|"status": "passed",\n  "startedAt"/);
  assert.match(reportMarkdown(failed), /^### smoke FAILED: 1 of 4 checks failed/);
});

const json = suite('report: JSON');
json('each result keeps name, method, status, attempts, duration and error', () => {
  const data = JSON.parse(reportJson(failed));
  assert.is(data.status, 'failed');
  assert.is(data.startedAt, '2026-11-26T21:31:52.333Z');
  assert.equal(data.results[2], RESULTS[2]);
});

const junit = suite('report: JUnit XML, read by a real consumer');
function consume(xml: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'junit-')), 'junit.xml');
  writeFileSync(file, xml);
  // test-results-parser is what TestBeats uses to publish JUnit results to dashboards and chats.
  return parse({ type: 'junit', files: [file] });
}
junit('well-formed XML even with markup, quotes and control characters in errors', () => {
  assert.is(XMLValidator.validate(reportJUnit(failed)), true);
});
junit('the consumer sees one testcase per result with its status, and the same totals', () => {
  const result = consume(reportJUnit(failed));
  assert.is(result.status, 'FAIL');
  assert.equal([result.total, result.passed, result.failed, result.skipped], [3, 2, 1, 1]);
  const cases = result.suites[0]!.cases;
  assert.equal(
    cases.map((c) => [c.name, c.status]),
    [
      ['workloads ready', 'PASS'],
      ['runtime /health', 'PASS'],
      ['engine /health', 'FAIL'],
      ['operate-ui /health', 'SKIP'],
    ],
  );
  assert.is(cases[2]!.failure, 'HTTP 500: <db> & "queue" unreachable | retry');
  assert.is(cases[2]!.stack_trace, 'HTTP 500: <db> & "queue" unreachable | retry\nsecond line bell');
  assert.is(Math.round(cases[2]!.duration), 15_012);
});
junit('a passing report is a passing suite for the consumer', () => {
  const result = consume(reportJUnit(passed));
  assert.equal([result.status, result.total, result.passed], ['PASS', 2, 2]);
});

const markdown = suite('report: GitHub step summary');
markdown('a table row per result; pipes and newlines cannot break the table', () => {
  const lines = reportMarkdown(failed).split('\n');
  const rows = lines.filter((l) => l.startsWith('| ') && !l.startsWith('| check'));
  assert.is(rows.length, 4);
  assert.ok(
    rows.every((r) => r.split(/(?<!\\)\|/).length === 8),
    rows.join('\n'),
  );
  assert.match(
    rows[2]!,
    /❌ failed \| api-proxy \(port-forward failed: lost connection\) \| 8 \| 15\.0s \| HTTP 500: <db> & "queue" unreachable \\\| retry second line/,
  );
});
markdown('appended to $GITHUB_STEP_SUMMARY when the caller has one, skipped otherwise', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'summary-')), 'step-summary.md');
  writeFileSync(file, '### an earlier step\n');
  assert.is(appendStepSummary(file, reportMarkdown(failed)), true);
  assert.is(appendStepSummary(file, reportMarkdown(passed)), true);
  const text = readFileSync(file, 'utf8');
  assert.ok(text.startsWith('### an earlier step\n### smoke FAILED'));
  assert.match(text, /### smoke PASSED/);
  assert.is(appendStepSummary(undefined, 'x'), false);
});

status.run();
json.run();
junit.run();
markdown.run();
