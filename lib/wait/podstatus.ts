/**
 * Reads workload and pod status the way Kubernetes means it: conditions by type and status
 * (never "Ready" matched as a substring of "NotReady"), waiting reasons by name.
 * Pure functions over `kubectl get -o json` objects, so recorded real outputs test them.
 */
import type { WorkloadKind } from '../render/manifests.ts';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { reason?: string; exitCode?: number; message?: string };
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  image: string;
  imageID?: string;
  state?: ContainerState;
  lastState?: ContainerState;
}

/** What one look at the namespace saw: its workloads and their pods. */
export interface Snapshot {
  workloads: Workload[];
  pods: Pod[];
}

export interface Pod {
  kind: 'Pod';
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: {
    containers?: {
      name: string;
      resources?: { limits?: { memory?: string } };
      ports?: { name?: string; containerPort: number }[];
      readinessProbe?: { httpGet?: { path?: string; port?: number | string; scheme?: string } };
    }[];
    volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
  };
  status?: {
    phase?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

export interface Workload {
  kind: WorkloadKind;
  metadata: { name: string; generation?: number };
  spec: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    conditions?: Condition[];
  };
}

export function condition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Whether a Deployment or StatefulSet has rolled out completely with every replica ready. */
export function workloadReady(workload: Workload): boolean {
  const want = workload.spec.replicas ?? 1;
  const s = workload.status ?? {};
  if ((s.observedGeneration ?? 0) < (workload.metadata.generation ?? 0)) return false;
  const ready = (s.readyReplicas ?? 0) === want && (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want;
  if (workload.kind === 'Deployment') return ready && (s.availableReplicas ?? 0) === want;
  return ready && (!s.updateRevision || s.currentRevision === s.updateRevision);
}

export function workloadProgress(workload: Workload): string {
  const s = workload.status ?? {};
  return `${s.readyReplicas ?? 0}/${workload.spec.replicas ?? 1} ready`;
}

/** What can stop a wait early. `grace` picks the window in which the cause may still clear. */
export type Cause = 'image-pull' | 'crash-loop' | 'config-error' | 'unschedulable' | 'readiness' | 'rollout-failed';

export interface Finding {
  cause: Cause;
  pod?: string;
  container?: string;
  reason: string;
  message: string;
  /** For crash loops: read the previous container's logs, where the crash is. */
  previousLogs?: boolean;
}

const PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff']);
const CONFIG_REASONS = new Set([
  'CreateContainerConfigError',
  'CreateContainerError',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RunContainerError',
]);

/**
 * Crashed and restarted at least twice. One restart is normal for apps that start before NATS
 * is ready; kubelet shows CrashLoopBackOff or the last termination between restarts.
 */
export const CRASH_LOOP_RESTARTS = 2;

function crashLooping(status: ContainerStatus): boolean {
  if (status.restartCount < CRASH_LOOP_RESTARTS) return false;
  const terminated = status.state?.terminated;
  return (
    status.state?.waiting?.reason === 'CrashLoopBackOff' || (terminated !== undefined && terminated.exitCode !== 0)
  );
}

/** Everything wrong with one pod right now (empty when it is fine or merely starting). */
export function podFindings(pod: Pod): Finding[] {
  if (pod.metadata.deletionTimestamp) return []; // an old pod on its way out
  const findings: Finding[] = [];
  const name = pod.metadata.name;
  const scheduled = condition(pod.status?.conditions, 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    findings.push({
      cause: 'unschedulable',
      pod: name,
      reason: 'Unschedulable',
      message: scheduled.message ?? 'no node can run this pod',
    });
  }
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const status of statuses) {
    const waiting = status.state?.waiting;
    const exited = status.state?.terminated;
    // A container that exited (not waiting) says why through its termination: never a blank.
    const reason = waiting?.reason ?? exited?.reason ?? (exited ? `exited ${exited.exitCode ?? '?'}` : '');
    const base = { pod: name, container: status.name, reason, message: waiting?.message ?? exited?.message ?? reason };
    if (PULL_REASONS.has(reason)) findings.push({ cause: 'image-pull', ...base });
    else if (CONFIG_REASONS.has(reason)) findings.push({ cause: 'config-error', ...base });
    else if (crashLooping(status)) {
      const last = status.state?.terminated ?? status.lastState?.terminated;
      const detail = last
        ? `last exit code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}, restarted ${status.restartCount} times`
        : `restarted ${status.restartCount} times`;
      // Waiting to restart: the crash is in the previous run's log. Just exited: in this one's.
      findings.push({ cause: 'crash-loop', ...base, message: detail, previousLogs: !status.state?.terminated });
    } else if (status.state?.running && !status.ready && (pod.status?.containerStatuses ?? []).includes(status)) {
      findings.push({
        cause: 'readiness',
        ...base,
        reason: 'NotReady',
        message: 'running but not ready (its readiness probe is failing)',
      });
    }
  }
  return findings;
}

export interface OomKill {
  pod: string;
  container: string;
  restarts: number;
  /** The container's memory limit, when the pod spec is at hand. */
  limit?: string;
}

/** Containers the kernel killed for memory (OOMKilled), now or before their last restart. */
export function oomKills(pods: Pod[]): OomKill[] {
  return pods.flatMap((pod) =>
    (pod.status?.containerStatuses ?? [])
      .filter((s) => s.lastState?.terminated?.reason === 'OOMKilled' || s.state?.terminated?.reason === 'OOMKilled')
      .map((s) => {
        const limit = pod.spec?.containers?.find((c) => c.name === s.name)?.resources?.limits?.memory;
        return { pod: pod.metadata.name, container: s.name, restarts: s.restartCount, ...(limit ? { limit } : {}) };
      }),
  );
}

export function describeOom(kill: OomKill): string {
  const limit = kill.limit ? ` (memory limit ${kill.limit})` : '';
  return `pod ${kill.pod} container ${kill.container} was OOMKilled${limit} and restarted ${kill.restarts} time${kill.restarts === 1 ? '' : 's'}`;
}

/** Workload-level failures: a rollout past its deadline, or pods the API refused to create. */
export function workloadFindings(workload: Workload): Finding[] {
  const conditions = workload.status?.conditions;
  const findings: Finding[] = [];
  const progressing = condition(conditions, 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    findings.push({
      cause: 'rollout-failed',
      reason: 'ProgressDeadlineExceeded',
      message: progressing.message ?? 'rollout exceeded its progress deadline',
    });
  }
  const replicaFailure = condition(conditions, 'ReplicaFailure');
  if (replicaFailure?.status === 'True') {
    findings.push({
      cause: 'rollout-failed',
      reason: replicaFailure.reason ?? 'ReplicaFailure',
      message: replicaFailure.message ?? 'pods could not be created',
    });
  }
  return findings;
}

/**
 * Identifies a finding across polls by cause, not by kubelet reason: a failing pull flips
 * between ErrImagePull and ImagePullBackOff on every retry, and keying on the reason would
 * restart its grace window each time (a 30 s grace then took ~100 s to expire).
 */
export function findingKey(finding: Finding): string {
  return [finding.cause, finding.pod ?? '', finding.container ?? ''].join('/');
}
