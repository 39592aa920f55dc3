/**
 * Checks that the stack does its job, not only that it is alive: NATS speaks its client
 * protocol, JetStream runs with the configured limits, Prometheus scrapes every target it
 * should, and Grafana's data source answers. Each is one attempt of the retry loop in
 * checks.ts, through a port-forward's local port, and says what it found in one line.
 */
import { connect } from 'node:net';
import type { AttemptOutcome, Judge, Mask } from './health.ts';
import { bodySnippet } from './health.ts';

/** NATS' client protocol: the server's INFO line, then CONNECT + PING answered by PONG. */
export function natsPing(port: number, timeoutMs: number): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          network: true,
          detail: `no NATS answer within ${timeoutMs} ms (got ${JSON.stringify(text.slice(0, 80))})`,
        }),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const first = !text.includes('\r\n');
      text += chunk;
      if (first && text.includes('\r\n')) {
        const info = /^INFO (\{.*\})\s*\r\n/.exec(text);
        if (!info)
          return finish({
            ok: false,
            detail: `not a NATS server: it said ${JSON.stringify(text.split('\r\n')[0]!.slice(0, 80))}`,
          });
        socket.write('CONNECT {"verbose":false,"pedantic":false,"name":"demon-bootstrap-smoke"}\r\nPING\r\n');
      }
      if (/\r\nPONG\r\n/.test(text)) {
        const server =
          (JSON.parse(/^INFO (\{.*\})\s*\r\n/.exec(text)![1]!) as { version?: string }).version ?? 'unknown version';
        finish({ ok: true, detail: `INFO, PING, PONG (nats-server ${server})` });
      }
      if (/\r\n-ERR /.test(text))
        finish({
          ok: false,
          detail: `NATS refused the client: ${text.split('\r\n').find((l) => l.startsWith('-ERR'))}`,
        });
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish({
        ok: false,
        network: true,
        detail: error.code === 'ECONNREFUSED' ? 'connection refused' : error.message,
      }),
    );
    socket.on('close', () =>
      finish({ ok: false, network: true, detail: `connection closed after ${JSON.stringify(text.slice(0, 80))}` }),
    );
  });
}

function json<T>(status: number, body: string, mask: Mask): { value?: T; failure?: AttemptOutcome } {
  if (status < 200 || status >= 300)
    return { failure: { ok: false, status, detail: `HTTP ${status}: ${bodySnippet(body, 120, mask)}` } };
  try {
    return { value: JSON.parse(body) as T };
  } catch {
    return { failure: { ok: false, status, detail: `HTTP ${status} but not JSON: ${bodySnippet(body, 120, mask)}` } };
  }
}

/** GET /jsz: JetStream on, with the memory and file limits the config sets. */
export function judgeJetStream(expected: { maxMemory: number; maxStorage: number }, mask: Mask): Judge {
  return (status, body) => {
    const { value, failure } = json<{ disabled?: boolean; config?: { max_memory?: number; max_storage?: number } }>(
      status,
      body,
      mask,
    );
    if (failure) return failure;
    if (value!.disabled) return { ok: false, status, detail: 'JetStream is disabled on the server' };
    const got = { maxMemory: value!.config?.max_memory, maxStorage: value!.config?.max_storage };
    if (got.maxMemory !== expected.maxMemory || got.maxStorage !== expected.maxStorage) {
      return {
        ok: false,
        status,
        retryable: false,
        detail: `JetStream limits are max_memory ${got.maxMemory} and max_storage ${got.maxStorage}, but the config sets ${expected.maxMemory} and ${expected.maxStorage}`,
      };
    }
    return { ok: true, status, detail: `JetStream on: max_memory ${got.maxMemory}, max_storage ${got.maxStorage}` };
  };
}

export interface ExpectedTarget {
  job: string;
  /** The `workload` label our relabelling sets (job demon-pods); none for Prometheus itself. */
  workload?: string;
}

interface Target {
  labels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  lastError?: string;
}

/** GET /api/v1/targets: every expected target discovered, and all of its instances up. */
export function judgeTargets(expected: ExpectedTarget[], mask: Mask): Judge {
  return (status, body) => {
    const { value, failure } = json<{ data?: { activeTargets?: Target[] } }>(status, body, mask);
    if (failure) return failure;
    const targets = value!.data?.activeTargets ?? [];
    const problems: string[] = [];
    for (const want of expected) {
      const mine = targets.filter(
        (t) => t.labels.job === want.job && (want.workload === undefined || t.labels.workload === want.workload),
      );
      const name = want.workload ?? want.job;
      if (mine.length === 0) problems.push(`${name}: not discovered`);
      for (const down of mine.filter((t) => t.health !== 'up'))
        problems.push(
          `${name} ${down.labels.instance ?? ''}: ${down.health}${down.lastError ? ` (${mask(down.lastError)})` : ''}`,
        );
    }
    if (problems.length) return { ok: false, status, detail: problems.join('; ') };
    return {
      ok: true,
      status,
      detail: `${expected.length} targets up: ${expected.map((t) => t.workload ?? t.job).join(', ')}`,
    };
  };
}

/** Grafana's GET /api/datasources/uid/<uid>/health: the data source can query Prometheus. */
export function judgeDatasource(mask: Mask): Judge {
  return (status, body) => {
    const { value, failure } = json<{ status?: string; message?: string }>(status, body, mask);
    if (failure)
      return {
        ...failure,
        ...(status === 401
          ? {
              retryable: false,
              detail: `${failure.detail} (the admin password from monitoring.grafana.adminPasswordEnv was refused)`,
            }
          : {}),
      };
    if (value!.status !== 'OK')
      return { ok: false, status, detail: `data source unhealthy: ${mask(value!.message ?? JSON.stringify(value))}` };
    return { ok: true, status, detail: `data source healthy: ${mask(value!.message ?? 'OK')}` };
  };
}
