#!/usr/bin/env -S node --import tsx
/**
 * The nightly history page from any history file, for whoever collects their own (a downloaded
 * artifact, a cron machine's artifacts/). Every nightly already writes one into its run
 * directory; this draws one from the whole file.
 *   npx tsx scripts/history-page.mts [--history FILE] [--out FILE]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../lib/core/errors.ts';
import { parseCommand } from '../lib/core/flags.ts';
import { runMain } from '../lib/core/main.ts';
import { readHistory } from '../lib/nightly/history.ts';
import { historyPage } from '../lib/nightly/page.ts';
import { currentStreak, streakText } from '../lib/nightly/streak.ts';

const FLAGS = {
  history: {
    type: 'string',
    placeholder: 'FILE',
    description: 'the history, one JSON line per run (nightly.history)',
    default: 'artifacts/history.jsonl',
  },
  out: {
    type: 'string',
    placeholder: 'FILE',
    description: 'where the page goes (default: index.html beside --history)',
  },
  help: { type: 'boolean', description: 'show this help', default: false },
} as const;

await runMain(async (main) => {
  const flags = parseCommand(
    main.argv,
    FLAGS,
    {
      usage: 'npx tsx scripts/history-page.mts [--history FILE] [--out FILE]',
      summary: 'Write the nightly history page (streak, pass/fail strip, step durations) from a history file.',
    },
    main.stdout,
  );
  if (!flags) return 0;
  const historyFile = resolve(flags.history);
  // readHistory reads a missing file as no runs; a mistyped path deserves to be told.
  if (!existsSync(historyFile)) throw new UsageError(`--history ${flags.history}: no such file`);
  const out = resolve(flags.out ?? join(dirname(historyFile), 'index.html'));
  const history = readHistory(historyFile);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, historyPage(history, { pageDir: dirname(out) }));
  main.stdout.write(`${out}: ${history.length} runs, ${streakText(currentStreak(history))}\n`);
  return 0;
});
