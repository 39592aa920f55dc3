/**
 * Where the stack runs, decided in this one place (like kind's providers/ and ctlptl's Admin):
 * a local kind cluster, created by this tool or reused, or an existing cluster reached through
 * a kubeconfig context (EKS, GKE, AKS, k3s, ...). Everything else asks the provider.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { UsageError } from '../core/errors.ts';
import type { Runner } from '../core/exec.ts';
import type { Redactor } from '../core/redact.ts';
import { CREATED_BY, MANAGED_BY } from '../render/names.ts';
import {
  createKindCluster,
  deleteKindCluster,
  exportKubeconfig,
  kindClusters,
  kindContext,
  loadImage,
} from './kind.ts';
import { Kubectl, type ClusterTarget } from './kubectl.ts';

export type RemoveOutcome = 'deleted' | 'not found' | 'not ours';

export interface Provider {
  readonly name: 'kind' | 'existing';
  /** The context (and kubeconfig) every kubectl call names. */
  readonly target: ClusterTarget;
  /** The programs it calls, checked on PATH before anything runs. */
  readonly tools: string[];
  /** For prompts and status lines: `kind cluster "demon"`, `context prod-eks`. */
  describe(): string;
  /** Whether the cluster is there (without creating it): --diff compares against it. */
  exists(): Promise<boolean>;
  /** Bootstrap: the cluster exists afterwards ("created", "reused" or "existing"). */
  ensure(): Promise<string>;
  /** Nightly: a cluster of its own, from nothing (kind) or the existing one (its namespace is fresh instead). */
  fresh(): Promise<string>;
  /** Teardown: deletes the cluster only when this tool created it. */
  remove(): Promise<RemoveOutcome>;
  /** build-images --no-push --load: the image onto the cluster's nodes. */
  load(image: string): Promise<void>;
  /** How to remove what a --retain'ed nightly kept. */
  removeHint(namespace: string): string;
}

export function expandHome(path: string, home = homedir()): string {
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

export function clusterTarget(config: Config, home?: string): ClusterTarget {
  const { cluster } = config;
  if (cluster.provider === 'kind') return { context: kindContext(cluster.name) };
  return {
    context: cluster.context!,
    ...(cluster.kubeconfig ? { kubeconfig: expandHome(cluster.kubeconfig, home) } : {}),
  };
}

class KindProvider implements Provider {
  readonly name = 'kind';
  readonly tools = ['kubectl', 'kind', 'docker'];
  readonly target: ClusterTarget;

  constructor(
    private readonly config: Config,
    private readonly runner: Runner,
    private readonly redactor?: Redactor,
  ) {
    this.target = clusterTarget(config);
  }

  private get clusterName(): string {
    return this.config.cluster.name;
  }

  describe(): string {
    return `kind cluster "${this.clusterName}"`;
  }

  async exists(): Promise<boolean> {
    return (await kindClusters(this.runner, this.redactor)).includes(this.clusterName);
  }

  async ensure(): Promise<string> {
    if (await this.exists()) {
      await exportKubeconfig(this.runner, this.clusterName, this.redactor);
      return 'reused';
    }
    await createKindCluster(this.runner, this.config, this.redactor);
    return 'created';
  }

  async fresh(): Promise<string> {
    const leftover = await this.remove();
    if (leftover === 'not ours') {
      throw new UsageError(
        `a kind cluster "${this.clusterName}" exists and was not created by ${MANAGED_BY}, so the nightly will not delete it; ` +
          'set nightly.clusterName to another name, or delete it yourself with `kind delete cluster --name ' +
          `${this.clusterName}\``,
      );
    }
    await createKindCluster(this.runner, this.config, this.redactor);
    return `kind cluster ${this.clusterName} created${leftover === 'deleted' ? ' (its leftover from an earlier run was deleted first)' : ''}`;
  }

  /** Ours when a node carries the created-by label, which only our kind config sets. */
  private async createdByUs(): Promise<boolean> {
    const kubectl = new Kubectl(this.runner, this.target, this.redactor);
    const nodes = await kubectl.exec(
      ['get', 'nodes', '-l', `${CREATED_BY}=${MANAGED_BY}`, '-o', 'name', '--request-timeout=15s'],
      { timeoutMs: 30_000 },
    );
    if (nodes.exitCode !== 0) {
      const reason = nodes.stderr.trim().split('\n').pop() ?? `exit ${nodes.exitCode}`;
      throw new Error(
        `kind cluster "${this.clusterName}" cannot be reached to check that ${MANAGED_BY} created it (${reason}); ` +
          `start it, or delete it yourself with \`kind delete cluster --name ${this.clusterName}\``,
      );
    }
    return nodes.stdout.trim() !== '';
  }

  async remove(): Promise<RemoveOutcome> {
    if (!(await kindClusters(this.runner, this.redactor)).includes(this.clusterName)) return 'not found';
    if (!(await this.createdByUs())) return 'not ours';
    await deleteKindCluster(this.runner, this.clusterName, this.redactor);
    return 'deleted';
  }

  load(image: string): Promise<void> {
    return loadImage(this.runner, this.clusterName, image, this.redactor);
  }

  removeHint(): string {
    return `kind delete cluster --name ${this.clusterName}`;
  }
}

class ExistingProvider implements Provider {
  readonly name = 'existing';
  readonly tools = ['kubectl'];
  readonly target: ClusterTarget;

  constructor(config: Config) {
    this.target = clusterTarget(config);
  }

  describe(): string {
    return `context ${this.target.context}${this.target.kubeconfig ? ` in ${this.target.kubeconfig}` : ''}`;
  }

  async exists(): Promise<boolean> {
    return true;
  }

  async ensure(): Promise<string> {
    return 'existing';
  }

  async fresh(): Promise<string> {
    return `existing ${this.describe()}`;
  }

  /** An existing cluster is never ours to delete: teardown removes the stack's objects instead. */
  async remove(): Promise<RemoveOutcome> {
    return 'not ours';
  }

  async load(): Promise<void> {
    throw new UsageError(
      '--load puts images into a kind cluster, but cluster.provider is "existing"; push them to a registry instead',
    );
  }

  removeHint(namespace: string): string {
    return `kubectl --context ${this.target.context} delete namespace ${namespace}`;
  }
}

export function providerFor(config: Config, runner: Runner, redactor?: Redactor): Provider {
  return config.cluster.provider === 'kind' ? new KindProvider(config, runner, redactor) : new ExistingProvider(config);
}
