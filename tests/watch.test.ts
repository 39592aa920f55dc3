/**
 * The watch-driven wait: recorded `kubectl get <type> --watch --output-watch-events -o json`
 * streams from a real bootstrap (tests/fixtures/recorded/watch-bootstrap.jsonl, the three
 * streams merged in resourceVersion order) are replayed event by event through a runner that
 * can stream; after its first look (one poll) the wait must follow them without polling, not
 * finish early, and fall back to polling when a stream ends.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunOptions, RunResult, Runner } from '../lib/core/exec.ts';
import type { StreamHandle } from '../lib/core/stream.ts';
import { JsonObjectSplitter } from '../lib/wait/json-stream.ts';
import { Kubectl } from '../lib/tools/kubectl.ts';
import type { Snapshot } from '../lib/wait/podstatus.ts';
import { waitForWorkloads } from '../lib/wait/wait.ts';
import { WorkloadWatch } from '../lib/wait/watch.ts';
import { recorded } from './helpers/fake-runner.ts';

const EVENTS = recorded('watch-bootstrap.jsonl')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as { stream: string; event: unknown });
const EXPECTED = [
  { kind: 'StatefulSet' as const, name: 'nats' },
  ...['runtime', 'engine', 'operate-ui'].map((name) => ({ kind: 'Deployment' as const, name })),
];
const OPTIONS = { timeoutMs: 60_000, pullGraceMs: 30_000, readinessGraceMs: 30_000 };
/** The first look, right after the apply in the recorded run: nothing of the stack yet. */
const NOTHING_YET = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [] });
const READY = recorded('wait-snapshot-ready.json');

