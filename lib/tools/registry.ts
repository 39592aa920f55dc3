/**
 * A small client for the Docker Registry v2 / OCI distribution API, on Node's fetch: the
 * token handshake announced by WWW-Authenticate (Bearer with a token service, or Basic),
 * then HEAD of a manifest. Every request is bounded in time. Credentials travel only in
 * request headers, never in URLs, logs or errors.
 */
import type { Registry } from '../config/schema.ts';
import { registryBaseUrl, type ImageRef } from './image-ref.ts';

export interface Credentials {
  username: string;
  password: string;
}

/** Credentials and the env vars they came from (named in verdicts, never the values). */
export interface RegistryAuth {
  credentials: Credentials;
  from: string;
}

/** A registries entry's credentials from the env, when both of its variables are set. */
export function registryAuth(
  entry: Registry | undefined,
  env: Record<string, string | undefined>,
): RegistryAuth | undefined {
  const username = entry && env[entry.usernameEnv];
  const password = entry && env[entry.passwordEnv];
  return entry && username && password
    ? { credentials: { username, password }, from: `${entry.usernameEnv} / ${entry.passwordEnv}` }
    : undefined;
}

export type Fetch = typeof fetch;

export interface ManifestAnswer {
  status: number;
  /** The registry's error code from its JSON body (MANIFEST_UNKNOWN, DENIED, ...), if any. */
  code?: string;
  digest?: string;
  /** Set when the registry could not be reached at all. */
  networkError?: string;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Parses `Bearer realm="...",service="...",scope="..."` (or Basic realm=...). */
export function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const [scheme, ...rest] = header.trim().split(/\s+/);
  const params: Record<string, string> = {};
  for (const [, key, value] of rest.join(' ').matchAll(/(\w+)="([^"]*)"/g)) params[key!.toLowerCase()] = value!;
  return { scheme: scheme!.toLowerCase(), params };
}

function basic(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

function describeNetworkError(error: unknown, url: string, timeoutMs: number): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError')
    return `no answer from ${new URL(url).host} within ${timeoutMs / 1000}s`;
  return `cannot connect to ${new URL(url).host}${cause?.code ? ` (${cause.code})` : ''}`;
}

async function errorCode(response: Response): Promise<string | undefined> {
  try {
    const body = (await response.json()) as { errors?: { code?: string }[] };
    return body.errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

export interface RegistryClientOptions {
  fetch?: Fetch;
  timeoutMs?: number;
}

/** Asks whether a manifest exists, authenticating the way the registry asks to. */
export async function headManifest(
  image: ImageRef,
  credentials: Credentials | undefined,
  options: RegistryClientOptions = {},
): Promise<ManifestAnswer> {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const reference = image.digest ?? image.tag ?? 'latest';
  const url = `${registryBaseUrl(image.registry)}/v2/${image.repository}/manifests/${reference}`;
  const request = async (target: string, method: string, headers: Record<string, string>) =>
    doFetch(target, { method, headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  try {
    let response = await request(url, 'HEAD', { Accept: MANIFEST_TYPES });
    if (response.status === 401) {
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      let authorization: string | undefined;
      if (challenge?.scheme === 'bearer' && challenge.params.realm) {
        const tokenUrl = new URL(challenge.params.realm);
        if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
        tokenUrl.searchParams.set('scope', challenge.params.scope ?? `repository:${image.repository}:pull`);
        const tokenResponse = await request(
          tokenUrl.toString(),
          'GET',
          credentials ? { Authorization: basic(credentials) } : {},
        );
        if (!tokenResponse.ok) return { status: tokenResponse.status, code: await errorCode(tokenResponse) };
        const body = (await tokenResponse.json()) as { token?: string; access_token?: string };
        const token = body.token ?? body.access_token;
        if (token) authorization = `Bearer ${token}`;
      } else if (challenge?.scheme === 'basic' && credentials) {
        authorization = basic(credentials);
      }
      if (!authorization) return { status: 401, code: 'UNAUTHORIZED' };
      response = await request(url, 'HEAD', { Accept: MANIFEST_TYPES, Authorization: authorization });
      if (response.status !== 200 && response.status !== 404) {
        // HEAD answers carry no body; GET says which error code the registry means.
        const detail = await request(url, 'GET', { Accept: MANIFEST_TYPES, Authorization: authorization });
        return { status: detail.status, code: await errorCode(detail) };
      }
    }
    if (response.status === 404) return { status: 404, code: 'MANIFEST_UNKNOWN' };
    return {
      status: response.status,
      ...(response.headers.get('docker-content-digest')
        ? { digest: response.headers.get('docker-content-digest')! }
        : {}),
    };
  } catch (error) {
    return { status: 0, networkError: describeNetworkError(error, url, timeoutMs) };
  }
}
