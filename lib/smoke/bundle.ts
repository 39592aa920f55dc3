/**
 * The failure bundle: what a person needs to see why a workload failed, in one directory.
 * Per failing workload: rollout status, describe, events in time order, pod conditions and
 * container states, current and previous logs (bounded). Plus the rendered manifests
 * (Secret values masked), the lock file and summary.md. Every byte goes through the redactor
 * on its way to disk. Never fetched: Secret objects, kubeconfigs or anything with credentials.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatEvents, type KubeEvent } from '../wait/diagnose.ts';
import type { Kubectl } from '../tools/kubectl.ts';
import { PART_OF_SELECTOR, podSelector } from '../render/names.ts';
import type { WorkloadRef } from '../render/manifests.ts';
import { workloadsOf, type Plan } from '../render/plan.ts';
import { workloadReady, type Pod, type Workload } from '../wait/podstatus.ts';
import type { Redactor } from '../core/redact.ts';
import type { NamedResult } from './report.ts';

/**
 * Why `dir` cannot take a run's reports, or undefined when it can: it must be a directory
 * that is new, empty, or an earlier run's (its files are replaced, nothing else is touched).
 */
export function artifactsDirProblem(dir: string, marker: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  if (!statSync(dir).isDirectory()) return `${dir} is not a directory; pass a new or empty directory`;
  const entries = readdirSync(dir);
  if (entries.length && !entries.includes(marker))
    return `${dir} already holds files that are not a run's reports (${entries.slice(0, 3).join(', ')}); pass a new or empty directory`;
  return undefined;
}

/** Writes one artifact file, masked, creating its directory. Returns the path relative to `dir`. */
export function writeArtifact(dir: string, relative: string, text: string, redactor: Redactor): string {
  const file = join(dir, relative);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, redactor.mask(text));
  return relative;
}

export const LOG_TAIL_LINES = 500;
export const LOG_MAX_BYTES = 256 * 1024;
const EVENT_LIMIT = 200;

/**
 * The workloads worth a section: those a failed result names (its group), plus every workload
 * not ready right now, since a failed wait names pods rather than workloads.
 */
export async function workloadsToDiagnose(
  kubectl: Kubectl,
  namespace: string,
  plan: Plan | undefined,
  results: NamedResult[],
): Promise<WorkloadRef[]> {
  const named = new Set(results.filter((r) => r.status === 'failed' && r.group).map((r) => r.group!));
  const notReady = new Set<string>();
  try {
    const list = await kubectl.json<{ items: Workload[] }>(
      ['get', 'deployments,statefulsets', '-n', namespace, '-l', PART_OF_SELECTOR],
      { timeoutMs: 30_000 },
    );
    for (const workload of list.items) if (!workloadReady(workload)) notReady.add(workload.metadata.name);
  } catch {
    // An unreachable cluster: the failed results still name what to look at.
  }
  return (plan ? workloadsOf(plan.manifests) : []).filter((w) => named.has(w.name) || notReady.has(w.name));
}

/** Keeps the end of a text (where a crash is) within a byte budget. */
export function boundTail(text: string, maxBytes = LOG_MAX_BYTES): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return text;
  return `[... ${bytes.length - maxBytes} earlier bytes cut ...]\n${bytes.subarray(bytes.length - maxBytes).toString('utf8')}`;
}

/** Events about a workload, its ReplicaSets/revisions and pods: their names start with its own. */
export function eventsOf(events: KubeEvent[], workload: string): KubeEvent[] {
  return events.filter(
    (e) => e.involvedObject?.name === workload || e.involvedObject?.name?.startsWith(`${workload}-`),
  );
}

