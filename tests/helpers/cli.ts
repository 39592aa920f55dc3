/** Runs one of our scripts as a user would, in a child process, and captures everything. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../lib/core/session.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const TSX = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** `env` replaces the environment (plus what node needs), so tests control PATH and secrets. */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  cwd = REPO_ROOT,
): CliResult {
  const result = spawnSync(process.execPath, [TSX, join(REPO_ROOT, 'scripts', script), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
    // Generous: e2e bootstraps wait for real pods; tests assert their own time bounds.
    timeout: 300_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
