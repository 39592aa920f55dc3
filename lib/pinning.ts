/**
 * Pins built components to the digests in images.lock.json. A lock that names a component
 * the config does not have, or a different repository than the config's image, is refused:
 * it was built for another config, and deploying it would run something else than asked.
 */
import { UsageError } from './errors.ts';
import { repositoryOf } from './image-jobs.ts';
import type { Lock } from './lock.ts';
import type { Config } from './schema.ts';
import type { ImageOverrides } from './views.ts';

export function pinnedImages(config: Config, lock: Lock | undefined, lockFile: string): ImageOverrides {
  if (!lock) return {};
  const problems: string[] = [];
  const images: Record<string, string> = {};
  for (const [name, entry] of Object.entries(lock.images)) {
    const component = config.components.find((c) => c.name === name);
    if (!component) {
      problems.push(`${lockFile} pins "${name}", which is not a component of the config (components: ${config.components.map((c) => c.name).join(', ')})`);
      continue;
    }
    if (repositoryOf(component.image) !== entry.repository) {
      problems.push(`${lockFile} pins ${name} from ${entry.repository}, but the config's image is ${component.image}`);
      continue;
    }
    images[name] = entry.pinned;
  }
  if (problems.length) throw new UsageError(`${lockFile} does not match the config; rebuild it with scripts/build-images.mts or pass --no-lock`, problems);
  return images;
}
