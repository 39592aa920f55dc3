/**
 * A content hash of what a `docker build` reads: the context files that .dockerignore lets
 * through and the Dockerfile's COPY/ADD sources name (path, executable bit and bytes), the
 * Dockerfile, the build args and the target. Equal hashes mean the build would be the same,
 * so build-images can skip it.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join, relative } from 'node:path';
import * as dockerignoreModule from '@balena/dockerignore';
import type { Ignore } from '@balena/dockerignore';
import { dockerfileSources, readBy } from './dockerfile-sources.ts';

// A CommonJS package whose types say `export default`: under Node's ESM loader its factory
// is the namespace's default export.
const dockerignore = (dockerignoreModule as unknown as { default: () => Ignore }).default;

/** What .dockerignore excludes (moby's own matching, ported: @balena/dockerignore). */
export interface IgnoreRules {
  ignores(path: string): boolean;
  /** Has `!` exceptions: an excluded directory may still hold files that are sent. */
  reincludes: boolean;
}

export function parseDockerignore(text: string): IgnoreRules {
  const lines = text.split(/\r?\n/);
  const matcher = dockerignore().add(lines);
  return { ignores: (path) => matcher.ignores(path), reincludes: lines.some((line) => line.trim().startsWith('!')) };
}

export interface HashInputs {
  context: string;
  dockerfile: string;
  args: Record<string, string>;
  target?: string;
}

/** Context files in a stable order, skipping what .dockerignore excludes. */
export function contextFiles(context: string, rules: IgnoreRules): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      const rel = relative(context, path);
      if (rules.ignores(rel)) {
        // An exception can re-include something below an ignored directory, so only skip the
        // directory when there is none.
        if (!(entry.isDirectory() && rules.reincludes)) continue;
      }
      if (entry.isDirectory()) walk(path);
      else if (!rules.ignores(rel)) files.push(rel);
    }
  };
  walk(context);
  return files;
}

/** What docker's context keeps of a file besides its bytes: a symlink, an executable, a file. */
function fileType(stat: Stats): 'link' | 'exec' | 'file' {
  if (stat.isSymbolicLink()) return 'link';
  return stat.mode & 0o111 ? 'exec' : 'file';
}

export function contentHash(inputs: HashInputs): string {
  let rules: IgnoreRules = { ignores: () => false, reincludes: false };
  try {
    rules = parseDockerignore(readFileSync(join(inputs.context, '.dockerignore'), 'utf8'));
  } catch {
    // no .dockerignore: everything is in the context
  }
  const hash = createHash('sha256');
  const dockerfile = readFileSync(inputs.dockerfile);
  const used = readBy(dockerfileSources(dockerfile.toString('utf8'), inputs.args));
  for (const file of contextFiles(inputs.context, rules).filter(used)) {
    const path = join(inputs.context, file);
    const stat = lstatSync(path);
    hash.update(`${file}\0${fileType(stat)}\0`);
    hash.update(stat.isSymbolicLink() ? readlinkSync(path) : readFileSync(path));
    hash.update('\0');
  }
  hash.update('dockerfile\0');
  hash.update(dockerfile);
  hash.update('\0');
  for (const key of Object.keys(inputs.args).sort()) hash.update(`arg\0${key}=${inputs.args[key]}\0`);
  hash.update(`target\0${inputs.target ?? ''}`);
  return `sha256:${hash.digest('hex')}`;
}
