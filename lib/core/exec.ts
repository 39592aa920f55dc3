/**
 * Runs external tools (kind, kubectl, docker, git) with argument arrays, never shell strings.
 * The runner never throws on a non-zero exit: callers decide, usually through `run()`,
 * which turns a failure into a CommandError that shows a pastable, redacted command line.
 */
import { Children } from './children.ts';
import { maskedSnippet, type Redactor } from './redact.ts';
import { lastLines, startStream, type StreamHandle } from './stream.ts';
import type { ToolClock } from './tool-clock.ts';

export interface RunOptions {
  /** Written to the tool's stdin: generated YAML and every secret value go this way. */
  input?: string;
  timeoutMs?: number;
  /** Extra environment for this call, on top of the runner's base environment. */
  env?: Record<string, string>;
  /** stdout may hold Secret data (`kubectl get -o json` of Secrets): never shown, not even masked. */
  sensitiveStdout?: boolean;
}

export interface RunResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Set when the process was killed for running past `timeoutMs`. */
  timedOut: boolean;
  /** Copied from RunOptions: this stdout is never printed. */
  sensitiveStdout?: boolean;
}

export interface Runner {
  exec(argv: string[], options?: RunOptions): Promise<RunResult>;
  /** Optional: runners that cannot stream make callers fall back to polling with exec. */
  stream?(argv: string[], onStdout: (chunk: string) => void, options?: Pick<RunOptions, 'env'>): StreamHandle;
}

export const DEFAULT_TIMEOUT_MS = 120_000;

/** Quotes an argument so the printed command line can be pasted into a shell. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function commandLine(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}

const ERROR_TAIL_CHARS = 4_000;
const VERBOSE_TAIL_CHARS = 8_000;

/** The end of a tool's output, masked before it is cut (a cut must never split a secret unseen). */
export function maskedTail(text: string, chars: number, redactor?: Pick<Redactor, 'mask'>): string {
  const masked = redactor ? redactor.mask(text.trimEnd()) : text.trimEnd();
  return masked.length <= chars ? masked : `...\n${lastLines(masked, chars)}`;
}

export class CommandError extends Error {
  readonly argv: string[];
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;

  constructor(result: RunResult, redactor?: Redactor) {
    const how = result.timedOut ? `timed out after ${result.durationMs} ms` : `exited with code ${result.exitCode}`;
    const stdout = result.sensitiveStdout ? '' : result.stdout;
    const output =
      maskedTail(result.stderr, ERROR_TAIL_CHARS, redactor) || maskedTail(stdout, ERROR_TAIL_CHARS, redactor);
    super(`\`${maskedSnippet(redactor, commandLine(result.argv), 2_000)}\` ${how}${output ? `:\n${output}` : ''}`);
    this.name = 'CommandError';
    this.argv = result.argv;
    this.exitCode = result.exitCode;
    // Kept masked too: callers may put these in reports and bundles.
    this.stdout = redactor ? redactor.mask(stdout) : stdout;
    this.stderr = redactor ? redactor.mask(result.stderr) : result.stderr;
  }
}

/** Runs a command and throws a CommandError unless it exits 0. */
export async function run(
  runner: Runner,
  argv: string[],
  options?: RunOptions,
  redactor?: Redactor,
): Promise<RunResult> {
  const result = await runner.exec(argv, options);
  if (result.exitCode !== 0) throw new CommandError(result, redactor);
  return result;
}

export interface ProcessRunnerOptions {
  /** The environment tools run with; injected so lib/ never reads process.env itself. */
  env: Record<string, string | undefined>;
  redactor: Redactor;
  /** Every process group started, so an interrupt stops them all (runMain owns it). */
  children?: Children;
  /** Receives each command and its output when --verbose is on (already redacted). */
  onVerbose?: (text: string) => void;
  /** Benchmarks only: told when each tool starts and ends (time inside tools). */
  clock?: ToolClock;
}

/** The real runner: zx spawns each tool in a process group of its own. */
export class ProcessRunner implements Runner {
  private readonly children: Children;

  constructor(private readonly options: ProcessRunnerOptions) {
    this.children = options.children ?? new Children();
  }

  async exec(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    // Loaded on first use: a dry-run never spawns anything and starts ~100 ms faster without zx.
    const { $ } = await import('zx');
    const started = performance.now();
    const ended = this.options.clock?.start(started) ?? (() => {});
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const child = $({
      // POSIX sh running `exec tool ...`: no bash start-up files (bash sources ~/.bashrc when
      // its stdin is a socket, as node's pipes are), and the tool itself receives the kill
      // signal on timeout. Arguments are quoted one by one for sh.
      shell: '/bin/sh',
      prefix: 'exec ',
      quote: shellQuote,
      env: { ...this.options.env, ...options.env } as NodeJS.ProcessEnv,
      timeout: timeoutMs,
      // Its own process group: an interrupt or a timeout stops the tool and what it forked.
      detached: true,
      nothrow: true,
      quiet: true,
      verbose: false,
    })`${argv}`;
    const forget = this.children.add(child.pid);
    // stdin is written here rather than through zx's `input`: a tool that exits before reading
    // it (kubectl on a bad flag) must not crash us with EPIPE, and an empty stdin is closed at
    // once so a tool that prompts (kubectl asking for a username) gets EOF instead of hanging.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    let output: Awaited<typeof child>;
    try {
      output = await child;
    } finally {
      ended();
      forget();
    }
    const durationMs = Math.round(performance.now() - started);
    const result: RunResult = {
      argv,
      exitCode: output.exitCode ?? 1,
      stdout: output.stdout,
      stderr: output.stderr,
      durationMs,
      timedOut: output.exitCode === null && durationMs >= timeoutMs,
      ...(options.sensitiveStdout ? { sensitiveStdout: true } : {}),
    };
    this.report(result);
    return result;
  }

  /** A long-running tool, its stdout handed over as it arrives (lib/core/stream.ts). */
  stream(argv: string[], onStdout: (chunk: string) => void, options: Pick<RunOptions, 'env'> = {}): StreamHandle {
    const env = { ...this.options.env, ...options.env } as NodeJS.ProcessEnv;
    return startStream(argv, env, onStdout, {
      children: this.children,
      redactor: this.options.redactor,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
    });
  }

  private report(result: RunResult): void {
    const { onVerbose, redactor } = this.options;
    if (!onVerbose) return;
    const parts = [`$ ${commandLine(result.argv)}  # exit ${result.exitCode}, ${result.durationMs} ms`];
    if (result.sensitiveStdout) parts.push('(stdout may hold Secret data: not shown)');
    else if (result.stdout.trim()) parts.push(maskedTail(result.stdout, VERBOSE_TAIL_CHARS, redactor));
    if (result.stderr.trim()) parts.push(maskedTail(result.stderr, VERBOSE_TAIL_CHARS, redactor));
    onVerbose(redactor.mask(parts.join('\n')));
  }
}
