/**
 * A Runner that records every argv and answers from a script of expectations, replaying
 * recorded real tool outputs (tests/fixtures/recorded). An unexpected command fails the test
 * with its argv, so tests pin the exact commands the tool runs.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunOptions, RunResult, Runner } from '../../lib/core/exec.ts';

export const RECORDED = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'recorded');

export function recorded(name: string): string {
  return readFileSync(join(RECORDED, name), 'utf8');
}

export interface Reply {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

type Matcher = string[] | ((argv: string[]) => boolean);

export interface Call {
  argv: string[];
  options?: RunOptions;
}

export class FakeRunner implements Runner {
  readonly calls: Call[] = [];
  private readonly script: {
    match: Matcher;
    reply: Reply | ((argv: string[], options?: RunOptions) => Reply);
    times: number;
  }[] = [];

  /** Answers commands whose argv starts with `match` (or satisfies it). `times` = -1 for always. */
  on(match: Matcher, reply: Reply | ((argv: string[], options?: RunOptions) => Reply), times = -1): this {
    this.script.push({ match, reply, times });
    return this;
  }

  async exec(argv: string[], options?: RunOptions): Promise<RunResult> {
    this.calls.push({ argv, options });
    const entry = this.script.find(
      ({ match, times }) =>
        times !== 0 && (typeof match === 'function' ? match(argv) : match.every((part, i) => argv[i] === part)),
    );
    if (!entry) throw new Error(`unexpected command: ${JSON.stringify(argv)}`);
    if (entry.times > 0) entry.times -= 1;
    const reply = typeof entry.reply === 'function' ? entry.reply(argv, options) : entry.reply;
    return {
      argv,
      exitCode: reply.exitCode ?? 0,
      stdout: reply.stdout ?? '',
      stderr: reply.stderr ?? '',
      durationMs: 1,
      timedOut: false,
      ...(options?.sensitiveStdout ? { sensitiveStdout: true } : {}),
    };
  }

  argvs(): string[][] {
    return this.calls.map((call) => call.argv);
  }
}
