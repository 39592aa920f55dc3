/** Which kubeconfig context a run talks to: kind-<name>, or the configured existing context. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { kindContext } from './kind.ts';
import type { ClusterTarget } from './kubectl.ts';
import type { Config } from '../config/schema.ts';

export function expandHome(path: string, home = homedir()): string {
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

export function clusterTarget(config: Config, home?: string): ClusterTarget {
  const { cluster } = config;
  if (cluster.provider === 'kind') return { context: kindContext(cluster.name) };
  return { context: cluster.context!, ...(cluster.kubeconfig ? { kubeconfig: expandHome(cluster.kubeconfig, home) } : {}) };
}
