/**
 * The history at a glance in summary.md: GitHub renders ```mermaid blocks in Markdown and in
 * job step summaries. One bar chart per slowest step over the last runs, each titled with its
 * step (xychart-beta draws no legend, so one series per chart keeps it unambiguous).
 */
import type { HistoryEntry } from './history.ts';
import { niceCeiling } from './charts.ts';
import { glyph, runDay } from './labels.ts';
import { slowestSteps, stepTrends } from './trends.ts';

export const MERMAID_RUNS = 14;
const CHARTS = 3;

/** Mermaid takes quoted text up to the next quote: anything outside a plain set goes. */
const mermaidText = (text: string) => text.replace(/[^\p{L}\p{N} _.:/()+✓✗-]/gu, ' ').slice(0, 80);

/**
 * "28 ✓": the day of the month and the outcome, short enough for 14 bars side by side (the
 * title gives the dates); a counter when one day has more than one run (categories must differ).
 */
function runLabels(runs: HistoryEntry[]): string[] {
  const seen = new Map<string, number>();
  return runs.map((entry) => {
    const label = `${runDay(entry.time).slice(8)} ${glyph(entry)}`;
    const count = (seen.get(label) ?? 0) + 1;
    seen.set(label, count);
    return count === 1 ? label : `${label} (${count})`;
  });
}

/** Markdown lines: the charts of the slowest steps over the last runs, or nothing for one run. */
export function mermaidTrend(history: HistoryEntry[]): string[] {
  const runs = history.slice(-MERMAID_RUNS);
  if (runs.length < 2) return [];
  const axis = runLabels(runs)
    .map((label) => `"${mermaidText(label)}"`)
    .join(', ');
  const span = `${runDay(runs[0]!.time).slice(5)} to ${runDay(runs[runs.length - 1]!.time).slice(5)}`;
  const charts = slowestSteps(stepTrends(runs), CHARTS).flatMap((trend) => {
    const seconds = trend.values.map((ms) => (ms === undefined ? 0 : Math.round(ms / 100) / 10));
    return [
      '',
      '```mermaid',
      'xychart-beta',
      `  title "${mermaidText(trend.step)}: seconds per run, ${span}"`,
      `  x-axis [${axis}]`,
      // From zero, or a bar twice as tall reads as twice as slow when it is 10% slower.
      `  y-axis "seconds" 0 --> ${niceCeiling(trend.maxMs) / 1000}`,
      `  bar [${seconds.join(', ')}]`,
      '```',
    ];
  });
  return [
    `The slowest steps over the last ${runs.length} runs (oldest left; ✗ a failed run, 0 a step that did not run). ` +
      "Every run and step over time: index.html in the run's evidence.",
    ...charts,
  ];
}
