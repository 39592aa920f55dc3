/**
 * A kind cluster, reconciled like ctlptl does it: reuse a cluster of that name, else create it
 * with the generated kind config on stdin. Either way the kubeconfig context kind-<name> is
 * (re)exported, so a user whose kubeconfig was reset still gets a working context.
 */
import { stringify } from 'yaml';
import { run, type Runner } from '../core/exec.ts';
import type { Redactor } from '../core/redact.ts';
import type { Config } from '../config/schema.ts';

export function kindContext(name: string): string {
  return `kind-${name}`;
}

/** The kind Cluster config: our defaults deep-merged with cluster.kind.config. */
export function kindClusterConfig(config: Config): Record<string, unknown> {
  const base: Record<string, unknown> = { kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', name: config.cluster.name };
  return deepMerge(base, config.cluster.kind.config);
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
  return stdout.split('\n').map((line) => line.trim()).filter(Boolean);
}

export async function kindClusters(runner: Runner, redactor?: Redactor): Promise<string[]> {
  return parseClusterList((await run(runner, ['kind', 'get', 'clusters'], { timeoutMs: 30_000 }, redactor)).stdout);
}

/** Creates the cluster unless it exists; returns "reused" or "created". */
export async function ensureKindCluster(runner: Runner, config: Config, redactor?: Redactor): Promise<'reused' | 'created'> {
  const { name, kind } = config.cluster;
  if ((await kindClusters(runner, redactor)).includes(name)) {
    await run(runner, ['kind', 'export', 'kubeconfig', '--name', name], { timeoutMs: 30_000 }, redactor);
    return 'reused';
  }
  const argv = ['kind', 'create', 'cluster', '--name', name, '--config', '-', '--wait', '120s', ...(kind.nodeImage ? ['--image', kind.nodeImage] : [])];
  await run(runner, argv, { input: stringify(kindClusterConfig(config)), timeoutMs: 10 * 60_000 }, redactor);
  return 'created';
}

/** Deletes the cluster; a cluster that does not exist is not an error. */
export async function deleteKindCluster(runner: Runner, name: string, redactor?: Redactor): Promise<'deleted' | 'not found'> {
  if (!(await kindClusters(runner, redactor)).includes(name)) return 'not found';
  await run(runner, ['kind', 'delete', 'cluster', '--name', name], { timeoutMs: 5 * 60_000 }, redactor);
  return 'deleted';
}
