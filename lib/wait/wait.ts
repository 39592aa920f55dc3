/**
 * Waits for every Deployment and StatefulSet of the stack to be ready, following them through
 * `kubectl get --watch` streams (lib/wait/watch.ts), or polling at a short interval when the runner
 * cannot stream or a stream ends. It waits on the workloads themselves (never on pods that
 * may not exist yet) and stops early, with the pod's events and logs, once a failure has
 * outlasted its grace window:
 * image pulls get `pullGrace` (rate limits recover), crash loops and config errors almost none.
 */
import { diagnoseFinding } from './diagnose.ts';
import type { Kubectl } from '../tools/kubectl.ts';
import { isWorkload, type WorkloadRef } from '../render/manifests.ts';
import { PART_OF_SELECTOR } from '../render/names.ts';
import { WorkloadWatch } from './watch.ts';
import {
  describeOom,
  findingKey,
  oomKills,
  podFindings,
  workloadFindings,
  workloadProgress,
  workloadReady,
  type Cause,
  type Finding,
  type Pod,
  type Snapshot,
  type Workload,
} from './podstatus.ts';

export interface WaitOptions {
  timeoutMs: number;
  pullGraceMs: number;
  readinessGraceMs: number;
  intervalMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (text: string) => void;
  /** false: poll only (each poll is one `kubectl get`). */
  watch?: boolean;
  /** Stops the wait (and its watch streams) when aborted: Ctrl-C, the nightly's deadline. */
  signal?: AbortSignal;
}

/** With a watch, grace windows are still checked this often when nothing changes. */
const WATCH_RECHECK_MS = 1_000;

export class WaitError extends Error {
  constructor(
    message: string,
    readonly findings: Finding[],
  ) {
    super(message);
    this.name = 'WaitError';
  }
}

export function graceFor(cause: Cause, options: Pick<WaitOptions, 'pullGraceMs' | 'readinessGraceMs'>): number {
  switch (cause) {
    case 'image-pull':
      return options.pullGraceMs;
    case 'readiness':
      return options.readinessGraceMs;
    case 'unschedulable':
      return options.pullGraceMs;
    case 'config-error':
      return 5_000; // a Secret applied a moment later clears it
    case 'crash-loop':
    case 'rollout-failed':
      return 0;
  }
}

/** Remembers when each finding was first seen, to apply its grace window across polls. */
export class GraceTracker {
  private readonly firstSeen = new Map<string, number>();

  expired(findings: Finding[], now: number, graceOf: (cause: Cause) => number): Finding[] {
    const current = new Set(findings.map(findingKey));
    for (const key of this.firstSeen.keys()) if (!current.has(key)) this.firstSeen.delete(key);
    return findings.filter((finding) => {
      const key = findingKey(finding);
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, now);
      return now - this.firstSeen.get(key)! >= graceOf(finding.cause);
    });
  }
}

/** Pods belong to a workload by our own name label, which every template sets. */
export function podsOf(snapshot: Snapshot, name: string): Pod[] {
  return snapshot.pods.filter((pod) => pod.metadata.labels?.['app.kubernetes.io/name'] === name);
}

export interface Assessment {
  pending: string[];
  findings: { workload: string; finding: Finding }[];
}

export function assess(snapshot: Snapshot, expected: WorkloadRef[]): Assessment {
  const pending: string[] = [];
  const findings: Assessment['findings'] = [];
  for (const ref of expected) {
    const workload = snapshot.workloads.find((w) => w.kind === ref.kind && w.metadata.name === ref.name);
    if (!workload) {
      pending.push(`${ref.kind.toLowerCase()}/${ref.name} (not found yet)`);
      continue;
    }
    if (workloadReady(workload)) continue;
    pending.push(`${ref.kind.toLowerCase()}/${ref.name} ${workloadProgress(workload)}`);
    for (const finding of workloadFindings(workload)) findings.push({ workload: ref.name, finding });
    for (const pod of podsOf(snapshot, ref.name))
      for (const finding of podFindings(pod)) findings.push({ workload: ref.name, finding });
  }
  return { pending, findings };
}

