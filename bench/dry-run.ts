/**
 * `bootstrap.mts --dry-run` on the default config, wall time per launcher, start-up included.
 * Target (issue 2): under 1 s on these 2-core machines.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/core/session.ts';
import { stats, type BenchResult } from './stats.ts';

const SCRIPT = join(REPO_ROOT, 'scripts', 'bootstrap.mts');
const LAUNCHERS: { name: string; argv: string[]; runs: number }[] = [
  {
    name: 'node --import tsx scripts/bootstrap.mts --dry-run',
    argv: [process.execPath, '--import', 'tsx', SCRIPT, '--dry-run'],
    runs: 10,
  },
  {
    name: 'tsx scripts/bootstrap.mts --dry-run',
    argv: [process.execPath, join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), SCRIPT, '--dry-run'],
    runs: 10,
  },
  { name: 'npx tsx scripts/bootstrap.mts --dry-run', argv: ['npx', 'tsx', SCRIPT, '--dry-run'], runs: 5 },
];

export function benchDryRun(): BenchResult[] {
  return LAUNCHERS.map(({ name, argv, runs }) => {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const result = spawnSync(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
      if (result.status !== 0) throw new Error(`${name} failed: ${result.stderr}`);
      samples.push(performance.now() - started);
    }
    return { name, ...stats(samples), target: '< 1000 ms' };
  });
}
