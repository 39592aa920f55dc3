/**
 * The smoke checks: planned from the config (the same ports and paths the probes use), run
 * concurrently from outside the pods (the images have no shell or curl), through a
 * port-forward to the Service or, when port-forward cannot work, the API server's service
 * proxy. Plus the closed loop on images: each running container's imageID against the lock.
 */
import type { Kubectl } from '../tools/kubectl.ts';
import { pinnedDigest, type Lock } from '../images/lock.ts';
import { PART_OF_SELECTOR } from '../render/names.ts';
import type { Pod } from '../wait/podstatus.ts';
import {
  DEFAULT_RETRY,
  httpGet,
  judgeResponse,
  retryUntil,
  type AttemptOutcome,
  type Mask,
  type RetryPolicy,
} from './health.ts';
import { ForwardError, PortForward } from '../tools/port-forward.ts';
import type { NamedResult } from './report.ts';
import type { Config, Health } from '../config/schema.ts';

export type Method = 'port-forward' | 'api-proxy';
export type MethodChoice = Method | 'auto';

export interface PlannedCheck {
  /** "runtime /health": the workload and the path, as reports show it. */
  name: string;
  workload: string;
  /** The Service in front of the workload, and its port that leads to the probed container port. */
  service: string;
  port: number;
  path: string;
  probes: ('liveness' | 'readiness')[];
  body?: string;
  /** Set when the check cannot run (e.g. 0 replicas): reported as skipped. */
  skip?: string;
}

interface Target {
  workload: string;
  port: number;
  health: Health;
  replicas?: number;
}

/** An optional body match, read only if the schema declares one (`health.body`). */
function bodyOf(health: Health): string | undefined {
  const body = (health as { body?: unknown }).body;
  return typeof body === 'string' && body !== '' ? body : undefined;
}

/** One check per workload per distinct health path; liveness and readiness share one if equal. */
export function planChecks(config: Config): PlannedCheck[] {
  const targets: Target[] = [
    { workload: 'nats', port: config.nats.monitorPort, health: config.nats.health },
    ...config.components.map((c) => ({ workload: c.name, port: c.port, health: c.health, replicas: c.replicas })),
  ];
  if (config.monitoring.enabled) {
    const { prometheus, grafana } = config.monitoring;
    targets.push(
      { workload: 'prometheus', port: prometheus.port, health: prometheus.health },
      { workload: 'grafana', port: grafana.servicePort, health: grafana.health },
    );
  }
  return targets.flatMap(({ workload, port, health, replicas }) => {
    const paths = new Map<string, PlannedCheck['probes']>();
    for (const probe of ['liveness', 'readiness'] as const)
      paths.set(health[probe], [...(paths.get(health[probe]) ?? []), probe]);
    return [...paths].map(([path, probes]) => ({
      name: `${workload} ${path}`,
      workload,
      service: workload,
      port,
      path,
      probes,
      ...(bodyOf(health) ? { body: bodyOf(health) } : {}),
      ...(replicas === 0 ? { skip: 'replicas: 0, nothing to check' } : {}),
    }));
  });
}

export function proxyPath(namespace: string, service: string, port: number, path: string): string {
  return `/api/v1/namespaces/${namespace}/services/${service}:${port}/proxy${path.startsWith('/') ? path : `/${path}`}`;
}

/** The API server's status reasons, as `kubectl get --raw` prints them, back to HTTP codes. */
const REASON_STATUS: Record<string, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  Conflict: 409,
  Gone: 410,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

/** Judges `kubectl get --raw .../proxy/PATH`: stdout is the body; an error names its reason on stderr. */
export function judgeProxyResult(
  exitCode: number,
  stdout: string,
  stderr: string,
  bodyMatch?: string,
  mask: Mask = (text) => text,
): AttemptOutcome {
  if (exitCode === 0) return judgeResponse(200, stdout, bodyMatch, mask);
  const lines = mask(stderr).trim().split('\n').filter(Boolean);
  const last = lines[lines.length - 1] ?? `kubectl exited with ${exitCode}`;
  const reason = /Error from server \((\w+)\)/.exec(stderr)?.[1];
  const status = reason ? REASON_STATUS[reason] : undefined;
  // The API server quotes the service's own body: show that, as the port-forward path does.
  const body = /an error on the server \("(.*)"\) has prevented the request/.exec(last)?.[1];
  return { ok: false, ...(status ? { status } : {}), detail: `${status ? `HTTP ${status}: ` : ''}${body ?? last}` };
}

export interface CheckEvent {
  check: string;
  attempt: number;
  method: Method;
  outcome?: AttemptOutcome;
  /** The kubectl port-forward process this attempt goes through. */
  forwardPid?: number;
}

export interface HealthRunOptions {
  kubectl: Kubectl;
  namespace: string;
  method?: MethodChoice;
  policy?: RetryPolicy;
  /** The run's redactor: what an app answers is masked before it is cut or kept. */
  mask?: Mask;
  signal?: AbortSignal;
  /** Before each attempt (with forwardPid) and after it (with outcome): --verbose progress. */
  onAttempt?: (event: CheckEvent) => void | Promise<void>;
}