async function snapshot(kubectl: Kubectl, namespace: string): Promise<Snapshot> {
  const list = await kubectl.json<{ items: (Workload | Pod)[] }>(
    ['get', 'deployments,statefulsets,pods', '-n', namespace, '-l', PART_OF_SELECTOR],
    { timeoutMs: 30_000 },
  );
  return {
    workloads: list.items.filter((item): item is Workload => isWorkload(item)),
    pods: list.items.filter((item): item is Pod => item.kind === 'Pod'),
  };
}

async function explain(
  kubectl: Kubectl,
  namespace: string,
  headline: string,
  findings: Assessment['findings'],
): Promise<WaitError> {
  const parts = [headline];
  for (const { workload, finding } of findings) {
    parts.push(`${workload}: ${finding.cause}`, await diagnoseFinding(kubectl, namespace, finding));
  }
  return new WaitError(
    parts.join('\n'),
    findings.map((f) => f.finding),
  );
}

export async function waitForWorkloads(
  kubectl: Kubectl,
  namespace: string,
  expected: WorkloadRef[],
  options: WaitOptions,
): Promise<string> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const interval = options.intervalMs ?? 500;
  const started = now();
  const grace = new GraceTracker();
  const graceOf = (cause: Cause) => graceFor(cause, options);
  let last: Assessment = { pending: expected.map((ref) => ref.name), findings: [] };
  let watch: WorkloadWatch | undefined;
  let polled: Snapshot = { workloads: [], pods: [] };
  const onAbort = () => watch?.notify();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let triedWatch = false;
  let toldFallback = false;
  try {
    // Bounded by the deadline (always one look, even with a zero timeout); a poll is one
    // kubectl call, a watched round none.
    for (let first = true; first || now() - started < options.timeoutMs; first = false) {
      if (options.signal?.aborted)
        throw options.signal.reason instanceof Error
          ? options.signal.reason
          : new Error(`interrupted (${String(options.signal.reason)})`);
      const watching = watch !== undefined && watch.ended === undefined;
      if (watch?.ended && !toldFallback) {
        toldFallback = true;
        options.onProgress?.(`${watch.ended}; polling instead`);
      }
      if (!watching) polled = await snapshot(kubectl, namespace);
      const seen = watching ? watch!.snapshot(polled) : polled;
      last = assess(seen, expected);
      if (last.pending.length === 0) {
        // Ready, but a container the kernel killed for memory will be killed again: say so.
        const kills = oomKills(seen.pods);
        return `${expected.length} workloads ready${kills.length ? `; warning: ${kills.map(describeOom).join('; ')}` : ''}`;
      }
      const fatal = grace.expired(
        last.findings.map((f) => f.finding),
        now(),
        graceOf,
      );
      if (fatal.length) {
        const failing = last.findings.filter((f) => fatal.includes(f.finding));
        throw await explain(
          kubectl,
          namespace,
          `stopped waiting early: ${failing.map((f) => `${f.workload} (${f.finding.reason})`).join(', ')}`,
          failing,
        );
      }
      options.onProgress?.(`waiting for ${last.pending.join(', ')}`);
      // Not ready at the first look (an unchanged re-run is, and starts no stream): follow the
      // changes from here on. Should a stream be orphaned, kubectl ends it 30 s after the timeout.
      if (!triedWatch && options.watch !== false) {
        triedWatch = true;
        watch = WorkloadWatch.start(kubectl, namespace, PART_OF_SELECTOR, options.timeoutMs + 30_000);
      }
      const remaining = Math.max(0, options.timeoutMs - (now() - started));
      if (watch !== undefined && watch.ended === undefined) await watch.changed(Math.min(WATCH_RECHECK_MS, remaining));
      else await sleep(Math.min(interval, remaining));
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    watch?.stop();
  }
  throw await explain(
    kubectl,
    namespace,
    `timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${last.pending.join(', ')}`,
    last.findings,
  );
}
