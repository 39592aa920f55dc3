/**
 * HTTP health checks with retries. One attempt is one GET on a fresh connection (no pooled
 * socket can outlive a dead port-forward), bounded by its own timeout; attempts repeat with
 * exponential backoff until one passes or the check's deadline runs out. The same loop drives
 * the port-forward and the API-server proxy probes, so both are bounded the same way.
 */
import { request } from 'node:http';

export interface RetryPolicy {
  /** The whole check, every attempt and pause included. */
  deadlineMs: number;
  /** One request; the last attempt gets whatever is left of the deadline if that is less. */
  attemptTimeoutMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** A second bound besides time, so a check that fails instantly cannot spin. */
  maxAttempts: number;
}

/**
 * 15 s per check: a /health that stays broken fails the smoke well within 30 s, while a
 * service that answers 500 for a few seconds after start-up still passes.
 */
export const DEFAULT_RETRY: RetryPolicy = {
  deadlineMs: 15_000,
  attemptTimeoutMs: 5_000,
  initialDelayMs: 250,
  maxDelayMs: 2_000,
  maxAttempts: 40,
};

const MIN_ATTEMPT_MS = 1_000;

/** The pause after attempt `attempt` (1-based): doubling from initialDelayMs, capped at maxDelayMs. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
}

export interface AttemptOutcome {
  ok: boolean;
  /** The HTTP status, when the server answered at all. */
  status?: number;
  /** What happened, for the report: "HTTP 200", "HTTP 500: broken", "connection refused". */
  detail: string;
  /** No HTTP exchange happened (refused, dropped, no answer): the path there may be broken. */
  network?: boolean;
  /** False when retrying cannot help (e.g. port-forward is impossible and no fallback is allowed). */
  retryable?: boolean;
}

