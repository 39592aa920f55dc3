/**
 * The current streak, the first thing an on-call engineer asks: since when is it red (or
 * green), from which commit, and at which step.
 */
import type { HistoryEntry } from './history.ts';
import { runDay, shortCommit } from './labels.ts';

export interface Streak {
  result: HistoryEntry['result'];
  /** Runs in a row with this result, the newest included. */
  runs: number;
  /** The streak's first run: its commit is where it started. */
  first: HistoryEntry;
  /** Failing steps in the streak, newest first, each once. */
  steps: string[];
}

export function currentStreak(history: HistoryEntry[]): Streak | undefined {
  const last = history[history.length - 1];
  if (!last) return undefined;
  let start = history.length - 1;
  while (start > 0 && history[start - 1]!.result === last.result) start--;
  const runs = history.slice(start);
  const steps = [
    ...new Set(
      runs
        .map((r) => r.failingStep)
        .filter((s): s is string => !!s)
        .reverse(),
    ),
  ];
  return { result: last.result, runs: runs.length, first: runs[0]!, steps };
}

/** "red for 3 nights since abc1234 (2026-11-28), at step smoke" */
export function streakText(streak: Streak | undefined): string {
  if (!streak) return 'no runs on record yet';
  const colour = streak.result === 'passed' ? 'green' : 'red';
  const nights = `${streak.runs} night${streak.runs === 1 ? '' : 's'}`;
  const { commit, time } = streak.first;
  const since = commit === 'unknown' ? `since ${runDay(time)}` : `since ${shortCommit(commit)} (${runDay(time)})`;
  const [step, ...earlier] = streak.steps;
  const at = step ? `, at step ${step}${earlier.length ? ` (earlier in the streak: ${earlier.join(', ')})` : ''}` : '';
  return `${colour} for ${nights} ${since}${at}`;
}
