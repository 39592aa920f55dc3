/**
 * kind, reconciled like ctlptl does it: reuse a cluster of that name, else create it with the
 * generated kind config on stdin. A cluster this tool creates has the created-by label on
 * every node (set through the kind config, so only a creation can add it); deleting a cluster
 * requires it, so a cluster someone else made is never deleted.
 */
import { stringify } from 'yaml';
import type { Config } from '../config/schema.ts';
import { run, type Runner } from '../core/exec.ts';
import type { Redactor } from '../core/redact.ts';
import { CREATED_BY, MANAGED_BY } from '../render/names.ts';

export function kindContext(name: string): string {
  return `kind-${name}`;
}

/**
 * The kind Cluster config: our defaults deep-merged with cluster.kind.config, then our
 * created-by label on every node (the user's nodes list included).
 */
export function kindClusterConfig(config: Config): Record<string, unknown> {
  const base: Record<string, unknown> = {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: config.cluster.name,
  };
  const merged = deepMerge(base, config.cluster.kind.config);
  const nodes =
    Array.isArray(merged.nodes) && merged.nodes.length > 0
      ? (merged.nodes as Record<string, unknown>[])
      : [{ role: 'control-plane' }];
  merged.nodes = nodes.map((node) => ({
    ...node,
    labels: { ...(isPlainObject(node.labels) ? node.labels : {}), [CREATED_BY]: MANAGED_BY },
  }));
  return merged;
}

function deepMerge(into: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  const out = { ...into };
  for (const [key, value] of Object.entries(from)) {
    const existing = out[key];
    out[key] = isPlainObject(existing) && isPlainObject(value) ? deepMerge(existing, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `kind get clusters` prints one name per line on stdout ("No kind clusters found." goes to stderr). */
export function parseClusterList(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

export async function kindClusters(runner: Runner, redactor?: Redactor): Promise<string[]> {
  return parseClusterList((await run(runner, ['kind', 'get', 'clusters'], { timeoutMs: 30_000 }, redactor)).stdout);
}

export async function createKindCluster(runner: Runner, config: Config, redactor?: Redactor): Promise<void> {
  const { name, kind } = config.cluster;
  const argv = [
    'kind',
    'create',
    'cluster',
    '--name',
    name,
    '--config',
    '-',
    '--wait',
    '120s',
    ...(kind.nodeImage ? ['--image', kind.nodeImage] : []),
  ];
  await run(runner, argv, { input: stringify(kindClusterConfig(config)), timeoutMs: 10 * 60_000 }, redactor);
}

/** (Re)writes the kind-<name> context into the kubeconfig, for a user whose kubeconfig was reset. */
export async function exportKubeconfig(runner: Runner, name: string, redactor?: Redactor): Promise<void> {
  await run(runner, ['kind', 'export', 'kubeconfig', '--name', name], { timeoutMs: 30_000 }, redactor);
}

export async function deleteKindCluster(runner: Runner, name: string, redactor?: Redactor): Promise<void> {
  await run(runner, ['kind', 'delete', 'cluster', '--name', name], { timeoutMs: 5 * 60_000 }, redactor);
}

/** Loads a local image onto every node of the cluster. */
export async function loadImage(runner: Runner, name: string, image: string, redactor?: Redactor): Promise<void> {
  await run(runner, ['kind', 'load', 'docker-image', image, '--name', name], { timeoutMs: 10 * 60_000 }, redactor);
}
