/**
 * What every script sets up after parsing flags and reading its config: the output (status on
 * stderr, redacted), the command runner, the run's interrupt signal and clean-ups. Scripts
 * pass it to their steps.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessRunner, type Runner } from './exec.ts';
import type { MainContext } from './main.ts';
import { createOutput, type Output } from './output.ts';
import type { Redactor } from './redact.ts';
import type { ToolClock } from './tool-clock.ts';

/** The repository root, so scripts find templates/ and config/ wherever they are run from. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEMPLATES_DIR = resolve(REPO_ROOT, 'templates');

export interface Session {
  output: Output;
  runner: Runner;
  redactor: Redactor;
  env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C/SIGTERM/SIGHUP: long work (waits, forwards, polls) stops on it. */
  signal: AbortSignal;
  /** Registers a clean-up (a temporary credential to remove) that runs however the run ends. */
  defer(cleanup: () => void): void;
  /** Benchmarks only: time inside tools, for the overhead figures. */
  clock?: ToolClock;
}

export function createSession(main: MainContext, verbose: boolean, options: { clock?: ToolClock } = {}): Session {
  const { env, redactor } = main;
  const output = createOutput({ stream: main.stderr, redactor, verbose, ci: Boolean(env.CI) });
  const runner = new ProcessRunner({
    env,
    redactor,
    children: main.children,
    ...(verbose ? { onVerbose: (text: string) => output.verbose(text) } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    output,
    runner,
    redactor,
    env,
    signal: main.signal,
    defer: main.defer,
    ...(options.clock ? { clock: options.clock } : {}),
  };
}
