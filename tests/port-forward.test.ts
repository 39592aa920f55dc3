import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { httpGet } from '../lib/smoke/health.ts';
import { Children } from '../lib/core/children.ts';
import { ProcessRunner } from '../lib/core/exec.ts';
import { Redactor } from '../lib/core/redact.ts';
import { ForwardError, parseForwardingPort, PortForward, type ForwardOptions } from '../lib/tools/port-forward.ts';
import { REPO_ROOT } from '../lib/core/session.ts';
import { allGone, fakeKubectl, running } from './helpers/fake-kubectl.ts';
import { recorded } from './helpers/fake-runner.ts';

const parse = suite("port-forward: reading kubectl's output");
parse('the local port comes from the recorded "Forwarding from" line', () => {
  assert.is(parseForwardingPort(recorded('port-forward.stdout')), 46577);
  assert.is(parseForwardingPort(recorded('port-forward-lost.stdout')), 46799);
});
parse('nothing until the line is complete; [::1] or other text is not it', () => {
  assert.is(parseForwardingPort(''), undefined);
  assert.is(parseForwardingPort('Forwarding from 127.0.0.1:'), undefined);
  assert.is(parseForwardingPort('Forwarding from [::1]:46577 -> 8080\n'), undefined);
  assert.is(parseForwardingPort(recorded('port-forward-no-port.stderr')), undefined);
});

// A real local HTTP server stands in for the pod; the fake kubectl forwards to it.
const server = createServer((_req, res) => res.end('ok'));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const target = (server.address() as { port: number }).port;
const fake = fakeKubectl(target);
const ARGV = [
  'kubectl',
  '--context',
  'demon-e2e',
  'port-forward',
  '-n',
  'demon',
  'svc/runtime',
  ':8080',
  '--address',
  '127.0.0.1',
];
/** A forward through the real runner's streams, with the fake kubectl first on PATH. */
const forwardWith = (
  children: Children,
  mode: Parameters<typeof fake.env>[0],
  extra: Record<string, string> = {},
  readyTimeoutMs = 5_000,
  more: Partial<ForwardOptions> = {},
) => {
  const runner = new ProcessRunner({ env: fake.env(mode, extra), redactor: new Redactor(), children });
  return new PortForward('svc/runtime:8080', {
    start: (onStdout) => runner.stream(ARGV, onStdout),
    readyTimeoutMs,
    ...more,
  });
};

