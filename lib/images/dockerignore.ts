/**
 * .dockerignore semantics (moby/patternmatcher): one pattern per line, `#` comments, `!`
 * re-includes, `*` and `?` stay within a path segment, `**` spans any number of segments,
 * a leading `/` is ignored, the last matching pattern wins, and a pattern that matches a
 * directory also excludes everything below it.
 */
export interface IgnorePattern {
  regex: RegExp;
  negated: boolean;
}

function toRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      // "**/" matches zero or more directories; a trailing "**" matches everything below.
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        source += '(?:.*/)?';
      } else source += '.*';
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '\\' && i + 1 < pattern.length) source += `\\${pattern[++i]}`;
    else source += /[.+^${}()|[\]]/.test(char) ? `\\${char}` : char;
  }
  // A match on a directory covers its contents.
  return new RegExp(`^${source}(?:/.*)?$`);
}

function clean(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

export function parseDockerignore(text: string): IgnorePattern[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = clean(negated ? line.slice(1).trim() : line);
      return { regex: toRegex(pattern), negated };
    })
    .filter((p) => p.regex.source !== '^(?:/.*)?$');
}

/** Whether a path relative to the context root is excluded from the build context. */
export function isIgnored(path: string, patterns: IgnorePattern[]): boolean {
  let ignored = false;
  for (const pattern of patterns) if (pattern.regex.test(path)) ignored = !pattern.negated;
  return ignored;
}
