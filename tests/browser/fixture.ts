/**
 * A made-up but lifelike nightly history: passes, a one-off build failure, two red nights at
 * bootstrap, a bootstrap creeping slower, and a red streak of 3 at smoke to end on. Seeded, so
 * every run of the tests and the README screenshot draw the same page.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStamp } from '../../lib/core/steps.ts';
import type { HistoryEntry } from '../../lib/nightly/history.ts';

/** Main steps in order, then the finally steps that run whatever failed; typical ms each. */
const MAIN: [string, number][] = [
  ['preflight', 2_300],
  ['build images', 245_000],
  ['fresh cluster', 48_000],
  ['bootstrap', 92_000],
  ['smoke', 26_000],
];
const FINALLY: [string, number][] = [
  ['collect artifacts', 3_100],
  ['teardown', 21_000],
];

/** mulberry32: a small seeded generator, so the fixture is the same on every machine. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Where run i (0-based, of `runs`) fails, counted from the end so any length ends the same way. */
function failingStep(i: number, runs: number): string | undefined {
  const fromEnd = runs - i;
  if (fromEnd <= 3) return 'smoke';
  if (fromEnd === 15 || fromEnd === 16) return 'bootstrap';
  if (fromEnd === 27) return 'build images';
  return undefined;
}

export function sampleHistory(runs: number, artifactsDir: string): HistoryEntry[] {
  const next = random(13);
  const start = Date.UTC(2026, 9, 1, 3, 17, 0);
  let commit = '';
  return Array.from({ length: runs }, (_, i) => {
    const time = new Date(start + i * 86_400_000 + Math.round(next() * 40_000));
    // A new commit most nights; some nights nothing was merged.
    if (i === 0 || next() < 0.7)
      commit = Array.from({ length: 40 }, () => Math.floor(next() * 16).toString(16)).join('');
    const failing = failingStep(i, runs);
    const steps: Record<string, number> = {};
    for (const [name, typical] of MAIN) {
      // bootstrap creeps slower over the last 12 runs
      const creep = name === 'bootstrap' ? 1 + Math.max(0, i - (runs - 12)) * 0.04 : 1;
      const ms = Math.round(typical * creep * (0.85 + next() * 0.3));
      steps[name] = name === failing ? Math.round(ms * 0.6) : ms;
      if (name === failing) break;
    }
    for (const [name, typical] of FINALLY) steps[name] = Math.round(typical * (0.85 + next() * 0.3));
    return {
      time: time.toISOString(),
      commit,
      result: failing ? 'failed' : 'passed',
      ...(failing ? { failingStep: failing } : {}),
      steps,
      runDir: join(artifactsDir, runStamp(time)),
    };
  });
}

/** Lays the history out as a nightly leaves it: history.jsonl and a run directory with summary.md per run. */
export function writeSampleRuns(artifactsDir: string, history: HistoryEntry[]): string {
  mkdirSync(artifactsDir, { recursive: true });
  for (const entry of history) {
    mkdirSync(entry.runDir!, { recursive: true });
    const verdict = entry.result === 'passed' ? 'PASSED' : `FAILED at "${entry.failingStep}"`;
    writeFileSync(
      join(entry.runDir!, 'summary.md'),
      `# Nightly ${verdict}\n\n- run: ${entry.time}, commit ${entry.commit}\n`,
    );
  }
  const file = join(artifactsDir, 'history.jsonl');
  writeFileSync(file, history.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
  return file;
}
