/** Writes an e2e config: provider existing on the harness context, our stand-in images. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Harness } from './harness.ts';
import type { StackImages } from './images.ts';

export interface E2eOptions {
  namespace: string;
  images: StackImages;
  /** Override pieces of the config (shallow per top-level key). */
  overrides?: Record<string, unknown>;
  components?: Record<string, unknown>[];
}

export function e2eConfig(h: Harness, options: E2eOptions): Record<string, unknown> {
  const { images } = options;
  const components = options.components ?? [
    { name: 'runtime', image: images.runtime, port: 8080 },
    { name: 'engine', image: images.engine, port: 8081 },
    {
      name: 'operate-ui',
      image: images['operate-ui'],
      port: 3000,
      health: { liveness: '/health', readiness: '/health' },
    },
  ];
  return {
    cluster: { provider: 'existing', context: h.context },
    namespace: options.namespace,
    nats: { image: images.nats, exporter: { image: images.exporter } },
    components,
    registries: [
      {
        name: 'e2e',
        server: h.registry,
        usernameEnv: 'DEMON_E2E_REGISTRY_USER',
        passwordEnv: 'DEMON_E2E_REGISTRY_PASSWORD',
        appliesTo: ['nats', ...components.map((c) => c.name as string)],
      },
    ],
    // The default pull grace: the kubelet may miss a just-created pull Secret once (event
    // FailedToRetrieveImagePullSecret) and succeeds on its retry 10 s later.
    wait: { timeout: '3m', pullGrace: '30s', readinessGrace: '15s' },
    ...options.overrides,
  };
}

export function writeConfig(config: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'demon-e2e-config-')), 'demon.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

/**
 * The harness registry's pull credentials, applied to exactly these workloads (a config that
 * turns monitoring on must add prometheus and grafana; one that drops a component must drop it).
 */
export function e2eRegistries(h: Harness, appliesTo: string[]): Record<string, unknown>[] {
  return [
    {
      name: 'e2e',
      server: h.registry,
      usernameEnv: 'DEMON_E2E_REGISTRY_USER',
      passwordEnv: 'DEMON_E2E_REGISTRY_PASSWORD',
      appliesTo,
    },
  ];
}
