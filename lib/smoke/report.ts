/**
 * Reports of a run as a list of named results: one JSON document, JUnit XML (one testcase per
 * result, so CI dashboards list them) and a markdown table for the GitHub step summary. Generic
 * on purpose: the smoke checks and the nightly's steps both report through it. The overall
 * status is derived here, once, so no report can say "passed" while a result failed.
 */
import { appendFileSync } from 'node:fs';

export type ResultStatus = 'passed' | 'failed' | 'skipped';

export interface NamedResult {
  name: string;
  status: ResultStatus;
  durationMs: number;
  /** Why it failed or was skipped (already redacted by whoever builds the result). */
  error?: string;
  /** What it belongs to: a workload, a step group. JUnit's classname. */
  group?: string;
  /** How it was checked, e.g. "port-forward" or "api-proxy". */
  method?: string;
  /** What a passing check found, when that says more than "passed" ("JetStream on: ..."). */
  detail?: string;
  attempts?: number;
}

export interface Report {
  name: string;
  status: 'passed' | 'failed';
  startedAt: string;
  durationMs: number;
  counts: Record<ResultStatus, number>;
  results: NamedResult[];
}

/** Passed only when something ran and nothing failed: an empty run proves nothing. */
export function overallStatus(results: NamedResult[]): 'passed' | 'failed' {
  return results.some((r) => r.status === 'passed') && !results.some((r) => r.status === 'failed')
    ? 'passed'
    : 'failed';
}

export function buildReport(name: string, startedAt: Date, durationMs: number, results: NamedResult[]): Report {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const r of results) counts[r.status] += 1;
  return {
    name,
    status: overallStatus(results),
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(durationMs),
    counts,
    results,
  };
}

/**
 * The report with every text field masked: applied before any serialisation, so JSON and
 * XML escaping (or a cut table cell) can never hide a secret from the redactor.
 */
export function maskReport(report: Report, mask: (text: string) => string): Report {
  const results = report.results.map((r) => ({
    ...r,
    name: mask(r.name),
    ...(r.error !== undefined ? { error: mask(r.error) } : {}),
    ...(r.method !== undefined ? { method: mask(r.method) } : {}),
    ...(r.detail !== undefined ? { detail: mask(r.detail) } : {}),
  }));
  return { ...report, results };
}

/** One line for status output and summaries: never "PASSED" unless the report passed. */
export function headline(report: Report): string {
  const { passed, failed, skipped } = report.counts;
  const total = report.results.length;
  const rest = skipped ? `, ${skipped} skipped` : '';
  return report.status === 'passed'
    ? `${report.name} PASSED: ${passed} of ${total} checks passed${rest}`
    : `${report.name} FAILED: ${failed} of ${total} checks failed${rest}`;
}

export function reportJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** XML 1.0 forbids most control characters even when escaped; tool output may contain them. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** First line of an error: JUnit's failure message attribute (the whole text goes in the body). */
function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

export function reportJUnit(report: Report): string {
  const { failed, skipped } = report.counts;
  const tests = report.results.length;
  const cases = report.results.map((r) => {
    const attrs = `name="${xmlEscape(r.name)}" classname="${xmlEscape(`${report.name}.${r.group ?? report.name}`)}" time="${seconds(r.durationMs)}"`;
    const props = [r.method && `method=${r.method}`, r.attempts !== undefined && `attempts=${r.attempts}`, r.detail]
      .filter(Boolean)
      .join(', ');
    const out = props ? `\n      <system-out>${xmlEscape(props)}</system-out>` : '';
    if (r.status === 'failed') {
      const error = r.error ?? 'failed';
      return `    <testcase ${attrs}>\n      <failure message="${xmlEscape(firstLine(error))}" type="failure">${xmlEscape(error)}</failure>${out}\n    </testcase>`;
    }
    if (r.status === 'skipped')
      return `    <testcase ${attrs}>\n      <skipped message="${xmlEscape(r.error ?? 'skipped')}"/>${out}\n    </testcase>`;
    return `    <testcase ${attrs}>${out ? `${out}\n    ` : ''}</testcase>`;
  });
  const totals = `tests="${tests}" failures="${failed}" errors="0" skipped="${skipped}" time="${seconds(report.durationMs)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(report.name)}" ${totals}>`,
    `  <testsuite name="${xmlEscape(report.name)}" ${totals} timestamp="${report.startedAt.replace(/\.\d+Z$/, '')}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** A table cell: one line, no pipe characters breaking the table. */
function cell(text: string, max = 300): string {
  const flat = text
    .replace(/\r?\n+/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

const ICON: Record<ResultStatus, string> = { passed: '✅ passed', failed: '❌ failed', skipped: '⏭️ skipped' };

export function reportMarkdown(report: Report): string {
  const rows = report.results.map(
    (r) =>
      `| ${cell(r.name)} | ${ICON[r.status]} | ${cell(r.method ?? '')} | ${r.attempts ?? ''} | ${(r.durationMs / 1000).toFixed(1)}s | ${cell(r.error ?? r.detail ?? '')} |`,
  );
  return [
    `### ${headline(report)}`,
    '',
    `Started ${report.startedAt}, took ${(report.durationMs / 1000).toFixed(1)}s.`,
    '',
    '| check | status | method | attempts | duration | error or finding |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/**
 * Appends to the GitHub step summary file when there is one ($GITHUB_STEP_SUMMARY, passed in
 * by the caller: lib/ does not read the environment). Returns whether it wrote.
 */
export function appendStepSummary(
  file: string | undefined,
  markdown: string,
  append: (file: string, text: string) => void = appendFileSync,
): boolean {
  if (!file) return false;
  append(file, `${markdown}\n`);
  return true;
}
