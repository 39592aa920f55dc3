/**
 * Which context paths a Dockerfile can read: the sources of its COPY and ADD instructions
 * (not `--from` copies, which read other stages). Lets build-images hash only what an image
 * is built from, so a change to engine/ does not rebuild runtime when both share the
 * repository root as context. Anything it cannot read with certainty (variables in a source,
 * `COPY . .`) means the whole context.
 */
export type Sources = { kind: 'all' } | { kind: 'paths'; patterns: string[] };

function instructions(text: string): string[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  return joined
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

function normalize(source: string): string {
  const path = source.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  return path === '' || path === '.' ? '.' : path;
}

export function dockerfileSources(text: string): Sources {
  const patterns: string[] = [];
  for (const line of instructions(text)) {
    const match = /^(COPY|ADD)\s+(.*)$/i.exec(line);
    if (!match) continue;
    let rest = match[2]!.trim();
    const flags: string[] = [];
    while (rest.startsWith('--')) {
      const [flag, ...tail] = rest.split(/\s+/);
      flags.push(flag!);
      rest = tail.join(' ');
    }
    if (flags.some((flag) => flag.startsWith('--from'))) continue;
    let parts: string[];
    if (rest.startsWith('[')) {
      try {
        parts = JSON.parse(rest) as string[];
      } catch {
        return { kind: 'all' };
      }
    } else {
      parts = rest.split(/\s+/);
    }
    const sources = parts.slice(0, -1);
    for (const source of sources) {
      if (/^https?:\/\//.test(source)) continue; // remote ADD: not in the context
      if (source.includes('$')) return { kind: 'all' };
      const path = normalize(source);
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
