/**
 * One sentence with the fix for every registry answer, shared by --check-pull and the image
 * pipeline: 401 bad credentials, 403 no permission (with GHCR's usual causes), 404 never
 * pushed, 429 rate limited, and a registry that cannot be reached.
 */
import { DOCKER_HUB } from './image-ref.ts';
import type { ManifestAnswer } from './registry.ts';

export type VerdictKind =
  'ok' | 'unauthorized' | 'forbidden' | 'not-found' | 'rate-limited' | 'unreachable' | 'unexpected';

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

const GHCR = 'ghcr.io';

// GHCR's own causes, appended where they are the likely ones.
const GHCR_TOKEN_HINT =
  ' (GHCR wants a personal access token or GITHUB_TOKEN as the password, not an account password)';
const GHCR_PUSH_HINT =
  '; for GHCR the workflow needs `permissions: packages: write` and the package must give this repository write access (package settings, Manage Actions access)';
const GHCR_READ_HINT =
  '; for GHCR the package may be private and the token lack `read:packages`, or the package is not linked to the repository whose token is used (package settings, Manage Actions access)';

function unauthorized(code: string, { image, registry, credentialsFrom }: VerdictContext): string {
  if (!credentialsFrom) {
    return `401 Unauthorized${code}: ${registry} requires credentials for ${image}; add a registries entry (usernameEnv, passwordEnv) whose appliesTo names this workload`;
  }
  const hint = registry === GHCR ? GHCR_TOKEN_HINT : '';
  return `401 Unauthorized${code}: ${registry} rejected the credentials from ${credentialsFrom} for ${image}; check both values${hint}`;
}

function forbidden(code: string, { image, registry, operation, credentialsFrom }: VerdictContext): string {
  const ghcr = registry === GHCR;
  if (operation === 'push') {
    return `403 Forbidden${code}: the credentials may not push ${image}${ghcr ? GHCR_PUSH_HINT : '; grant the account write access to the repository'}`;
  }
  if (ghcr && !credentialsFrom) {
    return `403 Forbidden${code}: GHCR refuses anonymous access to ${image}: the package was never pushed, or it is private; configure GHCR credentials to tell which`;
  }
  const whose = credentialsFrom ? ` from ${credentialsFrom}` : '';
  return `403 Forbidden${code}: the credentials${whose} may not read ${image}${ghcr ? GHCR_READ_HINT : '; grant the account read access to the repository'}`;
}

function rateLimited({ registry, credentialsFrom }: VerdictContext): string {
  const who = credentialsFrom ? 'these credentials' : 'anonymous pulls';
  const why = registry === DOCKER_HUB ? ' (Docker Hub limits anonymous pulls per IP)' : '';
  const fix = credentialsFrom
    ? 'retry later'
    : 'add a registries entry with credentials whose appliesTo names this workload, or retry later';
  return `429 Too Many Requests: ${registry} is rate-limiting ${who}${why}; ${fix}`;
}

export function verdictFor(answer: ManifestAnswer, context: VerdictContext): Verdict {
  const { image, registry } = context;
  if (answer.networkError) {
    const fix = 'check the host name and port, that the registry is running, and any proxy or firewall in between';
    return { kind: 'unreachable', sentence: `${registry} cannot be reached: ${answer.networkError}; ${fix}` };
  }
  const code = answer.code ? ` (${answer.code})` : '';
  switch (answer.status) {
    case 200:
      return { kind: 'ok', sentence: `${image}: found${answer.digest ? ` (${answer.digest})` : ''}` };
    case 401:
      return { kind: 'unauthorized', sentence: unauthorized(code, context) };
    case 403:
      return { kind: 'forbidden', sentence: forbidden(code, context) };
    case 404: {
      const fix = 'build and push it with scripts/build-images.mts, or fix the reference in the config';
      return {
        kind: 'not-found',
        sentence: `404 not found${code}: ${image} does not exist in ${registry}; it was never pushed or the tag is wrong (${fix})`,
      };
    }
    case 429:
      return { kind: 'rate-limited', sentence: rateLimited(context) };
    default:
      return { kind: 'unexpected', sentence: `unexpected HTTP ${answer.status}${code} from ${registry} for ${image}` };
  }
}
