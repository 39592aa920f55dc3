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
  httpJudged,
  judgeResponse,
  retryUntil,
  type AttemptOutcome,
  type Judge,
  type Mask,
  type RetryPolicy,
} from './health.ts';
import { ForwardError, PortForward } from '../tools/port-forward.ts';
import { proxyFailure, serviceProxyPath } from '../tools/api-proxy.ts';
import type { NamedResult } from './report.ts';
import type { Config, Health } from '../config/schema.ts';
import { parseDuration } from '../config/formats.ts';
import { wholeUnits } from '../config/quantity.ts';
import { DATASOURCE_UID } from '../render/dashboard.ts';
import { SCRAPE_INTERVAL } from '../render/views.ts';
import { judgeDatasource, judgeJetStream, judgeTargets, natsPing, type ExpectedTarget } from './probes.ts';

export type Method = 'port-forward' | 'api-proxy';
export type MethodChoice = Method | 'auto';

/** What a check asks: a health path (as the probes do), or whether the stack does its job. */
export type Probe =
  | { kind: 'http'; body?: string }
  | { kind: 'nats' }
  | { kind: 'jetstream'; maxMemory: number; maxStorage: number }
  | { kind: 'targets'; expected: ExpectedTarget[] }
  | { kind: 'datasource'; user: string; passwordEnv: string };

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
  /** The functional checks; a health path when absent. */
  probe?: Probe;
  /** A longer deadline than the run's, when the answer takes a scrape interval to exist. */
  deadlineMs?: number;
  /** Set when the check cannot run (e.g. 0 replicas): reported as skipped. */
  skip?: string;
}

/** Prometheus needs up to two scrape intervals after start to have scraped every target once. */
const TARGETS_DEADLINE_MS = 2 * parseDuration(SCRAPE_INTERVAL) + 15_000;