export interface RetryResult {
  ok: boolean;
  attempts: number;
  durationMs: number;
  last: AttemptOutcome;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/**
 * Runs `attempt` until it passes, the deadline or maxAttempts is reached, it says retrying
 * cannot help, or `signal` aborts (Ctrl-C). Never sleeps past the deadline.
 */
export async function retryUntil(
  attempt: (n: number, timeoutMs: number) => Promise<AttemptOutcome>,
  policy: RetryPolicy,
  options: { clock?: Clock; signal?: AbortSignal } = {},
): Promise<RetryResult> {
  const clock = options.clock ?? realClock;
  const started = clock.now();
  const elapsed = () => clock.now() - started;
  // A last attempt squeezed into a few leftover milliseconds would only report its own
  // timeout instead of the real failure: each attempt after the first gets at least this.
  const minimum = Math.min(policy.attemptTimeoutMs, MIN_ATTEMPT_MS);
  let last: AttemptOutcome = { ok: false, detail: 'not attempted' };
  let n = 0;
  while (n < policy.maxAttempts && !options.signal?.aborted) {
    const remaining = policy.deadlineMs - elapsed();
    if (remaining <= 0 || (n > 0 && remaining < minimum)) break;
    n += 1;
    last = await attempt(n, Math.round(Math.min(policy.attemptTimeoutMs, remaining)));
    if (last.ok || last.retryable === false) break;
    const pause = backoffDelay(policy, n);
    if (policy.deadlineMs - elapsed() - pause < minimum) break;
    await clock.sleep(pause, options.signal);
  }
  if (options.signal?.aborted && !last.ok) last = { ...last, detail: `${last.detail} (interrupted)` };
  return { ok: last.ok, attempts: n, durationMs: Math.round(elapsed()), last };
}

/** Kubernetes' httpGet probes pass on 200-399; the smoke check agrees with the probes. */
export function probeStatusOk(status: number): boolean {
  return status >= 200 && status < 400;
}

// Prometheus' target list for a stack is a few KiB; health pages are a line.
const MAX_BODY_BYTES = 1024 * 1024;

/** Masks secrets in text that left an app (its body, its logs) before anything cuts it. */
export type Mask = (text: string) => string;
const asIs: Mask = (text) => text;

/** The body's first line, masked whole first and only then cut: a long secret never half-shows. */
export function bodySnippet(body: string, max = 120, mask: Mask = asIs): string {
  const line = mask(body.trim()).split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max)}...` : line;
}

/** Judges an answer the way the probes do, plus the optional body match. */
export function judgeResponse(status: number, body: string, bodyMatch?: string, mask: Mask = asIs): AttemptOutcome {
  const snippet = bodySnippet(body, 120, mask);
  if (!probeStatusOk(status)) return { ok: false, status, detail: `HTTP ${status}${snippet ? `: ${snippet}` : ''}` };
  if (bodyMatch !== undefined && !body.includes(bodyMatch)) {
    return {
      ok: false,
      status,
      detail: `HTTP ${status} but the body does not contain ${JSON.stringify(bodyMatch)}${snippet ? ` (got: ${snippet})` : ''}`,
    };
  }
  return { ok: true, status, detail: `HTTP ${status}` };
}

function failure(error: NodeJS.ErrnoException, status?: number): AttemptOutcome {
  // The server answered, but not in HTTP: a broken app, not a broken connection.
  if (error.code?.startsWith('HPE_')) return { ok: false, detail: `invalid HTTP response: ${error.message}` };
  const detail =
    error.code === 'ECONNREFUSED'
      ? 'connection refused'
      : error.code === 'ECONNRESET' || error.code === 'EPIPE' || error.message === 'socket hang up'
        ? 'connection dropped'
        : error.message;
  return { ok: false, detail, network: true, ...(status ? { status } : {}) };
}

/** What an HTTP exchange gave: the status and (bounded) body, or why there was none. */
export type Exchange = { status: number; body: string } | AttemptOutcome;
export type Judge = (status: number, body: string) => AttemptOutcome;

/** One GET on a fresh connection, judged; never throws, always settles within timeoutMs. */
export function httpGet(
  url: string,
  timeoutMs: number,
  bodyMatch?: string,
  mask: Mask = asIs,
): Promise<AttemptOutcome> {
  return httpJudged(url, timeoutMs, (status, body) => judgeResponse(status, body, bodyMatch, mask));
}

/** One GET, judged by `judge` (JSON APIs: /jsz, Prometheus' targets, Grafana's health). */
export async function httpJudged(
  url: string,
  timeoutMs: number,
  judge: Judge,
  headers: Record<string, string> = {},
): Promise<AttemptOutcome> {
  const answer = await httpExchange(url, timeoutMs, headers);
  return 'detail' in answer ? answer : judge(answer.status, answer.body);
}

/** One GET on a fresh connection: its status and body, or a network failure. */
export function httpExchange(url: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Exchange) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ ok: false, detail: `no answer within ${timeoutMs} ms`, network: true }),
      timeoutMs,
    );
    // The lenient parser accepts bare-LF line endings, as the kubelet's Go client does: a check
    // must not fail where the probe with the same path passes.
    const options = {
      agent: false,
      insecureHTTPParser: true,
      headers: { connection: 'close', 'user-agent': 'demon-bootstrap-smoke', ...headers },
    };
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = () => ({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      res.on('data', (chunk: Buffer) => {
        // Bounded: a health endpoint that streams forever must not fill memory.
        if (size < MAX_BODY_BYTES) chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_BODY_BYTES) finish(answer());
      });
      res.on('end', () => finish(answer()));
      res.on('error', (error) => finish(failure(error, res.statusCode)));
      // A server that dies mid-body closes without 'end': that is a dropped connection, not a pass.
      res.on('close', () => finish({ ok: false, status: res.statusCode, detail: 'connection dropped', network: true }));
    });
    req.on('error', (error) => finish(failure(error)));
    req.end();
  });
}