async function runCheck(check: PlannedCheck, forward: PortForward, options: HealthRunOptions): Promise<NamedResult> {
  const base = { name: check.name, group: check.workload };
  if (check.skip) return { ...base, status: 'skipped', durationMs: 0, error: check.skip };
  let method: Method = options.method === 'api-proxy' ? 'api-proxy' : 'port-forward';
  let fallback = '';
  const viaProxy = async (timeoutMs: number): Promise<AttemptOutcome> => {
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const r = await options.kubectl.exec(
      [
        'get',
        '--raw',
        proxyPath(options.namespace, check.service, check.port, check.path),
        `--request-timeout=${seconds}s`,
      ],
      { timeoutMs: timeoutMs + 2_000 },
    );
    return r.timedOut
      ? { ok: false, detail: `no answer within ${timeoutMs} ms` }
      : judgeProxyResult(r.exitCode, r.stdout, r.stderr, check.body, options.mask);
  };
  const attempt = async (n: number, timeoutMs: number): Promise<AttemptOutcome> => {
    let outcome: AttemptOutcome;
    if (method === 'port-forward') {
      try {
        const { port, generation } = await forward.ensure();
        await options.onAttempt?.({ check: check.name, attempt: n, method, forwardPid: forward.pid });
        outcome = await httpGet(`http://127.0.0.1:${port}${check.path}`, timeoutMs, check.body, options.mask);
        // No HTTP answer at all: the forward itself may be broken; the next attempt starts a new one.
        if (outcome.network) forward.invalidate(generation);
      } catch (error) {
        if (!(error instanceof ForwardError)) throw error;
        if (options.method === 'port-forward' || options.signal?.aborted)
          return { ok: false, detail: error.message, retryable: false };
        method = 'api-proxy';
        fallback = error.message;
        await options.onAttempt?.({ check: check.name, attempt: n, method });
        outcome = await viaProxy(timeoutMs);
      }
    } else {
      await options.onAttempt?.({ check: check.name, attempt: n, method });
      outcome = await viaProxy(timeoutMs);
    }
    await options.onAttempt?.({ check: check.name, attempt: n, method, outcome });
    return outcome;
  };
  const result = await retryUntil(attempt, options.policy ?? DEFAULT_RETRY, { signal: options.signal });
  const how = fallback ? `api-proxy (port-forward failed: ${fallback})` : method;
  const error = result.ok
    ? undefined
    : `${result.last.detail} (${result.attempts} attempt${result.attempts === 1 ? '' : 's'} in ${(result.durationMs / 1000).toFixed(1)}s via ${method})`;
  return {
    ...base,
    status: result.ok ? 'passed' : 'failed',
    method: how,
    attempts: result.attempts,
    durationMs: result.durationMs,
    ...(error ? { error } : {}),
  };
}

/** Runs every check at once, one port-forward per Service port, all stopped before returning. */
export async function runHealthChecks(checks: PlannedCheck[], options: HealthRunOptions): Promise<NamedResult[]> {
  const forwards = new Map<string, PortForward>();
  const forwardFor = (check: PlannedCheck) => {
    const key = `${check.service}:${check.port}`;
    if (!forwards.has(key)) {
      const args = [
        'port-forward',
        '-n',
        options.namespace,
        `svc/${check.service}`,
        `:${check.port}`,
        '--address',
        '127.0.0.1',
      ];
      const start = (onStdout: (chunk: string) => void) => options.kubectl.stream(args, onStdout);
      forwards.set(
        key,
        new PortForward(`svc/${key}`, { start, ...(options.signal ? { signal: options.signal } : {}) }),
      );
    }
    return forwards.get(key)!;
  };
  try {
    return await Promise.all(checks.map((check) => runCheck(check, forwardFor(check), options)));
  } finally {
    await Promise.all([...forwards.values()].map((forward) => forward.stop()));
  }
}

const SHA256 = /sha256:[a-f0-9]{64}/;

/**
 * For each component the lock pins by digest: every container of its running pods must run
 * that digest. A mismatch names the pod, the container and both digests.
 */
export function checkDigests(lock: Lock, lockFile: string, pods: Pod[], workloads: string[]): NamedResult[] {
  return Object.keys(lock.images).map((component): NamedResult => {
    const name = `${component} image digest`;
    const pinned = pinnedDigest(lock, component);
    const base = { name, group: component, method: 'imageID', durationMs: 0 };
    if (!pinned) return { ...base, status: 'skipped', error: `${lockFile} pins ${component} by tag, not by digest` };
    if (!workloads.includes(component))
      return { ...base, status: 'skipped', error: `${component} is in ${lockFile} but not deployed by this config` };
    const mine = pods.filter(
      (pod) => pod.metadata.labels?.['app.kubernetes.io/name'] === component && !pod.metadata.deletionTimestamp,
    );
    if (mine.length === 0)
      return { ...base, status: 'failed', error: `no running pod of ${component} to compare with ${pinned}` };
    const problems = mine.flatMap((pod) =>
      (pod.status?.containerStatuses ?? []).flatMap((c) => {
        const running = SHA256.exec(c.imageID ?? '')?.[0];
        if (running === pinned) return [];
        return [
          `pod ${pod.metadata.name} container ${c.name} runs ${running ?? `no known digest (imageID "${c.imageID ?? ''}")`}, but ${lockFile} pins ${pinned}`,
        ];
      }),
    );
    return problems.length ? { ...base, status: 'failed', error: problems.join('\n') } : { ...base, status: 'passed' };
  });
}

/** The stack's pods, for the digest check. */
export async function stackPods(kubectl: Kubectl, namespace: string): Promise<Pod[]> {
  return (
    await kubectl.json<{ items: Pod[] }>(['get', 'pods', '-n', namespace, '-l', PART_OF_SELECTOR], {
      timeoutMs: 30_000,
    })
  ).items;
}
