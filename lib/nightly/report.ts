/**
 * What a nightly leaves behind besides the cluster evidence: steps.json, summary.md, one
 * history line, and the GitHub step summary. The verdict is computed from the step records
 * alone, so the summary can never say PASSED when a step failed.
 */
import { compareDurations, classify, type Classification, type HistoryEntry } from './history.ts';
import { formatDuration, type StepRecord } from '../core/steps.ts';
import { mermaidTrend } from './mermaid.ts';
import { currentStreak, streakText } from './streak.ts';

export interface NightlyOutcome {
  passed: boolean;
  failingStep?: string;
  entry: HistoryEntry;
  classification: Classification;
}

export function nightlyOutcome(
  records: StepRecord[],
  previous: HistoryEntry[],
  meta: { time: string; commit: string; runDir: string; url?: string },
): NightlyOutcome {
  const failing = records.find((r) => !r.ok);
  const entry: HistoryEntry = {
    time: meta.time,
    commit: meta.commit,
    result: failing ? 'failed' : 'passed',
    ...(failing ? { failingStep: failing.name } : {}),
    steps: Object.fromEntries(records.map((r) => [r.name, r.durationMs])),
    runDir: meta.runDir,
    ...(meta.url ? { url: meta.url } : {}),
  };
  return {
    passed: !failing,
    ...(failing ? { failingStep: failing.name } : {}),
    entry,
    classification: classify(entry, previous),
  };
}

const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function nightlySummary(
  outcome: NightlyOutcome,
  records: StepRecord[],
  previous: HistoryEntry[],
  files: string[],
): string {
  const verdict = outcome.passed ? 'PASSED' : `FAILED at "${outcome.failingStep}"`;
  const comparisons = new Map(compareDurations(outcome.entry, previous).map((c) => [c.step, c]));
  const rows = records.map((r) => {
    const c = comparisons.get(r.name);
    const versus =
      c?.medianMs === undefined
        ? 'n/a'
        : `${formatDuration(c.medianMs)} (${c.deltaPercent! >= 0 ? '+' : ''}${c.deltaPercent}%)`;
    return `| ${r.ok ? '✓' : '✗'} ${escape(r.name)} | ${formatDuration(r.durationMs)} | ${versus} | ${escape(r.ok ? (r.outcome ?? '') : (r.error ?? 'failed'))} |`;
  });
  const failure = records.find((r) => !r.ok);
  const history = [...previous, outcome.entry];
  const trend = mermaidTrend(history);
  return [
    `# Nightly ${verdict}`,
    '',
    `- run: ${outcome.entry.time}, commit ${outcome.entry.commit}`,
    `- ${outcome.classification.text}`,
    `- streak: ${streakText(currentStreak(history))}`,
    '',
    '| step | duration | median of last 7 runs | outcome |',
    '|---|---|---|---|',
    ...rows,
    ...(failure ? ['', '## What failed', '', '```', failure.error ?? 'failed', '```'] : []),
    ...(trend.length ? ['', '## Trend', '', ...trend] : []),
    '',
    '## Evidence in this directory',
    '',
    ...files.map((file) => `- ${file}`),
    '',
  ].join('\n');
}