/** Pod conditions and container states as a small readable table. */
export function podConditions(pod: Pod): string {
  const lines = [
    `pod ${pod.metadata.name}: phase ${pod.status?.phase ?? 'unknown'}${pod.metadata.deletionTimestamp ? ' (terminating)' : ''}`,
  ];
  for (const c of pod.status?.conditions ?? [])
    lines.push(
      `  condition ${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`,
    );
  for (const c of pod.status?.containerStatuses ?? []) {
    const state = c.state?.running
      ? 'running'
      : c.state?.waiting
        ? `waiting (${c.state.waiting.reason ?? ''})`
        : c.state?.terminated
          ? `terminated (exit ${c.state.terminated.exitCode}, ${c.state.terminated.reason ?? ''})`
          : 'unknown';
    lines.push(
      `  container ${c.name}: ${state}, ready ${c.ready}, restarts ${c.restartCount}, image ${c.image}, imageID ${c.imageID || '-'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** kubectl's output whatever its exit code: a failing describe is still worth reading. */
async function capture(kubectl: Kubectl, args: string[]): Promise<string> {
  const r = await kubectl.exec(args, { timeoutMs: 30_000 });
  const out = [r.stdout.trimEnd(), r.stderr.trimEnd()].filter(Boolean).join('\n');
  return `$ kubectl ${args.join(' ')}${r.exitCode !== 0 ? `  # exit ${r.exitCode}` : ''}\n${out}\n`;
}

async function workloadFiles(
  kubectl: Kubectl,
  namespace: string,
  workload: WorkloadRef,
  pods: Pod[],
  events: KubeEvent[],
): Promise<Record<string, string>> {
  const ref = `${workload.kind.toLowerCase()}/${workload.name}`;
  const files: Record<string, string> = {
    'rollout-status.txt': await capture(kubectl, ['rollout', 'status', ref, '-n', namespace, '--watch=false']),
    'describe.txt': [
      await capture(kubectl, ['describe', ref, '-n', namespace]),
      await capture(kubectl, ['describe', 'pods', '-n', namespace, '-l', podSelector(workload.name)]),
    ].join('\n'),
    'events.txt': `${formatEvents(eventsOf(events, workload.name), EVENT_LIMIT).join('\n') || '(no events)'}\n`,
    'pods.txt': pods.map(podConditions).join('\n') || '(no pods)\n',
  };
  for (const pod of pods) {
    for (const c of pod.status?.containerStatuses ?? []) {
      const base = [
        'logs',
        '-n',
        namespace,
        pod.metadata.name,
        '-c',
        c.name,
        `--tail=${LOG_TAIL_LINES}`,
        `--limit-bytes=${LOG_MAX_BYTES}`,
      ];
      files[`logs/${pod.metadata.name}.${c.name}.log`] = boundTail(await capture(kubectl, base));
      // The previous run is where a crash or a liveness kill left its last words.
      if (c.restartCount > 0)
        files[`logs/${pod.metadata.name}.${c.name}.previous.log`] = boundTail(
          await capture(kubectl, [...base, '--previous']),
        );
    }
  }
  return files;
}

export interface BundleInputs {
  dir: string;
  kubectl: Kubectl;
  namespace: string;
  redactor: Redactor;
  workloads: WorkloadRef[];
  /** The rendered manifests with Secret values masked (redactedPlanYaml). */
  manifestsYaml?: string;
  lockText?: string;
  /** summary.md, e.g. the report's markdown; the bundle appends its file list. */
  summary: string;
  /** Files the run already wrote into `dir` (the reports), listed with the bundle's own. */
  alsoWritten?: string[];
}

/** Writes the bundle; returns the files written, relative to `dir`. Best effort per workload. */
export async function writeBundle(inputs: BundleInputs): Promise<string[]> {
  const { dir, kubectl, namespace, redactor } = inputs;
  const written: string[] = [];
  const write = (relative: string, text: string) => written.push(writeArtifact(dir, relative, text, redactor));
  if (inputs.manifestsYaml !== undefined) write('manifests.yaml', inputs.manifestsYaml);
  if (inputs.lockText !== undefined) write('images.lock.json', inputs.lockText);
  const notes: string[] = [];
  if (inputs.workloads.length) {
    const [podList, eventList] = await Promise.all([
      kubectl
        .json<{ items: Pod[] }>(['get', 'pods', '-n', namespace, '-l', PART_OF_SELECTOR], { timeoutMs: 30_000 })
        .catch(() => ({ items: [] as Pod[] })),
      kubectl
        .json<{ items: KubeEvent[] }>(['get', 'events', '-n', namespace], { timeoutMs: 30_000 })
        .catch(() => ({ items: [] as KubeEvent[] })),
    ]);
    for (const workload of inputs.workloads) {
      const pods = podList.items.filter((pod) => pod.metadata.labels?.['app.kubernetes.io/name'] === workload.name);
      try {
        const files = await workloadFiles(kubectl, namespace, workload, pods, eventList.items);
        for (const [name, text] of Object.entries(files)) write(`workloads/${workload.name}/${name}`, text);
      } catch (error) {
        notes.push(`- ${workload.name}: diagnostics incomplete (${(error as Error).message.split('\n')[0]})`);
      }
    }
  }
  // What this run wrote, and nothing else that may be in the directory.
  const listing = [...new Set([...(inputs.alsoWritten ?? []), ...written, 'summary.md'])]
    .sort()
    .map((file) => `- \`${file}\``);
  const failing = inputs.workloads.length
    ? inputs.workloads.map((w) => `- ${w.kind.toLowerCase()}/${w.name}: \`workloads/${w.name}/\``)
    : ['- none'];
  write(
    'summary.md',
    [
      inputs.summary.trimEnd(),
      '',
      '#### Failing workloads',
      '',
      ...failing,
      ...notes,
      '',
      '#### Files',
      '',
      ...listing,
      '',
    ].join('\n'),
  );
  return written;
}
