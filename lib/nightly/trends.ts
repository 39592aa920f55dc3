/**
 * Each step's durations across the history, with the figures the page draws: the median and
 * the middle half of the runs (the band), and whether the step is creeping slower (the median
 * of the last 7 runs against the 7 before them).
 */
import { MEDIAN_WINDOW, median, type HistoryEntry } from './history.ts';

export interface StepTrend {
  step: string;
  /** One per run, oldest first; undefined where the step did not run (after a failure). */
  values: (number | undefined)[];
  medianMs: number;
  /** 25th and 75th percentile: the band drawn behind the line. */
  lowMs: number;
  highMs: number;
  maxMs: number;
  /** Median of the last MEDIAN_WINDOW runs that ran the step, and of the window before. */
  recentMs: number;
  earlierMs?: number;
  /** Recent against earlier, in percent. */
  deltaPercent?: number;
  /** Runs that failed at this step. */
  failures: number;
}

function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (at - below);
}

/** Steps in the order they run: the order in which they first appear in the history. */
export function stepNames(history: HistoryEntry[]): string[] {
  const names = new Set<string>();
  for (const entry of history) for (const step of Object.keys(entry.steps)) names.add(step);
  return [...names];
}

export function stepTrends(history: HistoryEntry[]): StepTrend[] {
  return stepNames(history).map((step) => {
    const values = history.map((entry) => (typeof entry.steps[step] === 'number' ? entry.steps[step] : undefined));
    const ran = values.filter((v): v is number => v !== undefined);
    const sorted = [...ran].sort((a, b) => a - b);
    const recentMs = median(ran.slice(-MEDIAN_WINDOW))!;
    const earlierMs = median(ran.slice(-2 * MEDIAN_WINDOW, -MEDIAN_WINDOW));
    return {
      step,
      values,
      medianMs: quantile(sorted, 0.5),
      lowMs: quantile(sorted, 0.25),
      highMs: quantile(sorted, 0.75),
      maxMs: sorted[sorted.length - 1]!,
      recentMs,
      ...(earlierMs === undefined
        ? {}
        : { earlierMs, deltaPercent: earlierMs > 0 ? Math.round(((recentMs - earlierMs) / earlierMs) * 100) : 0 }),
      failures: history.filter((entry) => entry.result === 'failed' && entry.failingStep === step).length,
    };
  });
}

/** The steps that cost the most now (by the recent median), slowest first. */
export function slowestSteps(trends: StepTrend[], count: number): StepTrend[] {
  return [...trends].sort((a, b) => b.recentMs - a.recentMs).slice(0, count);
}
