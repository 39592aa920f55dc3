/**
 * images.lock.json: what build-images pushed, per component, with the digest taken from the
 * push itself. bootstrap and the nightly pin images to `repository@digest` from it; smoke
 * compares every running container's imageID with it. Written atomically (temp + rename).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../core/errors.ts';
import { DIGEST, IMAGE_REPOSITORY } from '../config/formats.ts';
import type { Config } from '../config/schema.ts';
import type { ImageOverrides } from '../render/views.ts';
import { repositoryOf } from '../tools/image-ref.ts';

const lockedImage = z.strictObject({
  repository: z.string().regex(IMAGE_REPOSITORY, 'must be an image repository without tag or digest'),
  tags: z.array(z.string().regex(/^[\w][\w.-]{0,127}$/, 'must be an image tag')).min(1),
  digest: z.string().regex(DIGEST, 'must be a sha256 digest: "sha256:" and 64 lowercase hex characters'),
  /** `repository@digest`, or `repository:tag` when the image was only loaded into kind (kind#4028). */
  pinned: z.string().min(1),
  sourceCommit: z.string(),
  builtAt: z.string(),
  /** Hash of the build context (honouring .dockerignore), Dockerfile and build args. */
  contentHash: z.string(),
});

export const lockSchema = z.strictObject({
  version: z.literal(1),
  images: z.record(z.string(), lockedImage),
});

export type Lock = z.output<typeof lockSchema>;
export type LockedImage = z.output<typeof lockedImage>;

export const DEFAULT_LOCK_FILE = 'images.lock.json';

export function parseLock(text: string, file: string): Lock {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${file} is not valid JSON (${(error as Error).message}); rebuild it with scripts/build-images.mts or pass --no-lock`,
    );
  }
  const result = lockSchema.safeParse(data);
  if (!result.success) {
    throw new UsageError(
      `${file} is not a valid lock file; rebuild it with scripts/build-images.mts or pass --no-lock`,
      result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    );
  }
  return result.data;
}

/** Reads a lock file; `undefined` when it does not exist (a missing lock is not an error). */
export function readLock(file: string): Lock | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(
      `${file} cannot be read (${(error as NodeJS.ErrnoException).code}); check its permissions or pass --no-lock`,
    );
  }
  return parseLock(text, file);
}

export function writeLock(file: string, lock: Lock): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(lock, null, 2)}\n`);
  renameSync(temporary, file);
}

/** The digest a lock pins for a component, if it pins one by digest. */
export function pinnedDigest(lock: Lock | undefined, component: string): string | undefined {
  const entry = lock?.images[component];
  return entry && entry.pinned.includes('@') ? entry.digest : undefined;
}

/**
 * Pins built components to the digests in the lock. A lock that names a component the config
 * does not have, or a different repository than the config's image, is refused: it was built
 * for another config, and deploying it would run something else than asked.
 */
export function pinnedImages(config: Config, lock: Lock | undefined, lockFile: string): ImageOverrides {
  if (!lock) return {};
  const problems: string[] = [];
  const images: Record<string, string> = {};
  for (const [name, entry] of Object.entries(lock.images)) {
    const component = config.components.find((c) => c.name === name);
    if (!component) {
      problems.push(
        `${lockFile} pins "${name}", which is not a component of the config (components: ${config.components.map((c) => c.name).join(', ')})`,
      );
      continue;
    }
    if (repositoryOf(component.image) !== entry.repository) {
      problems.push(`${lockFile} pins ${name} from ${entry.repository}, but the config's image is ${component.image}`);
      continue;
    }
    // Only ever repository@digest (or repository:tag of a kind-loaded image) of the
    // config's own repository: a lock is a file anyone can edit, never a free-form image.
    const allowed = [`${entry.repository}@${entry.digest}`, ...entry.tags.map((tag) => `${entry.repository}:${tag}`)];
    if (!allowed.includes(entry.pinned)) {
      problems.push(
        `${lockFile} pins ${name} to "${entry.pinned}", which is neither ${entry.repository}@${entry.digest} nor one of its tags`,
      );
      continue;
    }
    images[name] = entry.pinned;
  }
  if (problems.length)
    throw new UsageError(
      `${lockFile} does not match the config; rebuild it with scripts/build-images.mts or pass --no-lock`,
      problems,
    );
  return images;
}
