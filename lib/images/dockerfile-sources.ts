/**
 * Which context paths a Dockerfile can read, from a real Dockerfile parser (dockerfile-ast):
 * the sources of COPY and ADD (not `--from` copies, which read other stages; not heredocs,
 * whose content is in the Dockerfile; not URLs) and `RUN --mount=type=bind` sources. ARG
 * references are expanded from the ARG defaults and the build args. Lets build-images hash
 * only what an image is built from, so a change to engine/ does not rebuild runtime when both
 * share the repository root as context. Anything it cannot read with certainty (an unknown
 * variable, `COPY . .`, a bind mount of the whole context) means the whole context.
 */
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export type Sources = { kind: 'all' } | { kind: 'paths'; patterns: string[] };

function normalize(source: string): string {
  const path = source.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  return path === '' || path === '.' ? '.' : path;
}

/** `$NAME` and `${NAME}` from the known args; undefined when one is unknown. */
function expand(text: string, args: Map<string, string>): string | undefined {
  let unknown = false;
  const value = text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, braced?: string, bare?: string) => {
      const name = (braced ?? bare)!;
      if (!args.has(name)) unknown = true;
      return args.get(name) ?? '';
    },
  );
  return unknown ? undefined : value;
}

/** The source arguments of a COPY/ADD: JSON form, heredoc markers and the destination left out. */
function copySources(instruction: Instruction): string[] {
  const content = instruction.getArgumentsContent() ?? '';
  let words: string[];
  if (content.trimStart().startsWith('[')) {
    try {
      words = JSON.parse(content) as string[];
    } catch {
      return ['.']; // unreadable: assume it reads everything
    }
  } else {
    words = content.split('\n')[0]!.trim().split(/\s+/);
  }
  return words.slice(0, -1).filter((word) => !word.startsWith('<<'));
}

type Flag = {
  getName(): string;
  getValue(): string | null;
  getOptions?(): { getName(): string; getValue(): string | null }[];
};
const flagsOf = (instruction: Instruction): Flag[] => (instruction as { getFlags?(): Flag[] }).getFlags?.() ?? [];

/** `RUN --mount=type=bind,source=x` reads x from the context (the whole context without a source). */
function bindMountSources(instruction: Instruction): string[] {
  const sources: string[] = [];
  for (const flag of flagsOf(instruction).filter((f) => f.getName() === 'mount')) {
    const options = new Map((flag.getOptions?.() ?? []).map((o) => [o.getName(), o.getValue() ?? '']));
    if (options.get('type') !== 'bind' || options.has('from')) continue;
    sources.push(options.get('source') ?? options.get('src') ?? '.');
  }
  return sources;
}

export function dockerfileSources(text: string, buildArgs: Record<string, string> = {}): Sources {
  const args = new Map<string, string>();
  const patterns: string[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'ARG') {
      // A build arg wins over the default; an ARG without either stays unknown.
      for (const word of instruction.getArgumentsContent()?.split(/\s+/) ?? []) {
        const [name, value] = word.split('=', 2) as [string, string | undefined];
        const given = buildArgs[name] ?? value;
        if (given !== undefined) args.set(name, given.replace(/^"(.*)"$/, '$1'));
      }
      continue;
    }
    let sources: string[] = [];
    if (keyword === 'COPY' || keyword === 'ADD') {
      if (flagsOf(instruction).some((flag) => flag.getName() === 'from')) continue;
      sources = copySources(instruction).filter((source) => !/^(https?|git):\/\//.test(source));
    } else if (keyword === 'RUN') {
      sources = bindMountSources(instruction);
    }
    for (const source of sources) {
      const expanded = expand(source, args);
      if (expanded === undefined) return { kind: 'all' };
      const path = normalize(expanded);
      if (path === '.' || path === '*') return { kind: 'all' };
      patterns.push(path);
    }
  }
  return { kind: 'paths', patterns };
}

function globToRegex(pattern: string): RegExp {
  const source = pattern
    .split('')
    .map((char) =>
      char === '*' ? '[^/]*' : char === '?' ? '[^/]' : /[.+^${}()|[\]\\]/.test(char) ? `\\${char}` : char,
    )
    .join('');
  // A directory source copies everything below it.
  return new RegExp(`^${source}(?:/.*)?$`);
}

/** Whether a context file (relative path) is read by one of the sources. */
export function readBy(sources: Sources): (file: string) => boolean {
  if (sources.kind === 'all') return () => true;
  const regexes = sources.patterns.map(globToRegex);
  return (file) => regexes.some((regex) => regex.test(file));
}
