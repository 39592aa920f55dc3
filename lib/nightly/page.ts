/**
 * The nightly history as one self-contained page (index.html): the current streak, a
 * pass/fail strip of the last runs linked to their summaries, the slowest steps' trend, each
 * step's duration over time, and the runs as a table for whoever cannot see the charts. No
 * script, no fonts, nothing from the network: a Content-Security-Policy says so to the browser.
 */
import { isAbsolute, join, relative } from 'node:path';
import { formatDuration } from '../core/steps.ts';
import { durationChart, sparkline } from './charts.ts';
import type { HistoryEntry } from './history.ts';
import { escapeHtml, relativeHref } from './html.ts';
import { glyph, runDay, runLine, runTime, shortCommit, totalMs } from './labels.ts';
import { currentStreak, streakText } from './streak.ts';
import { PAGE_CSS } from './style.ts';
import { slowestSteps, stepNames, stepTrends, type StepTrend } from './trends.ts';

export const STRIP_RUNS = 30;
const SLOWEST = 3;

export interface PageOptions {
  /** Where the page is written: the links to each run's summary.md are relative to it. */
  pageDir: string;
}

/** A run's summary.md, relative to the page; a relative runDir is taken as relative to the page already. */
function summaryHref(entry: HistoryEntry, pageDir: string): string | undefined {
  if (!entry.runDir) return undefined;
  const summary = join(entry.runDir, 'summary.md');
  return relativeHref(isAbsolute(summary) ? relative(pageDir, summary) : summary);
}

function strip(runs: HistoryEntry[], pageDir: string): string {
  const cells = runs.map((entry) => {
    const line = escapeHtml(runLine(entry));
    const href = summaryHref(entry, pageDir);
    const cell = href
      ? `<a href="${escapeHtml(href)}" title="${line}" aria-label="${line}">${glyph(entry)}</a>`
      : `<span title="${line}" aria-label="${line}" role="img">${glyph(entry)}</span>`;
    return `<li class="${escapeHtml(entry.result)}">${cell}</li>`;
  });
  return [
    '<div class="strip-box">',
    `<ol class="strip" aria-label="the last ${runs.length} runs, oldest first">${cells.join('')}</ol>`,
    `<p class="ends" aria-hidden="true"><span>${escapeHtml(runDay(runs[0]!.time))}</span><span>newest: ${escapeHtml(runDay(runs[runs.length - 1]!.time))}</span></p>`,
    '</div>',
    '<p class="note">✓ passed, ✗ failed (striped). Hover a run for its commit and failing step; each opens its summary.md.</p>',
  ].join('\n');
}

function direction(trend: StepTrend): string {
  if (trend.deltaPercent === undefined) return 'not enough runs to compare';
  const sign = trend.deltaPercent > 0 ? '+' : '';
  if (trend.deltaPercent >= 10) return `▲ slower: ${sign}${trend.deltaPercent}% against the 7 runs before`;
  if (trend.deltaPercent <= -10) return `▼ faster: ${trend.deltaPercent}% against the 7 runs before`;
  return `▬ steady: ${sign}${trend.deltaPercent}% against the 7 runs before`;
}

function slowest(trends: StepTrend[]): string {
  const rows = slowestSteps(trends, SLOWEST).map((trend) => {
    const index = trends.indexOf(trend);
    const recent = trend.values.slice(-STRIP_RUNS);
    const ran = recent.filter((v): v is number => v !== undefined);
    const range = ran.length
      ? `from ${formatDuration(Math.min(...ran))} to ${formatDuration(Math.max(...ran))}`
      : 'it did not run';
    const spark = sparkline(recent, `spark-${index}`, `${trend.step}: the last ${recent.length} runs`, range);
    return `<tr><th scope="row">${escapeHtml(trend.step)}</th><td class="num">${formatDuration(Math.round(trend.recentMs))}</td><td>${escapeHtml(direction(trend))}</td><td>${spark}</td></tr>`;
  });
  return [
    '<table class="slowest">',
    '<thead><tr><th scope="col">step</th><th scope="col">median, last 7 runs</th><th scope="col">trend</th><th scope="col">last 30 runs</th></tr></thead>',
    `<tbody>${rows.join('')}</tbody></table>`,
  ].join('\n');
}

