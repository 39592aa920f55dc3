/**
 * The stack's workloads and pods as the API server reports them, kept current by three
 * `kubectl get --watch` streams (kubectl watches one resource type per process). The wait
 * reacts to each change as it happens instead of polling, and sends one request per type
 * instead of one every half second. When a stream ends (kubectl exits, the server closes the
 * watch, RBAC forbids `watch`) the watch says why and the wait goes back to polling.
 */
import { JsonObjectSplitter } from './json-stream.ts';
import type { Kubectl } from '../tools/kubectl.ts';
import type { StreamHandle } from '../core/stream.ts';
import type { Pod, Snapshot, Workload } from './podstatus.ts';

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: { metadata?: { name?: string; uid?: string }; message?: string };
}

/** How long after a stream's first event its initial list may still be arriving. */
const LIST_SETTLE_MS = 2_000;

const RESOURCES = [
  { resource: 'deployments', kind: 'Deployment' },
  { resource: 'statefulsets', kind: 'StatefulSet' },
  { resource: 'pods', kind: 'Pod' },
] as const;

export class WorkloadWatch {
  private readonly objects = new Map<string, Workload | Pod>();
  /** When each kind's stream printed its first event. */
  private readonly firstEventAt = new Map<string, number>();
  /** Every kind/name a stream has printed (deleted ones included). */
  private readonly mentioned = new Set<string>();
  private readonly streams: StreamHandle[] = [];
  private wake?: () => void;
  private stopped = false;
  /** Why a stream ended, once one has: from then on the snapshot may be stale. */
  ended?: string;

  /**
   * Starts the streams; undefined when the runner cannot stream (then the caller polls).
   * kubectl ends each watch by itself after `timeoutMs`, so even a stream orphaned by a killed
   * parent does not outlive the wait it served.
   */
  static start(kubectl: Kubectl, namespace: string, selector: string, timeoutMs: number): WorkloadWatch | undefined {
    const watch = new WorkloadWatch();
    try {
      for (const { resource, kind } of RESOURCES) {
        const splitter = new JsonObjectSplitter();
        const onStdout = (chunk: string) => {
          try {
            for (const event of splitter.push(chunk)) watch.apply(kind, event as WatchEvent);
          } catch (error) {
            watch.end(
              `the ${resource} watch printed something that is not a watch event (${(error as Error).message})`,
            );
          }
        };
        const stream = kubectl.stream(
          [
            'get',
            resource,
            '-n',
            namespace,
            '-l',
            selector,
            '--watch',
            '--output-watch-events',
            '-o',
            'json',
            `--request-timeout=${Math.ceil(timeoutMs / 1000)}s`,
          ],
          onStdout,
        );
        if (!stream) {
          watch.stop();
          return undefined;
        }
        watch.streams.push(stream);
        void stream.exited.then(({ exitCode, stderr }) => {
          const reason = stderr.trim().split('\n').pop();
          watch.end(
            `the ${resource} watch ended (kubectl exited ${exitCode ?? 'abnormally'}${reason ? `: ${reason}` : ''})`,
          );
        });
      }
    } catch (error) {
      watch.stop();
      throw error;
    }
    return watch;
  }

  private apply(kind: (typeof RESOURCES)[number]['kind'], event: WatchEvent): void {
    const name = event.object.metadata?.name;
    if (event.type === 'ERROR')
      return this.end(`the API server ended a watch: ${event.object.message ?? 'no reason given'}`);
    if (!name || event.type === 'BOOKMARK') return;
    if (!this.firstEventAt.has(kind)) this.firstEventAt.set(kind, Date.now());
    const key = `${kind}/${name}`;
    this.mentioned.add(key);
    if (event.type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, { ...event.object, kind } as Workload | Pod);
    this.notify();
  }

  /** One stream is gone, so the picture is incomplete: stop the others too and wake the wait. */
  private end(reason: string): void {
    if (this.stopped || this.ended) return;
    this.ended = reason;
    for (const stream of this.streams) stream.stop();
    this.notify();
  }

  /** Wakes a pending changed() at once (Ctrl-C, a deadline). */
  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /**
   * The current state. kubectl starts each stream with the current list, which may arrive over
   * several chunks; until a type's list has surely arrived (LIST_SETTLE_MS after its first
   * event), what the last poll (`base`) saw of that type and the stream has not mentioned yet
   * is kept, so no finding vanishes for a moment and restarts its grace window.
   */
  snapshot(base: Snapshot, now = Date.now()): Snapshot {
    const baseItems: (Workload | Pod)[] = [...base.workloads, ...base.pods];
    const of = (kind: string) => {
      const streamed = [...this.objects.values()].filter((item) => item.kind === kind);
      const since = this.firstEventAt.get(kind);
      if (since !== undefined && now - since >= LIST_SETTLE_MS) return streamed;
      const fromPoll = baseItems.filter(
        (item) => item.kind === kind && !this.mentioned.has(`${kind}/${item.metadata.name}`),
      );
      return [...streamed, ...fromPoll];
    };
    return {
      workloads: [...of('Deployment'), ...of('StatefulSet')] as Workload[],
      pods: of('Pod') as Pod[],
    };
  }

  /** Resolves at the next change (or a stream's end), or after `timeoutMs` without one. */
  changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  stop(): void {
    this.stopped = true;
    for (const stream of this.streams) stream.stop();
  }
}
