/**
 * Debian's Chromium, headless, driven by playwright-core (no browser download of its own: it
 * launches /usr/bin/chromium). Playwright rather than chromium's CLI because the tests ask the
 * rendered page questions (computed styles, accessible names, resolved links, layout boxes)
 * that --dump-dom cannot answer. Each launch gets a fresh profile, and the network is closed:
 * host names resolve nowhere and any request that is not a file:// URL is aborted and recorded.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { REPO_ROOT } from '../../lib/core/session.ts';

export const CHROMIUM = process.env.DEMON_CHROMIUM ?? '/usr/bin/chromium';
/** Where the browser lane leaves what it saw (screenshots). */
export const OUTPUT_DIR = process.env.DEMON_TEST_OUTPUT ?? join(REPO_ROOT, 'artifacts', 'test-output', 'browser');

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND',
];

export interface Browser {
  context: BrowserContext;
  /** Every request that tried to leave the machine (aborted). */
  blocked: string[];
  close(): Promise<void>;
}

export async function openBrowser(viewport = { width: 1100, height: 900 }): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser lane needs Debian's chromium ` +
        '(apt-get install -y chromium), or DEMON_CHROMIUM=/path/to/chromium',
    );
  const profile = mkdtempSync(join(tmpdir(), 'demon-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: CHROMIUM_FLAGS,
    viewport,
    timeout: 60_000,
  });
  const blocked: string[] = [];
  await context.route(
    (url) => url.protocol !== 'file:',
    (route) => {
      blocked.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  return {
    context,
    blocked,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
