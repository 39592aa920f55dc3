/**
 * Benchmarks (never timed assertions in tests). `npm run bench` runs what this machine can:
 * the dry-run always; the re-run overhead and the image pipeline when the e2e cluster is up
 * (`npm run cluster:up`).
 *   tsx bench/run.ts [dry-run|rerun|images|smoke|nightly|history|kind]...
 * `kind` (real kind clusters, a few minutes) runs only when named.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchDryRun } from './dry-run.ts';
import { benchRerun } from './rerun.ts';
import { benchImages } from './images.ts';
import { benchNightly } from './nightly.ts';
import { benchSmoke } from './smoke.ts';
import type { BenchResult } from './stats.ts';
import { STATE } from '../tests/e2e/support/harness.ts';

const wanted = process.argv.slice(2);
const want = (name: string) => wanted.length === 0 || wanted.includes(name);
const results: BenchResult[] = [];

if (want('dry-run')) results.push(...benchDryRun());
if (want('history')) results.push(...(await import('./history.ts')).benchHistory());
const clusterUp = existsSync(join(STATE, 'env.sh'));
const skipped = (name: string) =>
  console.log(`${name}: skipped, the e2e cluster is not up (${STATE}/env.sh missing; run \`npm run cluster:up\`)`);
if (want('rerun')) {
  if (clusterUp) results.push(...(await benchRerun()));
  else skipped('rerun');
}
if (want('images')) {
  if (clusterUp) results.push(...benchImages());
  else skipped('images');
}
if (want('nightly')) {
  if (clusterUp) results.push(...(await benchNightly()));
  else skipped('nightly');
}
if (want('smoke')) {
  if (clusterUp) results.push(...(await benchSmoke()));
  else skipped('smoke');
}

if (wanted.includes('kind')) results.push(...(await import('./kind.ts')).benchKind());

for (const r of results) {
  const unit = r.name.endsWith('(%)') ? '%' : ' ms';
  console.log(
    `${r.name}\n  median ${r.medianMs}${unit}, min ${r.minMs}${unit}, max ${r.maxMs}${unit} over ${r.runs} runs${r.target ? `; target ${r.target}` : ''}${r.note ? ` (${r.note})` : ''}`,
  );
}
