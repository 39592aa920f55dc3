/**
 * Long-running tools (`kubectl get --watch`, `kubectl port-forward`): spawned directly (no
 * shell parses anything) in a process group of their own, registered with the run's Children
 * so an interrupt stops them; stdout handed over as it arrives, stderr kept in whole lines and
 * masked once at the end (a secret is never cut in two before the redactor sees it).
 */
import { spawn } from 'node:child_process';
import type { Children } from './children.ts';
import type { Redactor } from './redact.ts';
import type { ToolClock } from './tool-clock.ts';

/** A long-running tool whose stdout is read as it comes. */
export interface StreamHandle {
  readonly pid: number | undefined;
  /** Resolves when the tool has exited, with the tail of its stderr (masked). */
  exited: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** Kills the tool's process group. */
  stop(): void;
  /** The tool is up and serving (a port-forward's "Forwarding from"): what follows is not time inside the tool. */
  serving(): void;
}

const STDERR_KEEP_CHARS = 64 * 1024;
const STDERR_REPORT_CHARS = 2_000;

/** The last whole lines of `text` that fit in `chars`. */
export function lastLines(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const cut = text.indexOf('\n', text.length - chars);
  return cut === -1 ? '' : text.slice(cut + 1);
}

export interface StreamDeps {
  children: Children;
  redactor: Redactor;
  clock?: ToolClock;
}

export function startStream(
  argv: string[],
  env: NodeJS.ProcessEnv,
  onStdout: (chunk: string) => void,
  deps: StreamDeps,
): StreamHandle {
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const forget = deps.children.add(child.pid);
  const ended = deps.clock?.start() ?? (() => {});
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', onStdout);
  child
    .stderr!.setEncoding('utf8')
    .on('data', (chunk: string) => (stderr = lastLines(stderr + chunk, STDERR_KEEP_CHARS)));
  const exited = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    const done = (exitCode: number | null, signal: NodeJS.Signals | null, why?: string) => {
      ended();
      forget();
      resolve({
        exitCode,
        signal,
        stderr: lastLines(deps.redactor.mask(why ? `${stderr}\n${why}` : stderr), STDERR_REPORT_CHARS),
      });
    };
    child.once('error', (error) => done(null, null, `cannot run ${argv[0]}: ${error.message}`));
    child.once('close', (code, signal) => done(code, signal));
  });
  return {
    pid: child.pid,
    exited,
    stop: () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
    serving: () => ended(),
  };
}
