/**
 * Where status goes: stderr, so stdout stays clean for dry-run YAML and JSON.
 * Every line passes through the redactor. On a TTY a spinner shows the running step;
 * under CI, or when piped, lines are plain.
 */
import type { Redactor } from './redact.ts';

export interface Writable {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface Output {
  readonly interactive: boolean;
  readonly verboseOn: boolean;
  /** A status line (always shown). */
  line(text: string): void;
  /** Tool output and details (shown with --verbose only). */
  verbose(text: string): void;
  /** Spinner control for the step runner; no-ops when not interactive. */
  startSpinner(label: string): void;
  stopSpinner(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createOutput(options: { stream: Writable; redactor: Redactor; verbose: boolean; ci: boolean }): Output {
  const { stream, redactor } = options;
  const interactive = Boolean(stream.isTTY) && !options.ci;
  let timer: ReturnType<typeof setInterval> | undefined;
  let spinnerLabel = '';

  const clear = () => {
    if (timer) stream.write('\r\x1b[2K');
  };
  const redraw = (frame: number) => stream.write(`\r\x1b[2K${FRAMES[frame % FRAMES.length]} ${spinnerLabel}`);

  return {
    interactive,
    verboseOn: options.verbose,
    line(text) {
      clear();
      stream.write(`${redactor.mask(text)}\n`);
    },
    verbose(text) {
      if (!options.verbose) return;
      clear();
      stream.write(`${redactor.mask(text).replace(/^/gm, '    ')}\n`);
    },
    startSpinner(label) {
      if (!interactive) return;
      spinnerLabel = redactor.mask(label);
      let frame = 0;
      redraw(frame);
      timer = setInterval(() => redraw(++frame), 80);
      timer.unref();
    },
    stopSpinner() {
      clear();
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

/** An Output that keeps lines in memory: for tests and for building reports. */
export function memoryOutput(redactor: Redactor, verbose = false): Output & { lines: string[] } {
  const lines: string[] = [];
  const output = createOutput({
    stream: { write: (text: string) => lines.push(...text.split('\n').filter(Boolean)) },
    redactor,
    verbose,
    ci: true,
  });
  return Object.assign(output, { lines });
}