function charts(trends: StepTrend[], history: HistoryEntry[]): string {
  const figures = trends.map(
    (trend, index) =>
      `<figure><figcaption>${escapeHtml(trend.step)}</figcaption>${durationChart(trend, history, `chart-${index}`)}</figure>`,
  );
  return [
    '<p class="note"><span class="key line"></span>duration per run (oldest left)<span class="key median"></span>median<span class="key band"></span>middle half of runs<span class="fail-key">✗</span> the run failed at this step</p>',
    `<div class="charts">${figures.join('\n')}</div>`,
  ].join('\n');
}

function table(runs: HistoryEntry[], pageDir: string): string {
  const steps = stepNames(runs);
  const head = ['run', 'result', 'commit', 'failing step', 'total', ...steps, 'evidence']
    .map((name) => `<th scope="col">${escapeHtml(name)}</th>`)
    .join('');
  const rows = [...runs].reverse().map((entry) => {
    const href = summaryHref(entry, pageDir);
    const links = [
      href ? `<a href="${escapeHtml(href)}">summary.md</a>` : '',
      entry.url && /^https:\/\//.test(entry.url) ? `<a href="${escapeHtml(entry.url)}">CI run</a>` : '',
    ].filter(Boolean);
    const cells = [
      `<th scope="row">${escapeHtml(runTime(entry.time))}</th>`,
      `<td>${glyph(entry)} ${escapeHtml(entry.result)}</td>`,
      `<td><code>${escapeHtml(shortCommit(entry.commit))}</code></td>`,
      `<td>${escapeHtml(entry.failingStep ?? '')}</td>`,
      `<td class="num">${escapeHtml(formatDuration(totalMs(entry)))}</td>`,
      ...steps.map(
        (s) =>
          `<td class="num">${entry.steps[s] === undefined ? '–' : escapeHtml(formatDuration(entry.steps[s]))}</td>`,
      ),
      `<td>${links.join(' ')}</td>`,
    ];
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table class="runs"><caption class="note">newest first; – : the step did not run</caption><thead><tr>${head}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

export function historyPage(history: HistoryEntry[], options: PageOptions): string {
  const streak = currentStreak(history);
  const recent = history.slice(-STRIP_RUNS);
  const trends = stepTrends(history);
  const body = history.length
    ? [
        `<p class="meta">${history.length} run${history.length === 1 ? '' : 's'} on record, ${escapeHtml(runDay(history[0]!.time))} to ${escapeHtml(runDay(history[history.length - 1]!.time))}. Latest: ${escapeHtml(runLine(history[history.length - 1]!))}.</p>`,
        `<p class="streak ${escapeHtml(streak!.result)}" id="streak">${streak!.result === 'passed' ? '✓' : '✗'} ${escapeHtml(streakText(streak))}</p>`,
        `<section aria-labelledby="h-runs"><h2 id="h-runs">The last ${recent.length} runs</h2>`,
        strip(recent, options.pageDir),
        '</section>',
        `<section aria-labelledby="h-slowest"><h2 id="h-slowest">The slowest steps</h2>`,
        slowest(trends),
        '</section>',
        `<section aria-labelledby="h-steps"><h2 id="h-steps">Duration per step, all ${history.length} runs</h2>`,
        charts(trends, history),
        '</section>',
        `<section aria-labelledby="h-table"><h2 id="h-table">The runs as a table</h2>`,
        `<details><summary>the last ${recent.length} runs, every step's duration</summary>`,
        table(recent, options.pageDir),
        '</details></section>',
      ]
    : ['<p class="streak" id="streak">no runs on record yet</p>'];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Nightly history: ${escapeHtml(streakText(streak))}</title>`,
    `<style>${PAGE_CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    '<h1>Nightly history</h1>',
    ...body,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
