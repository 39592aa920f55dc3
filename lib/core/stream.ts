/**
 * Long-running tools (`kubectl get --watch`): spawned directly (no shell parses anything),
 * stdout handed over as it arrives, stderr kept in whole lines and masked once at the end (a
 * secret is never cut in two before the redactor sees it). Streams still running when this
 * process exits, or when SIGINT/SIGTERM/SIGHUP arrives, are killed; if nothing else handles
 * that signal it is raised again, so the process ends just as it would have.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Redactor } from './redact.ts';
import type { ToolClock } from './tool-clock.ts';

/** A long-running tool whose stdout is read as it comes (`kubectl get --watch`). */
export interface StreamHandle {
  /** Resolves when the tool has exited, with the tail of its stderr. */
  exited: Promise<{ exitCode: number | null; stderr: string }>;
  stop(): void;
}

const STDERR_KEEP_CHARS = 64 * 1024;
const STDERR_REPORT_CHARS = 2_000;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The last whole lines of `text` that fit in `chars`. */
function lastLines(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const cut = text.indexOf('\n', text.length - chars);
  return cut === -1 ? '' : text.slice(cut + 1);
}

export class StreamSet {
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly redactor: Redactor, private readonly clock: ToolClock) {}

  start(argv: string[], env: NodeJS.ProcessEnv, onStdout: (chunk: string) => void): StreamHandle {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const ended = this.clock.start();
    if (this.children.size === 0) this.install();
    this.children.add(child);
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', onStdout);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = lastLines(stderr + chunk, STDERR_KEEP_CHARS)));
    const exited = new Promise<{ exitCode: number | null; stderr: string }>((resolve) => {
      const done = (exitCode: number | null, why?: string) => {
        ended();
        this.children.delete(child);
        if (this.children.size === 0) this.uninstall();
        resolve({ exitCode, stderr: lastLines(this.redactor.mask(why ? `${stderr}\n${why}` : stderr), STDERR_REPORT_CHARS) });
      };
      child.once('error', (error) => done(null, `cannot run ${argv[0]}: ${error.message}`));
      child.once('close', (code) => done(code));
    });
    return { exited, stop: () => void child.kill('SIGKILL') };
  }

  get size(): number {
    return this.children.size;
  }

  private readonly killAll = () => {
    for (const child of this.children) child.kill('SIGKILL');
  };

  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.killAll();
    this.uninstall();
    // Only we were listening: do what Node would have done without us.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  private install(): void {
    process.once('exit', this.killAll);
    for (const signal of SIGNALS) process.on(signal, this.onSignal);
  }

  private uninstall(): void {
    process.off('exit', this.killAll);
    for (const signal of SIGNALS) process.off(signal, this.onSignal);
  }
}
