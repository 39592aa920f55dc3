/**
 * kubectl, always with an explicit --context (and --kubeconfig when configured), so a deploy
 * never lands on whatever context happens to be current. Parses stdout only: kubectl writes
 * warnings to stderr.
 */
import { CommandError, run, type RunOptions, type RunResult, type Runner } from '../core/exec.ts';
import type { StreamHandle } from '../core/stream.ts';
import type { K8sObject } from '../render/manifests.ts';
import { describeObject, toYaml } from '../render/manifests.ts';
import { FIELD_MANAGER } from '../render/names.ts';
import type { Redactor } from '../core/redact.ts';

export interface ClusterTarget {
  context: string;
  kubeconfig?: string;
}

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface ApplyResult {
  outcomes: { object: string; outcome: ApplyOutcome }[];
  summary: string;
}

// One record per object: kind, namespace, name, resourceVersion, generation, labels,
// annotations. Used for both get and apply, so Secret data never has to be read back.
// Fields and records are split by ASCII unit/record separators: annotations may hold newlines.
const RECORD = '{{.kind}}{{"\\x1f"}}{{.metadata.namespace}}{{"\\x1f"}}{{.metadata.name}}{{"\\x1f"}}{{.metadata.resourceVersion}}{{"\\x1f"}}{{.metadata.generation}}{{"\\x1f"}}{{.metadata.labels}}{{"\\x1f"}}{{.metadata.annotations}}{{"\\x1e"}}';
export const IDENTITY_TEMPLATE = `{{if .items}}{{range .items}}${RECORD}{{end}}{{else}}${RECORD}{{end}}`;

function identityKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace || ''}/${name}`;
}

/**
 * Parses IDENTITY_TEMPLATE output into key -> fingerprint. Objects with a generation (the
 * workloads) are compared by generation, labels and annotations, because their status keeps
 * bumping resourceVersion while they roll out; everything else by resourceVersion, which a
 * no-op server-side apply leaves alone.
 */
export function parseIdentities(stdout: string): Map<string, string> {
  const fingerprints = new Map<string, string>();
  for (const record of stdout.split('\x1e')) {
    const [kind, namespace, name, version, generation, labels, annotations] = record.split('\x1f');
    if (!kind || !name || version === undefined) continue;
    const hasGeneration = generation !== undefined && generation !== '<no value>' && generation !== '';
    const fingerprint = hasGeneration ? `generation ${generation} ${labels} ${annotations}` : `resourceVersion ${version}`;
    fingerprints.set(identityKey(kind.trim(), namespace === '<no value>' ? '' : namespace, name), fingerprint);
  }
  return fingerprints;
}

export function summarizeOutcomes(outcomes: ApplyResult['outcomes']): string {
  const counts = new Map<ApplyOutcome, number>();
  for (const { outcome } of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  return (['created', 'configured', 'unchanged'] as const)
    .filter((outcome) => counts.has(outcome))
    .map((outcome) => `${counts.get(outcome)} ${outcome}`)
    .join(', ');
}

export class Kubectl {
  constructor(
    private readonly runner: Runner,
    readonly target: ClusterTarget,
    private readonly redactor?: Redactor,
  ) {}

  argv(args: string[]): string[] {
    return ['kubectl', ...(this.target.kubeconfig ? ['--kubeconfig', this.target.kubeconfig] : []), '--context', this.target.context, ...args];
  }

  exec(args: string[], options?: RunOptions): Promise<RunResult> {
    return this.runner.exec(this.argv(args), options);
  }

  run(args: string[], options?: RunOptions): Promise<RunResult> {
    return run(this.runner, this.argv(args), options, this.redactor);
  }

  /** A long-running kubectl (`get --watch`), or undefined when the runner cannot stream. */
  stream(args: string[], onStdout: (chunk: string) => void): StreamHandle | undefined {
    return this.runner.stream?.(this.argv(args), onStdout);
  }

  async json<T>(args: string[], options?: RunOptions): Promise<T> {
    const { stdout } = await this.run([...args, '-o', 'json'], options);
    return JSON.parse(stdout) as T;
  }

  /** Fails with the context name and kubectl's own reason when the API server cannot be reached. */
  async checkReachable(timeoutSeconds = 10): Promise<string> {
    const result = await this.exec(['get', '--raw', '/version', `--request-timeout=${timeoutSeconds}s`], { timeoutMs: (timeoutSeconds + 5) * 1000 });
    if (result.exitCode !== 0) {
      const reason = (result.stderr.trim().split('\n').pop() ?? '').trim();
      throw new Error(
        `cannot reach the cluster of context "${this.target.context}"${this.target.kubeconfig ? ` in ${this.target.kubeconfig}` : ''}: ${reason || `kubectl exited with ${result.exitCode}`}\n` +
          'check that the cluster is running and the context is right (`kubectl config get-contexts`)',
      );
    }
    const version = JSON.parse(result.stdout) as { gitVersion?: string };
    return version.gitVersion ?? 'unknown version';
  }

  /**
   * Server-side apply on stdin. Reports each object as created, configured or unchanged by
   * comparing resourceVersions before and after: a no-op apply does not bump them.
   */
  async apply(objects: K8sObject[]): Promise<ApplyResult> {
    if (objects.length === 0) return { outcomes: [], summary: 'nothing to apply' };
    const yaml = toYaml(objects);
    const before = await this.run(['get', '-f', '-', '--ignore-not-found', '-o', `go-template=${IDENTITY_TEMPLATE}`], { input: yaml });
    const after = await this.run(
      ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--force-conflicts', '-f', '-', '-o', `go-template=${IDENTITY_TEMPLATE}`],
      { input: yaml },
    );
    const previous = parseIdentities(before.stdout);
    const current = parseIdentities(after.stdout);
    const outcomes = objects.map((object) => {
      const key = identityKey(object.kind, object.metadata.namespace, object.metadata.name);
      const was = previous.get(key);
      const outcome: ApplyOutcome = was === undefined ? 'created' : was === current.get(key) ? 'unchanged' : 'configured';
      return { object: describeObject(object), outcome };
    });
    return { outcomes, summary: summarizeOutcomes(outcomes) };
  }
}

export { CommandError };