const life = suite('port-forward: start, restart, stop');
life.after(async () => {
  await new Promise((resolve) => server.close(resolve));
  assert.ok(await allGone(fake.pids()), 'a fake kubectl was left running');
});
life('starts kubectl, waits for its line, and the port really forwards', async () => {
  const children = new Children();
  const forward = forwardWith(children, 'forward');
  try {
    const { port, generation } = await forward.ensure();
    assert.is(generation, 1);
    assert.equal(await httpGet(`http://127.0.0.1:${port}/health`, 2_000), {
      ok: true,
      status: 200,
      detail: 'HTTP 200',
    });
    assert.equal(await forward.ensure(), { port, generation: 1 }, 'a live forward is reused');
    assert.is(forward.starts, 1);
  } finally {
    await forward.stop();
  }
  assert.is(children.size, 0);
});
life('concurrent users share one start', async () => {
  const children = new Children();
  const forward = forwardWith(children, 'forward');
  try {
    const all = await Promise.all([forward.ensure(), forward.ensure(), forward.ensure()]);
    assert.is(new Set(all.map((a) => a.port)).size, 1);
    assert.is(forward.starts, 1);
  } finally {
    await forward.stop();
  }
});
life('a forward that dies is restarted on the next use', async () => {
  const children = new Children();
  const forward = forwardWith(children, 'forward');
  try {
    await forward.ensure();
    const pid = forward.pid!;
    process.kill(pid, 'SIGKILL');
    assert.ok(await allGone([pid]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await forward.ensure();
    assert.is(again.generation, 2);
    assert.is((await httpGet(`http://127.0.0.1:${again.port}/`, 2_000)).ok, true);
  } finally {
    await forward.stop();
  }
});
life('kubectl losing the pod (recorded "lost connection") is restarted as well', async () => {
  const children = new Children();
  const forward = forwardWith(children, 'forward-then-exit', { FAKE_KUBECTL_LIFETIME_MS: '200' });
  try {
    const first = await forward.ensure();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const second = await forward.ensure();
    assert.is.not(second.generation, first.generation);
  } finally {
    await forward.stop();
  }
});
life('invalidate() restarts only the forward the failure went through', async () => {
  const children = new Children();
  const forward = forwardWith(children, 'forward');
  try {
    const first = await forward.ensure();
    forward.invalidate(first.generation);
    const second = await forward.ensure();
    assert.is(second.generation, 2);
    forward.invalidate(first.generation); // a late report about the old forward
    assert.equal(await forward.ensure(), second);
  } finally {
    await forward.stop();
  }
});
life('kubectl exiting before forwarding fails with its own words', async () => {
  const children = new Children();
  const forward = forwardWith(children, 'fail', { FAKE_KUBECTL_STDERR: recorded('port-forward-no-service.stderr') });
  const error = await forward.ensure().catch((e: unknown) => e);
  assert.instance(error, ForwardError);
  assert.match(
    (error as Error).message,
    /svc\/runtime:8080: kubectl exited \(code 1\) before forwarding: Error from server \(NotFound\): services "nosuch" not found/,
  );
});
life('no "Forwarding from" line in time: fails, bounded, and kills kubectl', async () => {
  const children = new Children();
  const forward = forwardWith(children, 'silent', {}, 400);
  const started = performance.now();
  const error = await forward.ensure().catch((e: unknown) => e);
  assert.match((error as Error).message, /printed no "Forwarding from" line within 0s/);
  assert.ok(performance.now() - started < 2_000);
  assert.ok(await allGone(fake.pids()));
});
life('restarts are bounded', async () => {
  const children = new Children();
  const forward = forwardWith(children, 'forward', {}, 5_000, { maxStarts: 2 });
  try {
    for (let i = 0; i < 2; i++) forward.invalidate((await forward.ensure()).generation);
    const error = await forward.ensure().catch((e: unknown) => e);
    assert.match((error as Error).message, /port-forward to svc\/runtime:8080 failed 2 times/);
  } finally {
    await forward.stop();
  }
});
life("the run's Children stop every forward at once, and after an interrupt none starts again", async () => {
  const children = new Children();
  const interrupt = new AbortController();
  const forwards = [
    forwardWith(children, 'forward', {}, 5_000, { signal: interrupt.signal }),
    forwardWith(children, 'forward', {}, 5_000, { signal: interrupt.signal }),
  ];
  await Promise.all(forwards.map((f) => f.ensure()));
  const pids = forwards.map((f) => f.pid!);
  assert.is(children.size, 2);
  interrupt.abort();
  assert.is(children.killAll(), 2);
  assert.ok(await allGone(pids));
  const error = await forwards[0]!.ensure().catch((e: unknown) => e);
  assert.match((error as Error).message, /stopped/);
});
life('a script interrupted with SIGINT leaves no kubectl behind (the one interrupt path, in runMain)', async () => {
  // A real node process using the libraries the way scripts/smoke.mts does.
  const script = join(fake.dir, 'interrupted.mts');
  const lib = (path: string) => JSON.stringify(join(REPO_ROOT, 'lib', path));
  writeFileSync(
    script,
    `
    import { runMain } from ${lib('core/main.ts')};
    import { createSession } from ${lib('core/session.ts')};
    import { PortForward } from ${lib('tools/port-forward.ts')};
    await runMain(async (main) => {
      const session = createSession(main, false);
      const forwards = [1, 2, 3].map((i) => new PortForward('svc/x' + i, { start: (out) => session.runner.stream(${JSON.stringify(ARGV)}, out), signal: session.signal }));
      await Promise.all(forwards.map((f) => f.ensure()));
      process.stdout.write('ready ' + forwards.map((f) => f.pid).join(' ') + '\\n');
      await new Promise((resolve) => session.signal.addEventListener('abort', resolve));
    });
  `,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: fake.env('forward'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pids = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the interrupted script never got ready')), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /ready ([\d ]+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!.trim().split(' ').map(Number));
      }
    });
  });
  assert.is(pids.length, 3);
  assert.ok(pids.every(running));
  child.kill('SIGINT');
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.is(code, 130);
  assert.ok(await allGone(pids), `left running: ${pids.filter(running)}`);
});

parse.run();
life.run();
