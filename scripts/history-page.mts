#!/usr/bin/env -S node --import tsx
/**
 * The nightly history page from any history file, for whoever collects their own (a downloaded
 * artifact, a cron machine's artifacts/). Every nightly already writes one into its run
 * directory; this draws one from the whole file.
 * Without --history it reads the config's `nightly.history` (--config, like every script).
 *   npx tsx scripts/history-page.mts [--history FILE] [--out FILE] [--config FILE]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../lib/core/errors.ts';
import { COMMON_FLAGS, parseCommand } from '../lib/core/flags.ts';
import { loadConfig } from '../lib/config/load.ts';
import { runMain } from '../lib/core/main.ts';
import { readHistory } from '../lib/nightly/history.ts';
import { historyPage } from '../lib/nightly/page.ts';
import { currentStreak, streakText } from '../lib/nightly/streak.ts';

const FLAGS = {
  ...COMMON_FLAGS,
  history: {
    type: 'string',
    placeholder: 'FILE',
    description: "the history, one JSON line per run (default: the config's nightly.history)",
  },
  out: {
    type: 'string',
    placeholder: 'FILE',
    description: 'where the page goes (default: index.html beside --history)',
  },
} as const;

await runMain(async (main) => {
  const flags = parseCommand(
    main.argv,
    FLAGS,
    {
      usage: 'npx tsx scripts/history-page.mts [--history FILE] [--out FILE] [--config FILE]',
      summary: 'Write the nightly history page (streak, pass/fail strip, step durations) from a history file.',
    },
    main.stdout,
  );
  if (!flags) return 0;
  const named = flags.history ?? loadConfig(flags.config).nightly.history;
  const historyFile = resolve(named);
  // readHistory reads a missing file as no runs; a mistyped path deserves to be told.
  if (!existsSync(historyFile))
    throw new UsageError(
      `${flags.history ? '--history ' : `nightly.history of ${flags.config}: `}${named}: no such file`,
    );
  if (flags.verbose) main.stderr.write(`reading ${historyFile}\n`);
  const out = resolve(flags.out ?? join(dirname(historyFile), 'index.html'));
  const history = readHistory(historyFile);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, historyPage(history, { pageDir: dirname(out) }));
  main.stdout.write(`${out}: ${history.length} runs, ${streakText(currentStreak(history))}\n`);
  return 0;
});
