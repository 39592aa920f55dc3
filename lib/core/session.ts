/**
 * What every script sets up after parsing flags: the output (status on stderr, redacted), the
 * real command runner, and the cluster it targets. Scripts pass the result to their steps.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZxRunner } from './exec.ts';
import type { MainContext } from './main.ts';
import { createOutput, type Output } from './output.ts';
import type { Redactor } from './redact.ts';

/** The repository root, so scripts find templates/ and config/ wherever they are run from. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEMPLATES_DIR = resolve(REPO_ROOT, 'templates');

export interface Session {
  output: Output;
  runner: ZxRunner;
  redactor: Redactor;
  env: Record<string, string | undefined>;
  onGithubActions: boolean;
}

export function createSession(context: MainContext, verbose: boolean): Session {
  const { env, redactor } = context;
  const output = createOutput({ stream: context.stderr, redactor, verbose, ci: Boolean(env.CI) });
  const runner = new ZxRunner({ env, redactor, onVerbose: verbose ? (text) => output.verbose(text) : undefined });
  return { output, runner, redactor, env, onGithubActions: env.GITHUB_ACTIONS === 'true' };
}
