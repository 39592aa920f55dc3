/**
 * Image references as docker and containerd read them: "nats:2.10" is
 * docker.io/library/nats:2.10, "ghcr.io/org/x@sha256:..." names its registry, and
 * "127.0.0.1:5001/x:tag" is a local registry.
 */
export interface ImageRef {
  /** Registry host as written (docker.io for Docker Hub). */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';

export function parseImageRef(reference: string): ImageRef {
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) [rest, digest] = [rest.slice(0, at), rest.slice(at + 1)];
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) [rest, tag] = [rest.slice(0, colon), rest.slice(colon + 1)];
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  const hasRegistry = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? normalizeRegistry(first) : DOCKER_HUB;
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  return {
    registry,
    repository,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
    ...(!tag && !digest ? { tag: 'latest' } : {}),
  };
}

/** The registry host a docker `auths` key or config `server` stands for. */
export function normalizeRegistry(server: string): string {
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host) ? DOCKER_HUB : host;
}

/** Where the registry's HTTP API lives. Loopback registries speak plain HTTP, as docker allows. */
export function registryBaseUrl(registry: string): string {
  if (registry === DOCKER_HUB) return 'https://registry-1.docker.io';
  const host = registry.replace(/:\d+$/, '');
  const loopback = host === 'localhost' || /^127\./.test(host) || host === '[::1]';
  return `${loopback ? 'http' : 'https'}://${registry}`;
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

export function repositoryOf(image: string): string {
  return image.replace(/@sha256:[a-f0-9]{64}$/, '').replace(/:[^:/]+$/, '');
}
