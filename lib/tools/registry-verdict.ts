/**
 * One sentence with the fix for every registry answer, shared by --check-pull and the image
 * pipeline: 401 bad credentials, 403 no permission (with GHCR's usual causes), 404 never
 * pushed, 429 rate limited, and a registry that cannot be reached.
 */
import { DOCKER_HUB } from './image-ref.ts';
import type { ManifestAnswer } from './registry.ts';

export type VerdictKind = 'ok' | 'unauthorized' | 'forbidden' | 'not-found' | 'rate-limited' | 'unreachable' | 'unexpected';

export interface Verdict {
  kind: VerdictKind;
  sentence: string;
}

export interface VerdictContext {
  image: string;
  registry: string;
  operation: 'pull' | 'push';
  /** Where the credentials came from ("DEMON_GHCR_USER / DEMON_GHCR_TOKEN"), when there were any. */
  credentialsFrom?: string;
}

const isGhcr = (registry: string) => registry === 'ghcr.io';

export function verdictFor(answer: ManifestAnswer, context: VerdictContext): Verdict {
  const { image, registry, operation, credentialsFrom } = context;
  if (answer.networkError) {
    return { kind: 'unreachable', sentence: `${registry} cannot be reached: ${answer.networkError}; check the host name and port, that the registry is running, and any proxy or firewall in between` };
  }
  const code = answer.code ? ` (${answer.code})` : '';
  switch (answer.status) {
    case 200:
      return { kind: 'ok', sentence: `${image}: found${answer.digest ? ` (${answer.digest})` : ''}` };
    case 401:
      return credentialsFrom
        ? { kind: 'unauthorized', sentence: `401 Unauthorized${code}: ${registry} rejected the credentials from ${credentialsFrom} for ${image}; check both values${isGhcr(registry) ? ' (GHCR wants a personal access token or GITHUB_TOKEN as the password, not an account password)' : ''}` }
        : { kind: 'unauthorized', sentence: `401 Unauthorized${code}: ${registry} requires credentials for ${image}; add a registries entry (usernameEnv, passwordEnv) whose appliesTo names this workload` };
    case 403:
      if (operation === 'push') {
        return { kind: 'forbidden', sentence: `403 Forbidden${code}: the credentials may not push ${image}${isGhcr(registry) ? '; for GHCR the workflow needs `permissions: packages: write` and the package must give this repository write access (package settings, Manage Actions access)' : '; grant the account write access to the repository'}` };
      }
      if (isGhcr(registry) && !credentialsFrom) {
        return { kind: 'forbidden', sentence: `403 Forbidden${code}: GHCR refuses anonymous access to ${image}: the package was never pushed, or it is private; configure GHCR credentials to tell which` };
      }
      return { kind: 'forbidden', sentence: `403 Forbidden${code}: the credentials${credentialsFrom ? ` from ${credentialsFrom}` : ''} may not read ${image}${isGhcr(registry) ? '; for GHCR the package may be private and the token lack `read:packages`, or the package is not linked to the repository whose token is used (package settings, Manage Actions access)' : '; grant the account read access to the repository'}` };
    case 404:
      return { kind: 'not-found', sentence: `404 not found${code}: ${image} does not exist in ${registry}; it was never pushed or the tag is wrong (build and push it with scripts/build-images.mts, or fix the reference in the config)` };
    case 429:
      return { kind: 'rate-limited', sentence: `429 Too Many Requests: ${registry} is rate-limiting ${credentialsFrom ? 'these credentials' : 'anonymous pulls'}${registry === DOCKER_HUB ? ' (Docker Hub limits anonymous pulls per IP)' : ''}; ${credentialsFrom ? 'retry later' : 'add a registries entry with credentials whose appliesTo names this workload, or retry later'}` };
    default:
      return { kind: 'unexpected', sentence: `unexpected HTTP ${answer.status}${code} from ${registry} for ${image}` };
  }
}
