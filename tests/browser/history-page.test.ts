/**
 * The nightly history page as a person sees it: drawn by scripts/history-page.mts from a
 * history of passes and failures, opened from file:// in headless Chromium, and asked what a
 * reader would check: the streak, the runs and where they link, what hovering says, whether
 * the charts have words, and that nothing is fetched or run. Screenshots go to OUTPUT_DIR.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { HistoryEntry } from '../../lib/nightly/history.ts';
import { historyPage } from '../../lib/nightly/page.ts';
import { runScript } from '../helpers/cli.ts';
import { OUTPUT_DIR, openBrowser, type Browser } from './browser.ts';
import { sampleHistory, writeSampleRuns } from './fixture.ts';

// What the page functions below use inside the browser; the project's tsconfig has no DOM lib.
declare const document: {
  getElementById(id: string): { textContent: string | null } | null;
  scripts: { length: number };
  documentElement: { scrollWidth: number };
  body: unknown;
};
declare const window: { innerWidth: number };
declare function getComputedStyle(element: unknown): { backgroundImage: string; backgroundColor: string };

const WIDTH = 1100;
const artifacts = join(mkdtempSync(join(tmpdir(), 'demon-browser-')), 'artifacts');
const history = sampleHistory(40, artifacts);
const historyFile = writeSampleRuns(artifacts, history);
// Where a nightly writes it: the newest run's directory, beside its summary.md.
const pageFile = join(history[history.length - 1]!.runDir!, 'index.html');
const drawn = runScript('history-page.mts', ['--history', historyFile, '--out', pageFile]);

let browser: Promise<Browser> | undefined;
const problems: string[] = [];
const dialogs: string[] = [];

async function open(file: string): Promise<Page> {
  const { context } = await (browser ??= openBrowser({ width: WIDTH, height: 900 }));
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // A Content-Security-Policy violation (a script, a remote font) is reported on the console.
  page.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    return dialog.dismiss();
  });
  await page.goto(pathToFileURL(file).href);
  return page;
}

const test = suite('browser: the nightly history page');

test('the streak, and the last 30 runs with ✓/✗, stripes, their commit on hover and a link to their summary.md', async () => {
  assert.is(drawn.code, 0, drawn.stderr);
  const page = await open(pageFile);
  const streakRuns = history.slice(-3);
  assert.is(
    await page.locator('#streak').innerText(),
    `✗ red for 3 nights since ${streakRuns[0]!.commit.slice(0, 7)} (2026-11-07), at step smoke`,
  );
  const cells = await page.locator('ol.strip > li').evaluateAll((items) =>
    items.map((li) => {
      const a = li.querySelector('a')!;
      const box = a.getBoundingClientRect();
      return {
        result: li.className,
        glyph: a.textContent,
        href: a.href,
        title: a.title,
        box: { top: box.top, right: box.right, width: box.width, height: box.height },
        stripes: getComputedStyle(a).backgroundImage,
      };
    }),
  );
  assert.is(cells.length, 30);
  assert.is(new Set(cells.map((cell) => cell.box.top)).size, 1, 'the strip reads as one line');
  cells.forEach((cell, i) => {
    const entry = history[10 + i]!;
    assert.is(cell.result, entry.result);
    assert.is(cell.glyph, entry.result === 'passed' ? '✓' : '✗');
    assert.is(cell.href, pathToFileURL(join(entry.runDir!, 'summary.md')).href);
    assert.ok(existsSync(fileURLToPath(cell.href)), `${cell.href} resolves to a file`);
    assert.ok(cell.title.includes(`commit ${entry.commit.slice(0, 7)}`), cell.title);
    if (entry.result === 'failed') assert.ok(cell.title.startsWith(`✗ failed at ${entry.failingStep},`), cell.title);
    // Failures differ in more than colour: striped, where a pass is plain.
    assert.is(cell.stripes.startsWith('repeating-linear-gradient'), entry.result === 'failed', cell.stripes);
    assert.ok(cell.box.width >= 20 && cell.box.height >= 20 && cell.box.right <= WIDTH, JSON.stringify(cell.box));
  });
  assert.is(await page.getByRole('link', { name: /^✗ failed at smoke,/ }).count(), 3);
  await page.close();
});

test('every chart is an image with a name and a description; the table holds the same runs', async () => {
  const page = await open(pageFile);
  const images = await page.locator('svg[role="img"]').evaluateAll((svgs) =>
    svgs.map((svg) =>
      svg
        .getAttribute('aria-labelledby')!
        .split(' ')
        .map((id: string) => document.getElementById(id)?.textContent ?? ''),
    ),
  );
  assert.is(images.length, 7 + 3, 'a chart per step and a sparkline per slowest step');
  for (const [name, description] of images) assert.ok(name && description, `${name} / ${description}`);
  assert.is(await page.getByRole('img', { name: 'smoke: duration per run' }).count(), 1);
  const smoke = page.locator('figure', { hasText: 'smoke' }).locator('.fail-mark');
  assert.is(await smoke.count(), 3, 'a ✗ on the smoke chart for each night it failed there');
  assert.ok(await smoke.first().isVisible());
  const rows = page.locator('table.runs tbody tr');
  assert.not.ok(await rows.first().isVisible(), 'the table waits behind its summary');
  await page.getByText("the last 30 runs, every step's duration").click();
  assert.is(await rows.count(), 30);
  assert.ok(await rows.first().isVisible());
  assert.match(await rows.first().innerText(), /2026-11-09 03:17 UTC\s+✗ failed\s+[0-9a-f]{7}\s+smoke/);
  await page.close();
});

test('nothing is fetched, nothing runs, nothing spills sideways', async () => {
  const page = await open(pageFile);
  const facts = await page.evaluate(() => ({
    scripts: document.scripts.length,
    resources: performance.getEntriesByType('resource').map((r) => r.name),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  }));
  assert.equal(facts, { scripts: 0, resources: [], overflow: 0 });
  assert.equal((await browser!).blocked, []);
  assert.equal(problems, []);
  await page.close();
});

test('a hostile history stays text: no element from it, no dialog', async () => {
  const evil = '<img src=x onerror=alert(1)>';
  const entry: HistoryEntry = {
    time: '2026-11-30T03:17:00Z',
    commit: '"><script>alert(2)</script>',
    result: 'failed',
    failingStep: evil,
    steps: { [evil]: 1000 },
    runDir: 'javascript:alert(3)',
  };
  const file = join(artifacts, 'hostile', 'index.html');
  mkdirSync(join(artifacts, 'hostile'), { recursive: true });
  writeFileSync(file, historyPage([entry, entry], { pageDir: join(artifacts, 'hostile') }));
  const page = await open(file);
  assert.is(await page.locator('img, script, main iframe').count(), 0);
  assert.match(await page.locator('#streak').innerText(), /at step <img src=x onerror=alert\(1\)>$/);
  await page
    .locator('ol.strip a')
    .first()
    .click({ noWaitAfter: true })
    .catch(() => undefined);
  await page.waitForTimeout(100); // let a would-be javascript: navigation surface as a dialog
  assert.equal(dialogs, []);
  await page.close();
});

test('screenshots, light and dark, land in the output directory', async () => {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  for (const scheme of ['light', 'dark'] as const) {
    const page = await open(pageFile);
    await page.emulateMedia({ colorScheme: scheme });
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.is(background, scheme === 'light' ? 'rgb(255, 255, 255)' : 'rgb(13, 17, 23)');
    const file = join(OUTPUT_DIR, `history-page${scheme === 'dark' ? '-dark' : ''}.png`);
    await page.screenshot({ path: file, fullPage: true });
    const png = readFileSync(file);
    assert.is(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.is(png.readUInt32BE(16), WIDTH, 'the IHDR width');
    assert.ok(png.readUInt32BE(20) > 900, 'the whole page, not only the viewport');
    await page.close();
  }
});

test.after(async () => {
  await (await browser?.catch(() => undefined))?.close();
});
test.run();
