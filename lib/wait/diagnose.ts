/**
 * What a person needs to see when a pod is stuck: its recent events in time order and the
 * last lines of its logs (the previous run's, for a crash loop). Best effort: a diagnosis
 * that cannot be fetched says so instead of hiding the original failure.
 */
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
