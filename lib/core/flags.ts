/**
 * Flag parsing shared by every script: --help, --config, --verbose, plus the script's own.
 * Unknown flags and bad values are UsageErrors (exit 2) with a "did you mean".
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.ts';
import { closest } from './suggest.ts';

export interface FlagSpec {
  type: 'boolean' | 'string';
  description: string;
  /** Shown in help; for strings, the value placeholder (e.g. FILE). */
  placeholder?: string;
  default?: string | boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

export const COMMON_FLAGS = {
  config: { type: 'string', placeholder: 'FILE', description: 'config file', default: 'config/demon.yaml' },
  verbose: { type: 'boolean', description: 'show every tool command and its output', default: false },
  help: { type: 'boolean', description: 'show this help', default: false },
} as const satisfies FlagSpecs;

type Value<S extends FlagSpec> = S['type'] extends 'boolean'
  ? boolean
  : S extends { default: string }
    ? string
    : string | undefined;
export type Flags<S extends FlagSpecs> = { [K in keyof S]: Value<S[K]> };

export function helpText(usage: string, summary: string, specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const left = `--${name}${spec.type === 'string' ? ` ${spec.placeholder ?? 'VALUE'}` : ''}`;
    const fallback = spec.type === 'string' && spec.default !== undefined ? ` (default: ${spec.default})` : '';
    return `  ${left.padEnd(22)} ${spec.description}${fallback}`;
  });
  return `${summary}\n\nUsage: ${usage}\n\nOptions:\n${rows.join('\n')}\n`;
}

/** Parses argv against the specs; throws UsageError naming the bad flag and the fix. */
export function parseFlags<S extends FlagSpecs>(argv: string[], specs: S): Flags<S> {
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.default !== undefined ? { default: spec.default } : {}) },
    ]),
  );
  try {
    const { values } = parseArgs({ args: argv, options: options as never, strict: true, allowPositionals: false });
    return { ...(values as object) } as Flags<S>;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /Unknown option '--?([^']+)'/.exec(message)?.[1];
    if (unknown) {
      const hint = closest(unknown, Object.keys(specs));
      throw new UsageError(`unknown option --${unknown}${hint ? ` (did you mean --${hint}?)` : ''}; see --help`);
    }
    throw new UsageError(`${message.replace(/\. To specify.*$/s, '')}; see --help`);
  }
}

/**
 * Parses a script's flags; on --help prints its help to `out` and returns undefined (the
 * script then exits 0). Every script starts with this, so every one has the same --help.
 */
export function parseCommand<S extends FlagSpecs>(
  argv: string[],
  specs: S,
  help: { usage: string; summary: string },
  out: { write(text: string): unknown },
): Flags<S> | undefined {
  const flags = parseFlags(argv, specs);
  if (!(flags as { help?: boolean }).help) return flags;
  out.write(helpText(help.usage, help.summary, specs));
  return undefined;
}
