/**
 * Nightly history: one JSON line per run, and what a new run means against it: a new failure
 * (first after passes) or a repeated one, a recovery, and each step's duration against the
 * median of the last 7 runs.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

/**
 * The shape of a line. The file travels (a cache, a downloaded artifact, someone's own
 * collection), so a line of another shape is skipped like a torn one, rather than reaching a
 * summary or the page as something else. Unknown keys are dropped: newer lines still read.
 */
const entrySchema = z.object({
  time: z.string(),
  commit: z.string(),
  result: z.enum(['passed', 'failed']),
  failingStep: z.string().optional(),
  /** step name -> duration in ms */
  steps: z.record(z.string(), z.number().nonnegative()),
  runDir: z.string().optional(),
  /** The CI run's page (GitHub Actions), for when the run directory is not at hand. */
  url: z.string().optional(),
});

export type HistoryEntry = z.infer<typeof entrySchema>;

export const MEDIAN_WINDOW = 7;

export function readHistory(file: string): HistoryEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  // A torn last line (a run killed mid-write) must not hide the rest of the history.
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        const entry = entrySchema.safeParse(JSON.parse(line));
        return entry.success ? [entry.data] : [];
      } catch {
        return [];
      }
    });
}

/**
 * Adds the run and keeps only the newest `keep` runs, so a history carried from run to run
 * (the GitHub cache) stays small. The file is replaced whole through a rename: a run killed
 * mid-write leaves the previous history, never half of a new one.
 */
export function appendHistory(file: string, entry: HistoryEntry, keep: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const kept = [...readHistory(file), entry].slice(-keep);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
  renameSync(temporary, file);
}

export interface Classification {
  kind: 'passed' | 'recovered' | 'new failure' | 'repeated failure';
  text: string;
}

export function classify(current: HistoryEntry, previous: HistoryEntry[]): Classification {
  let streak = 0;
  for (let i = previous.length - 1; i >= 0 && previous[i]!.result === 'failed'; i--) streak++;
  if (current.result === 'passed') {
    return streak > 0
      ? { kind: 'recovered', text: `recovered: passed after ${streak} failed run${streak > 1 ? 's' : ''}` }
      : {
          kind: 'passed',
          text: previous.length ? `passed (${previous.length} earlier runs on record)` : 'passed (first run on record)',
        };
  }
  if (streak === 0) {
    const passes = previous.length;
    return {
      kind: 'new failure',
      text: `new failure at "${current.failingStep}": first failure${passes ? ` after ${passes} passing run${passes > 1 ? 's' : ''}` : ' (first run on record)'}`,
    };
  }
  const last = previous[previous.length - 1]!;
  const same =
    last.failingStep === current.failingStep
      ? `same step as before ("${current.failingStep}")`
      : `now at "${current.failingStep}" (was "${last.failingStep}")`;
  return { kind: 'repeated failure', text: `repeated failure: ${streak + 1} failed runs in a row, ${same}` };
}

export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface DurationComparison {
  step: string;
  durationMs: number;
  medianMs?: number;
  /** Percent above (+) or below (-) the median. */
  deltaPercent?: number;
}

export function compareDurations(current: HistoryEntry, previous: HistoryEntry[]): DurationComparison[] {
  const window = previous.slice(-MEDIAN_WINDOW);
  return Object.entries(current.steps).map(([step, durationMs]) => {
    const med = median(window.map((entry) => entry.steps[step]).filter((v): v is number => typeof v === 'number'));
    return med === undefined
      ? { step, durationMs }
      : {
          step,
          durationMs,
          medianMs: Math.round(med),
          deltaPercent: med > 0 ? Math.round(((durationMs - med) / med) * 100) : 0,
        };
  });
}
