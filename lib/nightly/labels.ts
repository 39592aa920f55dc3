/** How a run is named in text: its commit, day and time, and its outcome as a glyph. */
import type { HistoryEntry } from './history.ts';

/** Seven hex digits like git's short form; anything else ("unknown") as it is. */
export function shortCommit(commit: string): string {
  return /^[0-9a-f]{8,}$/i.test(commit) ? commit.slice(0, 7) : commit;
}

/** 2026-11-30 (UTC), or the stored text when it is not a time. */
export function runDay(time: string): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? time : date.toISOString().slice(0, 10);
}

/** 2026-11-30 03:17 UTC */
export function runTime(time: string): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? time : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The glyph carries the outcome wherever colour cannot (print, colour blindness, screen readers). */
export const glyph = (entry: HistoryEntry) => (entry.result === 'passed' ? '✓' : '✗');

/** "✗ failed at smoke, 2026-11-30 03:17 UTC, commit abc1234": a run in one line. */
export function runLine(entry: HistoryEntry): string {
  const result = entry.result === 'passed' ? 'passed' : `failed at ${entry.failingStep ?? 'an unknown step'}`;
  return `${glyph(entry)} ${result}, ${runTime(entry.time)}, commit ${shortCommit(entry.commit)}`;
}

/** Sum of the recorded step durations (steps after a failure never ran, so a red run is short). */
export const totalMs = (entry: HistoryEntry) => Object.values(entry.steps).reduce((sum, ms) => sum + ms, 0);
