/**
 * kubectl, always with an explicit --context (and --kubeconfig when configured), so a deploy
 * never lands on whatever context happens to be current. Parses stdout only: kubectl writes
 * warnings to stderr. Outputs that can hold Secret data are read as sensitive (never shown
 * under --verbose or in errors) and the data is dropped as soon as they are parsed.
 */
import { createHash } from 'node:crypto';
import { CommandError, type RunOptions, type RunResult, type Runner } from '../core/exec.ts';
import type { Redactor } from '../core/redact.ts';
import type { StreamHandle } from '../core/stream.ts';
import { toYaml, type K8sObject } from '../render/manifests.ts';
import { FIELD_MANAGER } from '../render/names.ts';

export interface ClusterTarget {
  context: string;
  kubeconfig?: string;
}

/** A live object as kubectl returns it (a Secret's values replaced by their digests). */
export interface LiveObject extends K8sObject {
  metadata: K8sObject['metadata'] & {
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    managedFields?: { manager?: string; operation?: string; time?: string }[];
  };
}

/** `kind/namespace/name`: how objects are matched between the plan and the cluster. */
export function objectKey(object: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

/** The stand-in for a Secret value: enough to tell whether it changed, nothing of what it is. */
export function valueDigest(base64: string): string {
  return `sha256:${createHash('sha256').update(base64).digest('hex')}`;
}

/** Parses `kubectl ... -o json` (one object or a List); Secret values become digests at once. */
export function parseObjects(stdout: string, what: string): LiveObject[] {
  if (stdout.trim() === '') return [];
  let parsed: { kind?: string; items?: LiveObject[] } & Partial<LiveObject>;
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    throw new Error(`${what} printed something that is not JSON (is a proxy answering instead of the API server?)`);
  }
  const objects = parsed.kind === 'List' || Array.isArray(parsed.items) ? (parsed.items ?? []) : [parsed as LiveObject];
  for (const object of objects) {
    if (object.kind === 'Secret') {
      const data = (object.data ?? {}) as Record<string, string>;
      object.data = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, valueDigest(value)]));
      delete object.stringData;
    }
  }
  return objects;
}

/** The last line kubectl printed on stderr: its own summary of what went wrong. */
export function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '';
}

// kubectl's words when the API server cannot be reached or will not talk to us at all.
const UNREACHABLE = new RegExp(
  [
    'connection refused',
    'was refused',
    'Unable to connect to the server',
    'no such host',
    'no route to host',
    'network is unreachable',
    'i/o timeout',
    'context deadline exceeded',
    'context was not found',
    'context "[^"]*" does not exist',
    'x509',
    'certificate',
    'Unauthorized',
    'provide credentials',
  ].join('|'),
  'i',
);

export class Kubectl {
  constructor(
    private readonly runner: Runner,
    readonly target: ClusterTarget,
    private readonly redactor?: Redactor,
  ) {}

  /** What the cluster said, with every known secret masked: before any of it is cut or shown. */
  mask(text: string): string {
    return this.redactor ? this.redactor.mask(text) : text;
  }

  argv(args: string[]): string[] {
    return [
      'kubectl',
      ...(this.target.kubeconfig ? ['--kubeconfig', this.target.kubeconfig] : []),
      '--context',
      this.target.context,
      ...args,
    ];
  }

  exec(args: string[], options?: RunOptions): Promise<RunResult> {
    return this.runner.exec(this.argv(args), options);
  }

  async run(args: string[], options?: RunOptions): Promise<RunResult> {
    const result = await this.exec(args, options);
    if (result.exitCode !== 0) throw this.failure(result);
    return result;
  }

  /** A long-running kubectl (`get --watch`, `port-forward`), or undefined when the runner cannot stream. */
  stream(args: string[], onStdout: (chunk: string) => void): StreamHandle | undefined {
    return this.runner.stream?.(this.argv(args), onStdout);
  }

