/**
 * Writes the run's own files (steps.json, summary.md, index.html), the history line and the
 * step summary.
 */
import { readdirSync } from 'node:fs';
import { relative } from 'node:path';
import { writeArtifact } from '../smoke/bundle.ts';
import { appendHistory, readHistory } from './history.ts';
import type { NightlyContext } from './steps.ts';
import { historyPage } from './page.ts';
import { nightlyOutcome, nightlySummary } from './report.ts';
import { appendStepSummary } from '../smoke/report.ts';
import type { StepRecord } from '../core/steps.ts';

function filesBelow(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(dir, `${e.parentPath}/${e.name}`))
      .sort();
  } catch {
    return [];
  }
}

/** The run's page on GitHub Actions, from the variables every job has; elsewhere none. */
function ciRunUrl(env: Record<string, string | undefined>): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: id } = env;
  return server && repository && id ? `${server}/${repository}/actions/runs/${id}` : undefined;
}

/** Returns the one-line verdict. */
export function writeNightlyEvidence(
  c: NightlyContext,
  records: StepRecord[],
  startedAt: Date,
  historyFile: string,
): string {
  const { runDir } = c.options;
  const { redactor } = c.session;
  const { keep } = c.config.nightly;
  const previous = readHistory(historyFile);
  const url = ciRunUrl(c.session.env);
  const outcome = nightlyOutcome(records, previous, {
    time: startedAt.toISOString(),
    commit: c.images.revision?.commit ?? 'unknown',
    runDir,
    ...(url ? { url } : {}),
  });
  // Masked field by field before JSON escaping, and the file as a whole again on writing.
  const masked = records.map((r) => ({
    ...r,
    ...(r.outcome ? { outcome: redactor.mask(r.outcome) } : {}),
    ...(r.error ? { error: redactor.mask(r.error) } : {}),
  }));
  writeArtifact(runDir, 'steps.json', `${JSON.stringify(masked, null, 2)}\n`, redactor);
  const files = [...new Set([...filesBelow(runDir), 'summary.md', 'steps.json', 'index.html'])].sort();
  const summary = nightlySummary(outcome, masked, previous, files);
  writeArtifact(runDir, 'summary.md', summary, redactor);
  appendHistory(historyFile, outcome.entry, keep);
  // The page shows what the history file now holds: the kept runs, this one last.
  writeArtifact(
    runDir,
    'index.html',
    historyPage([...previous, outcome.entry].slice(-keep), { pageDir: runDir }),
    redactor,
  );
  appendStepSummary(c.session.env.GITHUB_STEP_SUMMARY, redactor.mask(summary));
  return `nightly ${outcome.passed ? 'PASSED' : `FAILED at "${outcome.failingStep}"`} (${outcome.classification.text}); evidence in ${runDir}`;
}
