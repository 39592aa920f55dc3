import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  backoffDelay,
  DEFAULT_RETRY,
  httpGet,
  judgeResponse,
  retryUntil,
  type AttemptOutcome,
  type Clock,
  type RetryPolicy,
} from '../lib/smoke/health.ts';

/** A clock that only moves when the code under test sleeps or an attempt "takes" time. */
function fakeClock(): Clock & { t: number; sleeps: number[] } {
  const clock = {
    t: 0,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  };
  return clock;
}

const POLICY: RetryPolicy = {
  deadlineMs: 15_000,
  attemptTimeoutMs: 5_000,
  initialDelayMs: 250,
  maxDelayMs: 2_000,
  maxAttempts: 40,
};
const failing = (detail = 'HTTP 500'): AttemptOutcome => ({ ok: false, status: 500, detail });

const retry = suite('health: retries and backoff stay within their bounds');
retry('the pause doubles from the initial delay and is capped', () => {
  assert.equal(
    [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(POLICY, n)),
    [250, 500, 1000, 2000, 2000, 2000],
  );
});
retry('a check that keeps failing stops at its deadline, never sleeping past it', async () => {
  const clock = fakeClock();
  const timeouts: number[] = [];
  const result = await retryUntil(
    async (_n, timeoutMs) => {
      timeouts.push(timeoutMs);
      clock.t += 100;
      return failing();
    },
    POLICY,
    { clock },
  );
  assert.is(result.ok, false);
  assert.ok(result.durationMs <= POLICY.deadlineMs, `took ${result.durationMs}`);
  assert.ok(
    result.durationMs >= POLICY.deadlineMs - POLICY.maxDelayMs - 1_000,
    `gave up early at ${result.durationMs}`,
  );
  assert.ok(
    timeouts.every((t) => t >= 1_000 && t <= POLICY.attemptTimeoutMs),
    `attempt timeouts ${timeouts}`,
  );
  assert.is(result.attempts, timeouts.length);
  assert.is(result.last.detail, 'HTTP 500', 'the real failure is reported, not a squeezed last attempt');
});
retry('attempts that fail instantly are bounded by maxAttempts', async () => {
  const clock = fakeClock();
  const result = await retryUntil(
    async () => failing(),
    { ...POLICY, initialDelayMs: 0, maxDelayMs: 0, maxAttempts: 7 },
    { clock },
  );
  assert.is(result.attempts, 7);
});
retry('an attempt that hangs is bounded by what is left of the deadline', async () => {
  const clock = fakeClock();
  const result = await retryUntil(
    async (_n, timeoutMs) => {
      clock.t += timeoutMs;
      return { ok: false, detail: `no answer within ${timeoutMs} ms` };
    },
    POLICY,
    { clock },
  );
  assert.ok(result.durationMs <= POLICY.deadlineMs);
  assert.is(result.attempts, 3);
});
retry('a pass ends the loop at once; a non-retryable failure too', async () => {
  const clock = fakeClock();
  let n = 0;
  const passed = await retryUntil(
    async () => (++n < 3 ? failing() : { ok: true, status: 200, detail: 'HTTP 200' }),
    POLICY,
    { clock },
  );
  assert.equal([passed.ok, passed.attempts, clock.sleeps], [true, 3, [250, 500]]);
  const fatal = await retryUntil(
    async () => ({ ok: false, detail: 'port-forward impossible', retryable: false }),
    POLICY,
    { clock: fakeClock() },
  );
  assert.is(fatal.attempts, 1);
});
retry('an abort (Ctrl-C) stops retrying and says so', async () => {
  const controller = new AbortController();
  const result = await retryUntil(
    async (n) => {
      if (n === 2) controller.abort();
      return failing();
    },
    POLICY,
    { clock: fakeClock(), signal: controller.signal },
  );
  assert.is(result.attempts, 2);
  assert.match(result.last.detail, /interrupted/);
});
retry('the default deadline leaves room to fail within 30 s', () => {
  assert.ok(DEFAULT_RETRY.deadlineMs + DEFAULT_RETRY.attemptTimeoutMs < 30_000);
});

const judge = suite('health: status and body, judged like the probes');
judge('200-399 pass as for a Kubernetes httpGet probe; others fail with the body', () => {
  assert.is(judgeResponse(200, 'ok').ok, true);
  assert.is(judgeResponse(302, '').ok, true);
  assert.equal(judgeResponse(500, 'database unreachable\nmore'), {
    ok: false,
    status: 500,
    detail: 'HTTP 500: database unreachable',
  });
  assert.is(judgeResponse(404, '').detail, 'HTTP 404');
});
judge('an optional body match must be found', () => {
  assert.is(judgeResponse(200, '{"status":"ok"}', '"status":"ok"').ok, true);
  assert.match(judgeResponse(200, 'degraded', 'ok"').detail, /body does not contain/);
});

