/**
 * Loads config/demon.yaml: YAML parsed as YAML (with line and column on syntax errors), then the
 * strict schema, then the rules that span several keys. Every problem is reported at once as
 * `file:line:col path: message`, in a UsageError (exit 2).
 */
import { readFileSync, statSync } from 'node:fs';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { UsageError } from '../core/errors.ts';
import { configSchema, type Config } from './schema.ts';
import { crossFieldProblems } from './rules.ts';
import { closest } from '../core/suggest.ts';

export type { Config } from './schema.ts';

type Path = readonly PropertyKey[];

export function formatPath(path: Path): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    // A key that would read as path syntax ("." or "a.b") is quoted: secrets.data["."].
    if (!/^[A-Za-z0-9_-]+$/.test(String(key))) return `${text}[${JSON.stringify(String(key))}]`;
    return text ? `${text}.${String(key)}` : String(key);
  }, '');
}

/** The schema node at a path, to list the keys an object accepts. */
function schemaAt(schema: z.ZodType, path: Path): z.ZodType | undefined {
  let node: z.ZodType | undefined = schema;
  const unwrap = (s: z.ZodType): z.ZodType => {
    const def = s._zod.def as { type: string; innerType?: z.ZodType };
    return def.innerType && ['default', 'prefault', 'optional', 'nullable'].includes(def.type)
      ? unwrap(def.innerType)
      : s;
  };
  for (const key of path) {
    if (!node) return undefined;
    const def = unwrap(node)._zod.def as {
      type: string;
      shape?: Record<string, z.ZodType>;
      element?: z.ZodType;
      valueType?: z.ZodType;
      options?: z.ZodType[];
    };
    if (def.type === 'object') node = def.shape?.[String(key)];
    else if (def.type === 'array') node = def.element;
    else if (def.type === 'record') node = def.valueType;
    else if (def.type === 'union')
      node = def.options?.find((option) => (unwrap(option)._zod.def as { type: string }).type === 'object');
    else return undefined;
  }
  return node && unwrap(node);
}

function knownKeys(path: Path): string[] {
  const def = schemaAt(configSchema, path)?._zod.def as { type?: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

type Ranged = { range?: [number, number, number] | null };

/** The key node of `key` in the mapping at `parent`: an unknown key is reported where it is written. */
function keyNode(document: Document, parent: Path, key: PropertyKey): Ranged | undefined {
  const map = (parent.length ? document.getIn(parent as unknown[], true) : document.contents) as
    { items?: { key?: Ranged & { value?: unknown } }[] } | undefined;
  return map?.items?.find((pair) => pair.key?.value === key)?.key;
}

/** `file:line:col` of the YAML node at a path, or of the nearest ancestor that exists. */
function locate(file: string, document: Document, lines: LineCounter, path: Path): string {
  const candidates: (Ranged | undefined)[] = [];
  if (path.length) candidates.push(keyNode(document, path.slice(0, -1), path[path.length - 1]!));
  for (let depth = path.length; depth >= 0; depth--)
    candidates.push(document.getIn(path.slice(0, depth) as unknown[], true) as Ranged | undefined);
  for (const node of candidates) {
    if (node?.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return `${file}:${line}:${col}`;
    }
  }
  return file;
}

/** Turns zod issues into one line each; unknown keys get a "did you mean". */
export function describeIssues(issues: z.core.$ZodIssue[], where: (path: Path) => string): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const hint = closest(key, knownKeys(issue.path));
        const path = [...issue.path, key];
        lines.push(
          `${where(path)} ${formatPath(path)}: unknown key${hint ? ` (did you mean "${hint}"?)` : `; allowed: ${knownKeys(issue.path).join(', ')}`}`,
        );
      }
    } else if (issue.code === 'invalid_key') {
      // zod wraps the key's own problems; show the key and what a valid one looks like.
      const inner = issue.issues[0]?.message ?? issue.message;
      lines.push(`${where(issue.path)} ${formatPath(issue.path)}: invalid key: ${inner}`);
    } else {
      lines.push(`${where(issue.path)} ${formatPath(issue.path) || '(top level)'}: ${issue.message}`);
    }
  }
  return lines;
}

/** Validates already-parsed data (from YAML or tests). `file` only labels the messages. */
export function parseConfig(data: unknown, file = 'config', where: (path: Path) => string = () => file): Config {
  const result = configSchema.safeParse(data ?? {});
  if (!result.success) {
    throw new UsageError(
      `${file} is not a valid config (fix these and run again; config/demon.schema.json documents every key)`,
      describeIssues(result.error.issues, where),
    );
  }
  const problems = crossFieldProblems(result.data).map((p) => `${where(p.path)} ${formatPath(p.path)}: ${p.message}`);
  if (problems.length) throw new UsageError(`${file} is not a valid config`, problems);
  return result.data;
}

/** A config is a page of YAML; anything near this size is a mistake (or an attack). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
const PROBLEM_CHARS = 300;

/** One line of a problem, safe to print: control bytes escaped, cut to a readable length. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/\n/g, ' ');
  return escaped.length > PROBLEM_CHARS ? `${escaped.slice(0, PROBLEM_CHARS)}...` : escaped;
}

function readConfigText(file: string): string {
  const fix = 'pass an existing file with --config FILE (the default is config/demon.yaml)';
  let stats;
  try {
    stats = statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'is not readable (check its permissions)'
          : `cannot be read (${code})`;
    throw new UsageError(`config file ${file} ${reason}; ${fix}`);
  }
  if (!stats.isFile())
    throw new UsageError(`config file ${file} is not a regular file (a directory, device or pipe); ${fix}`);
  if (stats.size > MAX_CONFIG_BYTES)
    throw new UsageError(
      `config file ${file} is ${(stats.size / 1024 / 1024).toFixed(1)} MiB; a config is at most 1 MiB, so this is not one: ${fix}`,
    );
  let buffer: Buffer;
  try {
    buffer = readFileSync(file);
  } catch (error) {
    throw new UsageError(`config file ${file} cannot be read (${(error as NodeJS.ErrnoException).code}); ${fix}`);
  }
  if (buffer.includes(0)) throw new UsageError(`config file ${file} holds binary data (NUL bytes), not YAML; ${fix}`);
  return buffer.toString('utf8');
}

export function loadConfig(file: string): Config {
  const text = readConfigText(file);
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (document.errors.length) {
    const problems = document.errors.slice(0, 10).map((e) => {
      const pos = e.linePos?.[0];
      return `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${printable(e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''))}`;
    });
    if (document.errors.length > 10) problems.push(`... and ${document.errors.length - 10} more`);
    throw new UsageError(`${file} is not valid YAML`, problems);
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    const reason = /alias/i.test((error as Error).message)
      ? 'too many YAML aliases (more than 100 expansions; an "alias bomb"?)'
      : printable((error as Error).message);
    throw new UsageError(`${file} is not valid YAML`, [`${file}: ${reason}`]);
  }
  return parseConfig(data, file, (path) => locate(file, document, lines, path));
}