  async json<T>(args: string[], options?: RunOptions): Promise<T> {
    const { stdout } = await this.run([...args, '-o', 'json'], options);
    try {
      return JSON.parse(stdout) as T;
    } catch {
      throw new Error(`\`kubectl ${args.join(' ')}\` printed something that is not JSON`);
    }
  }

  /**
   * The error for a failed kubectl: a cluster that cannot be reached says so with the context
   * and kubectl's own reason (whatever call met it first); anything else is a CommandError.
   */
  failure(result: RunResult): Error {
    // kubectl says "unable to recognize \"STDIN\": <why>" once per object: keep the why.
    const reason = lastLine(result.stderr).replace(/^unable to recognize "[^"]*": /, '');
    if (
      UNREACHABLE.test(result.stderr) &&
      !/Error from server \((NotFound|Conflict|Invalid|Forbidden)\)/.test(result.stderr)
    ) {
      return new Error(
        `cannot reach the cluster of context "${this.target.context}"${this.target.kubeconfig ? ` in ${this.target.kubeconfig}` : ''}: ${reason || `kubectl exited with ${result.exitCode}`}\n` +
          'check that the cluster is running and the context is right (`kubectl config get-contexts`)',
      );
    }
    return new CommandError(result, this.redactor);
  }

  /** Fails with the context name and kubectl's own reason when the API server cannot be reached. */
  async checkReachable(timeoutSeconds = 10): Promise<string> {
    const result = await this.exec(['get', '--raw', '/version', `--request-timeout=${timeoutSeconds}s`], {
      timeoutMs: (timeoutSeconds + 5) * 1000,
    });
    if (result.exitCode !== 0) {
      const error = this.failure(result);
      throw error instanceof CommandError
        ? new Error(
            `cannot reach the cluster of context "${this.target.context}": ${lastLine(result.stderr) || `kubectl exited with ${result.exitCode}`}`,
          )
        : error;
    }
    try {
      return (JSON.parse(result.stdout) as { gitVersion?: string }).gitVersion ?? 'unknown version';
    } catch {
      return 'unknown version';
    }
  }

  /** The given objects as they are in the cluster; absent ones are simply missing. */
  async getObjects(objects: K8sObject[], options: { managedFields?: boolean } = {}): Promise<LiveObject[]> {
    if (objects.length === 0) return [];
    const args = [
      'get',
      '-f',
      '-',
      '--ignore-not-found',
      '-o',
      'json',
      ...(options.managedFields ? ['--show-managed-fields'] : []),
    ];
    const result = await this.run(args, { input: toYaml(objects), timeoutMs: 60_000, sensitiveStdout: true });
    return parseObjects(result.stdout, 'kubectl get');
  }

  /**
   * Server-side apply on stdin with our field manager; returns the objects as applied. Never
   * forces a conflict unless asked: a field another manager owns is reported, not taken.
   */
  async apply(objects: K8sObject[], options: { force?: boolean; dryRun?: boolean } = {}): Promise<LiveObject[]> {
    if (objects.length === 0) return [];
    const args = [
      'apply',
      '--server-side',
      `--field-manager=${FIELD_MANAGER}`,
      ...(options.force ? ['--force-conflicts'] : []),
      ...(options.dryRun ? ['--dry-run=server'] : []),
      '-f',
      '-',
      '-o',
      'json',
      '--show-managed-fields',
    ];
    const result = await this.exec(args, { input: toYaml(objects), timeoutMs: 5 * 60_000, sensitiveStdout: true });
    if (result.exitCode !== 0) throw this.failure(result);
    return parseObjects(result.stdout, 'kubectl apply');
  }

  /** Creates the objects; fails when one already exists (which is the point: create proves creation). */
  async create(objects: K8sObject[]): Promise<RunResult> {
    return this.exec(['create', '-f', '-', '-o', 'name'], { input: toYaml(objects), timeoutMs: 60_000 });
  }
}
