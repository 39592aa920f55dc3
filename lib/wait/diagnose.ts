/**
 * What a person needs to see when a pod is stuck: its recent events in time order and the
 * last lines of its logs (the previous run's, for a crash loop). Best effort: a diagnosis
 * that cannot be fetched says so instead of hiding the original failure.
 */
import { get } from 'node:http';
import { PortForward } from '../tools/port-forward.ts';
import type { Kubectl } from '../tools/kubectl.ts';
import type { Finding, Pod } from './podstatus.ts';

export interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  firstTimestamp?: string | null;
  involvedObject?: { kind?: string; name?: string };
}

export function eventTime(event: KubeEvent): string {
  return event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? '';
}

export function sortEvents(events: KubeEvent[]): KubeEvent[] {
  return [...events].sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
}

export function formatEvents(events: KubeEvent[], limit = 10): string[] {
  return sortEvents(events)
    .slice(-limit)
    .map(
      (e) =>
        `${eventTime(e) || '-'}  ${e.type ?? ''}  ${e.reason ?? ''}${e.count && e.count > 1 ? ` (x${e.count})` : ''}: ${(e.message ?? '').trim()}`,
    );
}

export const LOG_LINES = 20;

export async function podEvents(kubectl: Kubectl, namespace: string, pod: string): Promise<KubeEvent[]> {
  const list = await kubectl.json<{ items: KubeEvent[] }>([
    'get',
    'events',
    '-n',
    namespace,
    '--field-selector',
    `involvedObject.name=${pod}`,
  ]);
  return list.items;
}

async function claimDiagnosis(kubectl: Kubectl, namespace: string, pod: string): Promise<string[]> {
  try {
    const spec = await kubectl.json<Pod>(['get', 'pod', pod, '-n', namespace]);
    const claims = (spec.spec?.volumes ?? []).flatMap((v) =>
      v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
    );
    const lines: string[] = [];
    for (const claim of claims) {
      const events = await kubectl.json<{ items: KubeEvent[] }>([
        'get',
        'events',
        '-n',
        namespace,
        '--field-selector',
        `involvedObject.kind=PersistentVolumeClaim,involvedObject.name=${claim}`,
      ]);
      const text = formatEvents(events.items, 3);
      lines.push(`  claim ${claim}:`, ...(text.length ? text.map((e) => `    ${e}`) : ['    (no events)']));
    }
    return lines;
  } catch (error) {
    return [`  (claims unavailable: ${(error as Error).message.split('\n')[0]})`];
  }
}

const ANSWER_CHARS = 200;
const ANSWER_TIMEOUT_MS = 5_000;

/** One GET with a bounded wait: the status and the start of the body. */
function getOnce(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    // As lenient as the kubelet's prober (Go's net/http): bare-LF headers, as busybox httpd
    // sends for CGI answers, are an answer to show, not a parse error.
    const options = { host: '127.0.0.1', port, path, timeout: ANSWER_TIMEOUT_MS, insecureHTTPParser: true };
    const request = get(options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < 4 * ANSWER_CHARS) body += chunk;
      });
      response.on('end', () => resolve(`HTTP ${response.statusCode}: ${body}`));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    request.on('error', (error) => resolve(`no answer (${error.message})`));
  });
}

/**
 * The kubelet's event says only "HTTP probe failed with statuscode: 503"; the endpoint's body
 * usually says why ("cannot reach nats at ..."). Ask it once, through a port-forward to the pod
 * (the API server's proxy drops a 503's body), and show its words, masked, then cut.
 */
async function readinessAnswer(kubectl: Kubectl, namespace: string, pod: string, container: string): Promise<string[]> {
  const spec = await kubectl.json<Pod>(['get', 'pod', pod, '-n', namespace]).catch(() => undefined);
  const c = spec?.spec?.containers?.find((x) => x.name === container);
  const probe = c?.readinessProbe?.httpGet;
  if (!probe?.path || probe.port === undefined || probe.scheme === 'HTTPS') return [];
  const port =
    typeof probe.port === 'number' ? probe.port : c?.ports?.find((p) => p.name === probe.port)?.containerPort;
  if (port === undefined) return [];
  const forward = new PortForward(`pod/${pod}:${port}`, {
    start: (onStdout) =>
      kubectl.stream(['port-forward', '-n', namespace, `pod/${pod}`, `:${port}`, '--address', '127.0.0.1'], onStdout),
    maxStarts: 1,
  });
  try {
    const { port: local } = await forward.ensure();
    const oneLine = kubectl
      .mask(await getOnce(local, probe.path))
      .replace(/\s+/g, ' ')
      .trim();
    return [
      `  readiness ${probe.path} says: ${oneLine.length > ANSWER_CHARS ? `${oneLine.slice(0, ANSWER_CHARS)}…` : oneLine}`,
    ];
  } catch (error) {
    return [`  (readiness ${probe.path} could not be asked: ${kubectl.mask((error as Error).message).split('\n')[0]})`];
  } finally {
    await forward.stop();
  }
}

export async function diagnoseFinding(kubectl: Kubectl, namespace: string, finding: Finding): Promise<string> {
  const lines = [
    `  ${finding.pod ? `pod ${finding.pod}` : 'workload'}${finding.container ? `, container ${finding.container}` : ''}: ${finding.reason}: ${finding.message}`,
  ];
  if (!finding.pod) return lines.join('\n');
  try {
    const events = formatEvents(await podEvents(kubectl, namespace, finding.pod));
    if (events.length) lines.push('  events:', ...events.map((e) => `    ${e}`));
  } catch (error) {
    lines.push(`  (events unavailable: ${(error as Error).message.split('\n')[0]})`);
  }
  // "pod has unbound immediate PersistentVolumeClaims" names no claim: name each, with its
  // own events ("no persistent volumes available for this claim and no storage class is set").
  if (finding.cause === 'unschedulable' && /PersistentVolumeClaim/.test(finding.message)) {
    lines.push(...(await claimDiagnosis(kubectl, namespace, finding.pod)));
  }
  if (finding.cause === 'readiness' && finding.container) {
    lines.push(...(await readinessAnswer(kubectl, namespace, finding.pod, finding.container)));
  }
  if (finding.container && finding.cause !== 'image-pull' && finding.cause !== 'unschedulable') {
    const args = [
      'logs',
      '-n',
      namespace,
      finding.pod,
      '-c',
      finding.container,
      `--tail=${LOG_LINES}`,
      ...(finding.previousLogs ? ['--previous'] : []),
    ];
    const logs = await kubectl.exec(args, { timeoutMs: 15_000 });
    const text = logs.exitCode === 0 ? logs.stdout.trimEnd() : '';
    lines.push(
      text ? `  last log lines${finding.previousLogs ? ' (previous run)' : ''}:` : '  (no log lines)',
      ...(text ? text.split('\n').map((l) => `    ${l}`) : []),
    );
  }
  return lines.join('\n');
}
