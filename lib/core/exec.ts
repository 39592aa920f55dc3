/**
 * Runs external tools (kind, kubectl, docker) with argument arrays, never shell strings.
 * The runner never throws on a non-zero exit: callers decide, usually through `run()`,
 * which turns a failure into a CommandError that shows a pastable, redacted command line.
 */
import type { Redactor } from './redact.ts';
import { StreamSet, type StreamHandle } from './stream.ts';
import { ToolClock } from './tool-clock.ts';

export interface RunOptions {
  /** Written to the tool's stdin: generated YAML and every secret value go this way. */
  input?: string;
  timeoutMs?: number;
  /** Extra environment for this call, on top of the runner's base environment. */
  env?: Record<string, string>;
}

export interface RunResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Set when the process was killed for running past `timeoutMs`. */
  timedOut: boolean;
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

const TAIL_LINES = 20;

function tail(text: string, lines = TAIL_LINES): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

export class CommandError extends Error {
  readonly argv: string[];
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;

  constructor(result: RunResult, redactor?: Redactor) {
    const mask = (text: string) => (redactor ? redactor.mask(text) : text);
    const how = result.timedOut ? `timed out after ${result.durationMs} ms` : `exited with code ${result.exitCode}`;
    const output = tail(result.stderr) || tail(result.stdout);
    super(mask(`\`${commandLine(result.argv)}\` ${how}${output ? `:\n${output}` : ''}`));
    this.name = 'CommandError';
    this.argv = result.argv;
    this.exitCode = result.exitCode;
    // Kept masked too: callers may put these in reports and bundles.
    this.stdout = mask(result.stdout);
    this.stderr = mask(result.stderr);
  }
}

/** Runs a command and throws a CommandError unless it exits 0. */
export async function run(runner: Runner, argv: string[], options?: RunOptions, redactor?: Redactor): Promise<RunResult> {
  const result = await runner.exec(argv, options);
  if (result.exitCode !== 0) throw new CommandError(result, redactor);
  return result;
}

export interface ZxRunnerOptions {
  /** The environment tools run with; injected so lib/ never reads process.env itself. */
  env: Record<string, string | undefined>;
  redactor: Redactor;
  /** Receives each command and its output when --verbose is on (already redacted). */
  onVerbose?: (text: string) => void;
}

/** The real runner. Also totals time spent inside tools, so benchmarks can report our overhead. */
export class ZxRunner implements Runner {
  /** The sum of every exec's duration (parallel calls add up). */
  commandMs = 0;
  commands = 0;
  /** Wall time during which any tool ran, streams and port-forwards included. */
  readonly clock = new ToolClock();
  private readonly streams: StreamSet;

  constructor(private readonly options: ZxRunnerOptions) {
    this.streams = new StreamSet(options.redactor, this.clock);
  }

  async exec(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    // Loaded on first use: a dry-run never spawns anything and starts ~100 ms faster without zx.
    const { $ } = await import('zx');
    const started = performance.now();
    const ended = this.clock.start(started);
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
      nothrow: true,
      quiet: true,
      verbose: false,
    })`${argv}`;
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
    }
    const durationMs = Math.round(performance.now() - started);
    this.commandMs += durationMs;
    this.commands += 1;
    const result: RunResult = {
      argv,
      exitCode: output.exitCode ?? 1,
      stdout: output.stdout,
      stderr: output.stderr,
      durationMs,
      timedOut: output.exitCode === null && durationMs >= timeoutMs,
    };
    this.report(result);
    return result;
  }

  /** A long-running tool, its stdout handed over as it arrives (lib/core/stream.ts). */
  stream(argv: string[], onStdout: (chunk: string) => void, options: Pick<RunOptions, 'env'> = {}): StreamHandle {
    return this.streams.start(argv, { ...this.options.env, ...options.env } as NodeJS.ProcessEnv, onStdout);
  }

  private report(result: RunResult): void {
    const { onVerbose, redactor } = this.options;
    if (!onVerbose) return;
    const parts = [`$ ${commandLine(result.argv)}  # exit ${result.exitCode}, ${result.durationMs} ms`];
    if (result.stdout.trim()) parts.push(tail(result.stdout, 40));
    if (result.stderr.trim()) parts.push(tail(result.stderr, 40));
    onVerbose(redactor.mask(parts.join('\n')));
  }
}
