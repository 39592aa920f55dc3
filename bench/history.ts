/**
 * The nightly history at 1000 runs (issue 13: "well under a second"): drawing index.html
 * alone, and everything a nightly does with its history file (read it, classify the run,
 * write summary.md with its Mermaid charts, append and trim, draw the page).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StepRecord } from '../lib/core/steps.ts';
import { appendHistory, readHistory } from '../lib/nightly/history.ts';
import { historyPage } from '../lib/nightly/page.ts';
import { nightlyOutcome, nightlySummary } from '../lib/nightly/report.ts';
import { sampleHistory } from '../tests/browser/fixture.ts';
import { stats, type BenchResult } from './stats.ts';

const RUNS = 1000;
const SAMPLES = 20;

function time(samples: number, work: () => void): number[] {
  work(); // warm-up: the first call compiles
  return Array.from({ length: samples }, () => {
    const started = performance.now();
    work();
    return performance.now() - started;
  });
}

export function benchHistory(): BenchResult[] {
  const dir = mkdtempSync(join(tmpdir(), 'demon-bench-history-'));
  try {
    const history = sampleHistory(RUNS, join(dir, 'artifacts'));
    const file = join(dir, 'history.jsonl');
    const lines = history.map((entry) => `${JSON.stringify(entry)}\n`).join('');
    let bytes = 0;
    const render = time(SAMPLES, () => {
      bytes = historyPage(history, { pageDir: join(dir, 'artifacts', 'latest') }).length;
    });
    const last = history[history.length - 1]!;
    const records: StepRecord[] = Object.entries(last.steps).map(([name, durationMs]) => ({
      name,
      ok: name !== last.failingStep,
      durationMs,
    }));
    const nightly = time(SAMPLES, () => {
      writeFileSync(file, lines);
      const previous = readHistory(file);
      const outcome = nightlyOutcome(records, previous, { time: last.time, commit: last.commit, runDir: dir });
      writeFileSync(join(dir, 'summary.md'), nightlySummary(outcome, records, previous, ['summary.md']));
      appendHistory(file, outcome.entry, RUNS);
      writeFileSync(join(dir, 'index.html'), historyPage(readHistory(file), { pageDir: dir }));
    });
    return [
      {
        name: `history page: draw index.html from ${RUNS} runs`,
        ...stats(render),
        target: '< 1000 ms',
        note: `${Math.round(bytes / 1024)} KiB of HTML`,
      },
      {
        name: `history: a nightly's whole history work at ${RUNS} runs (read, summary.md, append, page)`,
        ...stats(nightly),
        target: '< 1000 ms',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