// Real servers on 127.0.0.1, ephemeral ports, closed after each test.
type Handler = Parameters<typeof createServer>[1];
async function listen(server: Server | TcpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}
async function close(server: Server | TcpServer, sockets: Set<Socket> = new Set()): Promise<void> {
  for (const socket of sockets) socket.destroy();
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}
async function withHttp(handler: NonNullable<Handler>, body: (url: string) => Promise<void>): Promise<void> {
  const server = createServer(handler);
  const port = await listen(server);
  try {
    await body(`http://127.0.0.1:${port}`);
  } finally {
    await close(server);
  }
}
async function withTcp(onSocket: (socket: Socket) => void, body: (url: string) => Promise<void>): Promise<void> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    onSocket(socket);
  });
  const port = await listen(server);
  try {
    await body(`http://127.0.0.1:${port}`);
  } finally {
    await close(server, sockets);
  }
}

const FAST: RetryPolicy = {
  deadlineMs: 3_000,
  attemptTimeoutMs: 1_000,
  initialDelayMs: 50,
  maxDelayMs: 200,
  maxAttempts: 20,
};
const check = (url: string, policy = FAST) => retryUntil((_n, timeoutMs) => httpGet(url, timeoutMs), policy);

const servers = suite('health: the checker against real local servers');
servers('a slow server within the attempt timeout passes on the first attempt', async () => {
  await withHttp(
    (_req, res) => {
      setTimeout(() => res.end('ok'), 300);
    },
    async (url) => {
      const result = await check(`${url}/health`);
      assert.equal([result.ok, result.attempts], [true, 1]);
      assert.ok(result.durationMs >= 290);
    },
  );
});
servers('a server slower than the attempt timeout fails each attempt in bounded time', async () => {
  await withHttp(
    (_req, res) => {
      setTimeout(() => res.end('late'), 5_000).unref();
    },
    async (url) => {
      const result = await check(`${url}/health`, { ...FAST, deadlineMs: 2_500 });
      assert.is(result.ok, false);
      assert.match(result.last.detail, /no answer within \d+ ms/);
      assert.ok(result.durationMs < 3_000, `took ${result.durationMs}`);
    },
  );
});
servers('500 then 200: retried until it passes', async () => {
  let calls = 0;
  await withHttp(
    (_req, res) => {
      res.statusCode = ++calls < 3 ? 500 : 200;
      res.end(calls < 3 ? 'starting' : 'ok');
    },
    async (url) => {
      const result = await check(`${url}/health`);
      assert.equal([result.ok, result.attempts, calls], [true, 3, 3]);
    },
  );
});
servers('a 500 that stays fails at the deadline with the status and body', async () => {
  await withHttp(
    (_req, res) => {
      res.statusCode = 500;
      res.end('database unreachable');
    },
    async (url) => {
      const result = await check(`${url}/health`, { ...FAST, deadlineMs: 1_500 });
      assert.is(result.ok, false);
      assert.is(result.last.detail, 'HTTP 500: database unreachable');
      assert.ok(result.durationMs <= 1_500);
    },
  );
});
servers('a server that drops every connection fails as "connection dropped", bounded', async () => {
  await withTcp(
    (socket) => socket.on('data', () => socket.destroy()),
    async (url) => {
      const result = await check(`${url}/health`, { ...FAST, deadlineMs: 1_500 });
      assert.is(result.ok, false);
      assert.is(result.last.detail, 'connection dropped');
      assert.is(result.last.network, true);
      assert.ok(result.attempts > 1);
    },
  );
});
servers('a server that drops the first connections, then answers, passes', async () => {
  let connections = 0;
  await withTcp(
    (socket) =>
      socket.on('data', () => {
        if (++connections <= 2) return socket.destroy();
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      }),
    async (url) => {
      const result = await check(`${url}/health`);
      assert.equal([result.ok, result.attempts], [true, 3]);
    },
  );
});
servers('a server that accepts but never answers is bounded by the deadline', async () => {
  await withTcp(
    () => {},
    async (url) => {
      const started = performance.now();
      const result = await check(`${url}/health`, { ...FAST, deadlineMs: 2_000 });
      assert.is(result.ok, false);
      assert.match(result.last.detail, /no answer within/);
      assert.ok(performance.now() - started < 2_500);
    },
  );
});
servers('nothing listening: connection refused, marked as a network failure', async () => {
  const server = createTcpServer();
  const port = await listen(server);
  await close(server);
  const outcome = await httpGet(`http://127.0.0.1:${port}/health`, 1_000);
  assert.equal(outcome, { ok: false, detail: 'connection refused', network: true });
});
servers('a bare-LF response (busybox CGI) is read as the kubelet reads it', async () => {
  await withTcp(
    (socket) =>
      socket.on('data', () =>
        socket.end('HTTP/1.1 500 Internal Server Error\nContent-Type: text/plain\n\nhealth: broken\n'),
      ),
    async (url) => {
      const outcome = await httpGet(`${url}/cgi-bin/health`, 1_000);
      assert.equal(outcome, { ok: false, status: 500, detail: 'HTTP 500: health: broken' });
    },
  );
});
servers('a body that never ends is read only up to its bound', async () => {
  await withHttp(
    (_req, res) => {
      res.writeHead(200);
      const chunk = 'x'.repeat(16 * 1024);
      const timer = setInterval(() => res.write(chunk), 1);
      res.on('close', () => clearInterval(timer));
    },
    async (url) => {
      const outcome = await httpGet(`${url}/health`, 2_000, 'never-there');
      assert.is(outcome.ok, false);
      assert.match(outcome.detail, /body does not contain/);
    },
  );
});

retry.run();
judge.run();
servers.run();
