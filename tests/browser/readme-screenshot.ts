/**
 * Redraws docs/nightly-history.png, the README's picture of the history page: the seeded
 * fixture history (passes, failures, a red streak), drawn by the real page code and
 * photographed in the same headless Chromium as the browser lane.
 *   npm run docs:screenshot
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../../lib/core/session.ts';
import { historyPage } from '../../lib/nightly/page.ts';
import { openBrowser } from './browser.ts';
import { sampleHistory, writeSampleRuns } from './fixture.ts';

const OUT = join(REPO_ROOT, 'docs', 'nightly-history.png');

const dir = mkdtempSync(join(tmpdir(), 'demon-readme-'));
const history = sampleHistory(40, join(dir, 'artifacts'));
writeSampleRuns(join(dir, 'artifacts'), history);
const runDir = history[history.length - 1]!.runDir!;
writeFileSync(join(runDir, 'index.html'), historyPage(history, { pageDir: runDir }));

const browser = await openBrowser({ width: 1000, height: 800 });
try {
  const page = await browser.context.newPage();
  await page.goto(pathToFileURL(join(runDir, 'index.html')).href);
  mkdirSync(join(REPO_ROOT, 'docs'), { recursive: true });
  await page.screenshot({ path: OUT, fullPage: true });
  if (browser.blocked.length) throw new Error(`the page tried to reach ${browser.blocked.join(', ')}`);
  console.log(`wrote ${OUT}`);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