/** A runner whose `get --watch` streams the test feeds by hand; every exec is recorded. */
class StreamingRunner implements Runner {
  readonly execs: string[][] = [];
  readonly streams = new Map<
    string,
    { feed: (chunk: string) => void; exit: (code: number, stderr: string) => void; stopped: boolean }
  >();
  readonly argvs: string[][] = [];
  /** `polls`: the stdout of each `kubectl get` poll in turn; a poll beyond them fails the wait. */
  constructor(private readonly polls: string[] = [NOTHING_YET]) {}
  async exec(argv: string[], _options?: RunOptions): Promise<RunResult> {
    const stdout = this.polls[this.execs.length];
    this.execs.push(argv);
    return {
      argv,
      exitCode: stdout === undefined ? 1 : 0,
      stdout: stdout ?? '',
      stderr: stdout === undefined ? 'no more polls expected' : '',
      durationMs: 1,
      timedOut: false,
    };
  }
  stream(argv: string[], onStdout: (chunk: string) => void): StreamHandle {
    this.argvs.push(argv);
    const resource = argv[argv.indexOf('get') + 1]!;
    type Exit = { exitCode: number | null; signal: NodeJS.Signals | null; stderr: string };
    let exit!: (result: Exit) => void;
    const exited = new Promise<Exit>((resolve) => (exit = resolve));
    const entry = {
      feed: onStdout,
      exit: (code: number, stderr: string) => exit({ exitCode: code, signal: null, stderr }),
      stopped: false,
    };
    this.streams.set(resource, entry);
    return { pid: undefined, exited, stop: () => void (entry.stopped = true), serving: () => {} };
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

const split = suite('watch: splitting the stream');
split('whole objects whatever the chunk boundaries, braces inside strings ignored', () => {
  const text =
    '{"type":"ADDED","object":{"metadata":{"name":"a"},"data":{"x":"}{\\"}"}}}\n{\n  "type": "DELETED",\n  "object": {"metadata": {"name": "b"}}\n}\n';
  for (const size of [1, 2, 7, text.length]) {
    const splitter = new JsonObjectSplitter();
    const objects: unknown[] = [];
    for (let i = 0; i < text.length; i += size) objects.push(...splitter.push(text.slice(i, i + size)));
    assert.equal(
      objects,
      [
        { type: 'ADDED', object: { metadata: { name: 'a' }, data: { x: '}{"}' } } },
        { type: 'DELETED', object: { metadata: { name: 'b' } } },
      ],
      `chunks of ${size}`,
    );
  }
});
split(
  'an escaped backslash before a closing quote; text between objects is an error, and the splitter starts afresh after it',
  () => {
    const splitter = new JsonObjectSplitter();
    assert.equal(splitter.push('{"a":"x\\\\"}{"b":"}\\""}'), [{ a: 'x\\' }, { b: '}"' }]);
    assert.throws(() => splitter.push('{"c":1} Error: oops {"d":2}'), /unexpected "Error: oops/);
    assert.equal(splitter.push('{"e":3}'), [{ e: 3 }]);
    assert.throws(() => new JsonObjectSplitter().push('{"x": nope}'), /JSON/);
  },
);
split.run();

const watched = suite('wait: following watch streams');
watched('the recorded bootstrap: one look, then ready after the last streamed event, never before', async () => {
  const runner = new StreamingRunner();
  const kubectl = new Kubectl(runner, { context: 'demon-e2e' });
  let result: string | undefined;
  const waiting = waitForWorkloads(kubectl, 'rec', EXPECTED, OPTIONS).then((r) => (result = r));
  await tick();
  assert.equal([...runner.streams.keys()], ['deployments', 'statefulsets', 'pods']);
  // kubectl ends the watch by itself a little after the wait's own timeout.
  assert.ok(
    runner.argvs.every((argv) => argv.includes('--request-timeout=90s')),
    runner.argvs.map((a) => a.join(' ')).join('\n'),
  );
  for (const [i, { stream, event }] of EVENTS.entries()) {
    assert.is(result, undefined, `ready before event ${i} of ${EVENTS.length}`);
    runner.streams.get(stream)!.feed(`${JSON.stringify(event)}\n`);
    await tick();
  }
  await waiting;
  assert.is(result, '4 workloads ready');
  assert.is(runner.execs.length, 1, 'polled besides the streams');
  assert.ok(
    [...runner.streams.values()].every((s) => s.stopped),
    'the streams were left running',
  );
});

watched('a stream that ends (here: RBAC forbids watch) falls back to polling, and says so', async () => {
  const runner = new StreamingRunner([NOTHING_YET, READY]);
  const progress: string[] = [];
  const waiting = waitForWorkloads(new Kubectl(runner, { context: 'demon-e2e' }), 'demon-manual', EXPECTED, {
    ...OPTIONS,
    onProgress: (text) => progress.push(text),
  });
  await tick();
  runner.streams
    .get('pods')!
    .exit(
      1,
      'Error from server (Forbidden): pods is forbidden: User "ci" cannot watch resource "pods" in API group "" in the namespace "demon-manual"',
    );
  assert.is(await waiting, '4 workloads ready');
  assert.is(runner.execs.length, 2);
  assert.equal(runner.execs[1]!.slice(3, 5), ['get', 'deployments,statefulsets,pods']);
  assert.match(
    progress.join('\n'),
    /the pods watch ended \(kubectl exited 1: Error from server \(Forbidden\): pods is forbidden.*\); polling instead/,
  );
});

watched('ready at the first look (an unchanged re-run): one poll and no stream started', async () => {
  const runner = new StreamingRunner([READY]);
  assert.is(
    await waitForWorkloads(new Kubectl(runner, { context: 'demon-e2e' }), 'demon-manual', EXPECTED, OPTIONS),
    '4 workloads ready',
  );
  assert.equal([runner.execs.length, runner.streams.size], [1, 0]);
});

watched('Ctrl-C (the signal aborting) ends the wait at once and stops its streams', async () => {
  const runner = new StreamingRunner();
  const controller = new AbortController();
  let error: Error | undefined;
  const waiting = waitForWorkloads(new Kubectl(runner, { context: 'demon-e2e' }), 'rec', EXPECTED, {
    ...OPTIONS,
    signal: controller.signal,
  }).catch((e: Error) => (error = e));
  await tick();
  controller.abort(new Error('interrupted (SIGINT)'));
  // Without the wake-up it would sit in its one-second recheck; a few turns of the loop suffice.
  for (let i = 0; i < 5 && !error; i++) await tick();
  assert.match(error?.message ?? 'still waiting after the abort', /interrupted \(SIGINT\)/);
  await waiting;
  assert.ok(
    [...runner.streams.values()].every((s) => s.stopped),
    'the streams were left running',
  );
  assert.equal([runner.streams.size, runner.execs.length], [3, 1]);
});

watched(
  "while a type's initial list may still be arriving, what the poll saw of it stays (no finding vanishes and restarts its grace)",
  () => {
    const runner = new StreamingRunner();
    const watch = WorkloadWatch.start(
      new Kubectl(runner, { context: 'demon-e2e' }),
      'rec',
      'app.kubernetes.io/part-of=demon',
      60_000,
    )!;
    const base = JSON.parse(recorded('wait-snapshot-failures.json')) as {
      items: { kind: string; metadata: { name: string } }[];
    };
    const polled = {
      workloads: base.items.filter((i) => i.kind !== 'Pod'),
      pods: base.items.filter((i) => i.kind === 'Pod'),
    } as Snapshot;
    const names = (snapshot: Snapshot) => snapshot.workloads.map((w) => w.metadata.name).sort();
    const [first, second] = polled.workloads.filter((w) => w.kind === 'Deployment');
    // The deployments stream prints one of the polled deployments, then deletes another.
    runner.streams.get('deployments')!.feed(JSON.stringify({ type: 'ADDED', object: first }));
    runner.streams.get('deployments')!.feed(JSON.stringify({ type: 'DELETED', object: second }));
    const early = watch.snapshot(polled);
    assert.equal(
      names(early),
      names(polled).filter((name) => name !== second!.metadata.name),
    );
    assert.is(early.pods.length, polled.pods.length, "pods: no stream output yet, so the poll's");
    const settled = watch.snapshot(polled, Date.now() + 2_000);
    assert.equal(names(settled), [first!.metadata.name]);
    assert.is(settled.pods.length, polled.pods.length);
    assert.ok(polled.pods.length > 0 && polled.workloads.length > 2);
    watch.stop();
  },
);

watched('an ERROR event or output that is not an event ends the watch: the wait must poll', () => {
  for (const output of [
    '{"type":"ERROR","object":{"kind":"Status","message":"too old resource version: 1 (2)"}}',
    'W1126 12:00:00 "warning" on stdout\n',
  ]) {
    const runner = new StreamingRunner();
    const watch = WorkloadWatch.start(
      new Kubectl(runner, { context: 'demon-e2e' }),
      'rec',
      'app.kubernetes.io/part-of=demon',
      60_000,
    )!;
    runner.streams.get('pods')!.feed(output);
    assert.match(
      watch.ended ?? 'not ended',
      /API server ended a watch: too old resource version|pods watch printed something that is not a watch event \(unexpected "W1126/,
    );
    assert.ok(
      [...runner.streams.values()].every((s) => s.stopped),
      'the other streams were left running',
    );
  }
});

watched('a runner that cannot stream polls, as before', async () => {
  const runner = new StreamingRunner([NOTHING_YET, READY]);
  const plain: Runner = { exec: (argv, options) => runner.exec(argv, options) };
  assert.is(
    await waitForWorkloads(new Kubectl(plain, { context: 'demon-e2e' }), 'demon-manual', EXPECTED, {
      ...OPTIONS,
      intervalMs: 1,
    }),
    '4 workloads ready',
  );
  assert.is(runner.execs.length, 2);
});
watched.run();