/** The checks that the stack works: NATS and JetStream, and with monitoring Prometheus and Grafana. */
export function functionalChecks(config: Config): PlannedCheck[] {
  const { nats, monitoring } = config;
  const check = (name: string, workload: string, port: number, path: string, probe: Probe): PlannedCheck => ({
    name,
    workload,
    service: workload,
    port,
    path,
    probes: [],
    probe,
  });
  const checks = [
    check('nats client protocol', 'nats', nats.clientPort, '', { kind: 'nats' }),
    check('nats JetStream limits', 'nats', nats.monitorPort, '/jsz', {
      kind: 'jetstream',
      maxMemory: wholeUnits(nats.jetstream.maxMemory)!,
      maxStorage: wholeUnits(nats.jetstream.maxFile)!,
    }),
  ];
  if (!monitoring.enabled) return checks;
  const expected: ExpectedTarget[] = [{ job: 'prometheus' }];
  if (nats.exporter.enabled) expected.push({ job: 'demon-pods', workload: 'nats' });
  for (const c of config.components)
    if (c.metrics && c.replicas > 0) expected.push({ job: 'demon-pods', workload: c.name });
  checks.push(
    {
      ...check('prometheus targets', 'prometheus', monitoring.prometheus.port, '/api/v1/targets?state=active', {
        kind: 'targets',
        expected,
      }),
      deadlineMs: TARGETS_DEADLINE_MS,
    },
    check(
      'grafana data source',
      'grafana',
      monitoring.grafana.servicePort,
      `/api/datasources/uid/${DATASOURCE_UID}/health`,
      {
        kind: 'datasource',
        user: monitoring.grafana.adminUser,
        passwordEnv: monitoring.grafana.adminPasswordEnv,
      },
    ),
  );
  return checks;
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

/** Judges `kubectl get --raw .../proxy/PATH`: stdout is the body; an error names its reason on stderr. */
export function judgeProxyResult(
  exitCode: number,
  stdout: string,
  stderr: string,
  bodyMatch?: string,
  mask: Mask = (text) => text,
): AttemptOutcome {
  if (exitCode === 0) return judgeResponse(200, stdout, bodyMatch, mask);
  // The API server quotes the service's own body: show that, as the port-forward path does.
  const { status, said } = proxyFailure(exitCode, mask(stderr));
  return { ok: false, ...(status ? { status } : {}), detail: `${status ? `HTTP ${status}: ` : ''}${said}` };
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
  /** The environment, for the credentials a functional check needs (Grafana's admin password). */
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** Before each attempt (with forwardPid) and after it (with outcome): --verbose progress. */
  onAttempt?: (event: CheckEvent) => void | Promise<void>;
}

/** The judge of a check's HTTP answer: its health path, or what a functional check expects. */
function judgeOf(check: PlannedCheck, mask: Mask): Judge {
  const probe = check.probe ?? { kind: 'http' };
  if (probe.kind === 'jetstream') return judgeJetStream(probe, mask);
  if (probe.kind === 'targets') return judgeTargets(probe.expected, mask);
  if (probe.kind === 'datasource') return judgeDatasource(mask);
  return (status, body) => judgeResponse(status, body, check.body, mask);
}

/** Basic auth for Grafana's API, from the env var the config names (masked like every secret). */
function headersOf(check: PlannedCheck, env: Record<string, string | undefined>): Record<string, string> {
  if (check.probe?.kind !== 'datasource') return {};
  const password = env[check.probe.passwordEnv] ?? '';
  return { authorization: `Basic ${Buffer.from(`${check.probe.user}:${password}`).toString('base64')}` };
}

/** A raw TCP protocol, or a request that needs headers, cannot go through the API server's proxy. */
const proxyable = (check: PlannedCheck) => check.probe?.kind !== 'nats' && check.probe?.kind !== 'datasource';

async function runCheck(check: PlannedCheck, forward: PortForward, options: HealthRunOptions): Promise<NamedResult> {
  const base = { name: check.name, group: check.workload };
  if (check.skip) return { ...base, status: 'skipped', durationMs: 0, error: check.skip };
  const mask = options.mask ?? ((text: string) => text);
  const judge = judgeOf(check, mask);
  let method: Method = options.method === 'api-proxy' && proxyable(check) ? 'api-proxy' : 'port-forward';
  let fallback = '';
  const viaProxy = async (timeoutMs: number): Promise<AttemptOutcome> => {
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const path = serviceProxyPath(options.namespace, check.service, check.port, check.path);
    const r = await options.kubectl.exec(['get', '--raw', path, `--request-timeout=${seconds}s`], {
      timeoutMs: timeoutMs + 2_000,
    });
    if (r.timedOut) return { ok: false, detail: `no answer within ${timeoutMs} ms` };
    return r.exitCode === 0 ? judge(200, r.stdout) : judgeProxyResult(r.exitCode, r.stdout, r.stderr, check.body, mask);
  };
  const viaForward = (port: number, timeoutMs: number): Promise<AttemptOutcome> => {
    if (check.probe?.kind === 'nats') return natsPing(port, timeoutMs);
    return httpJudged(`http://127.0.0.1:${port}${check.path}`, timeoutMs, judge, headersOf(check, options.env ?? {}));
  };
  const attempt = async (n: number, timeoutMs: number): Promise<AttemptOutcome> => {
    let outcome: AttemptOutcome;
    if (method === 'port-forward') {
      try {
        const { port, generation } = await forward.ensure();
        await options.onAttempt?.({ check: check.name, attempt: n, method, forwardPid: forward.pid });
        outcome = await viaForward(port, timeoutMs);
        // No answer at all: the forward itself may be broken; the next attempt starts a new one.
        if (outcome.network) forward.invalidate(generation);
      } catch (error) {
        if (!(error instanceof ForwardError)) throw error;
        if (options.method === 'port-forward' || options.signal?.aborted || !proxyable(check)) {
          const why = proxyable(check)
            ? error.message
            : `${error.message} (this check needs a port-forward: the API server's proxy cannot carry it)`;
          return { ok: false, detail: why, retryable: false };
        }
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
  const policy = options.policy ?? DEFAULT_RETRY;
  const deadlineMs = Math.max(policy.deadlineMs, check.deadlineMs ?? 0);
  const result = await retryUntil(attempt, { ...policy, deadlineMs }, options.signal ? { signal: options.signal } : {});
  const how = fallback ? `api-proxy (port-forward failed: ${fallback})` : method;
  const tries = `${result.attempts} attempt${result.attempts === 1 ? '' : 's'} in ${(result.durationMs / 1000).toFixed(1)}s via ${method}`;
  const error = result.ok ? undefined : `${result.last.detail} (${tries})`;
  // A functional check's passing detail says what it found ("JetStream on: ...").
  const found = result.ok && check.probe ? { detail: result.last.detail } : {};
  return {
    ...base,
    status: result.ok ? 'passed' : 'failed',
    method: how,
    attempts: result.attempts,
    durationMs: result.durationMs,
    ...found,
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
