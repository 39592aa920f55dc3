/**
 * The watch-driven wait: recorded `kubectl get <type> --watch --output-watch-events -o json`
 * streams from a real bootstrap (tests/fixtures/recorded/watch-bootstrap.jsonl, the three
 * streams merged in resourceVersion order) are replayed event by event through a runner that
 * can stream; the wait must follow them without a single poll, not finish early, and fall back
 * to polling when a stream ends.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunOptions, RunResult, Runner, StreamHandle } from '../lib/exec.ts';
import { JsonObjectSplitter } from '../lib/json-stream.ts';
import { Kubectl } from '../lib/kubectl.ts';
import { waitForWorkloads } from '../lib/wait.ts';
import { recorded } from './helpers/fake-runner.ts';

const EVENTS = recorded('watch-bootstrap.jsonl').trim().split('\n').map((line) => JSON.parse(line) as { stream: string; event: unknown });
const EXPECTED = [{ kind: 'StatefulSet' as const, name: 'nats' }, ...['runtime', 'engine', 'operate-ui'].map((name) => ({ kind: 'Deployment' as const, name }))];
const OPTIONS = { timeoutMs: 60_000, pullGraceMs: 30_000, readinessGraceMs: 30_000 };

/** A runner whose `get --watch` streams the test feeds by hand; every exec is recorded. */
class StreamingRunner implements Runner {
  readonly execs: string[][] = [];
  readonly streams = new Map<string, { feed: (chunk: string) => void; exit: (code: number, stderr: string) => void; stopped: boolean }>();
  readonly argvs: string[][] = [];
  constructor(private readonly execReply: (argv: string[]) => Partial<RunResult> = () => ({ exitCode: 1, stderr: 'no polls expected' })) {}
  async exec(argv: string[], _options?: RunOptions): Promise<RunResult> {
    this.execs.push(argv);
    return { argv, exitCode: 0, stdout: '', stderr: '', durationMs: 1, timedOut: false, ...this.execReply(argv) };
  }
  stream(argv: string[], onStdout: (chunk: string) => void): StreamHandle {
    this.argvs.push(argv);
    const resource = argv[argv.indexOf('get') + 1]!;
    let exit!: (result: { exitCode: number | null; stderr: string }) => void;
    const exited = new Promise<{ exitCode: number | null; stderr: string }>((resolve) => (exit = resolve));
    const entry = { feed: onStdout, exit: (code: number, stderr: string) => exit({ exitCode: code, stderr }), stopped: false };
    this.streams.set(resource, entry);
    return { exited, stop: () => void (entry.stopped = true) };
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

const split = suite('watch: splitting the stream');
split('whole objects whatever the chunk boundaries, braces inside strings ignored', () => {
  const text = '{"type":"ADDED","object":{"metadata":{"name":"a"},"data":{"x":"}{\\"}"}}}\n{\n  "type": "DELETED",\n  "object": {"metadata": {"name": "b"}}\n}\n';
  for (const size of [1, 2, 7, text.length]) {
    const splitter = new JsonObjectSplitter();
    const objects: unknown[] = [];
    for (let i = 0; i < text.length; i += size) objects.push(...splitter.push(text.slice(i, i + size)));
    assert.equal(objects, [{ type: 'ADDED', object: { metadata: { name: 'a' }, data: { x: '}{"}' } } }, { type: 'DELETED', object: { metadata: { name: 'b' } } }], `chunks of ${size}`);
  }
});
split.run();

const watched = suite('wait: following watch streams');
watched('the recorded bootstrap: ready after the last event, never before, and not one poll', async () => {
  const runner = new StreamingRunner();
  const kubectl = new Kubectl(runner, { context: 'demon-e2e' });
  let result: string | undefined;
  const waiting = waitForWorkloads(kubectl, 'rec', EXPECTED, OPTIONS).then((r) => (result = r));
  await tick();
  assert.equal([...runner.streams.keys()], ['deployments', 'statefulsets', 'pods']);
  // kubectl ends the watch by itself a little after the wait's own timeout.
  assert.ok(runner.argvs.every((argv) => argv.includes('--request-timeout=90s')), runner.argvs.map((a) => a.join(' ')).join('\n'));
  for (const [i, { stream, event }] of EVENTS.entries()) {
    assert.is(result, undefined, `ready before event ${i} of ${EVENTS.length}`);
    runner.streams.get(stream)!.feed(`${JSON.stringify(event)}\n`);
    await tick();
  }
  await waiting;
  assert.is(result, '4 workloads ready');
  assert.equal(runner.execs, []);
  assert.ok([...runner.streams.values()].every((s) => s.stopped), 'the streams were left running');
});

watched('a stream that ends (here: RBAC forbids watch) falls back to polling, and says so', async () => {
  const ready = recorded('wait-snapshot-ready.json');
  const runner = new StreamingRunner(() => ({ stdout: ready }));
  const progress: string[] = [];
  const waiting = waitForWorkloads(new Kubectl(runner, { context: 'demon-e2e' }), 'demon-manual', EXPECTED, { ...OPTIONS, onProgress: (text) => progress.push(text) });
  await tick();
  runner.streams.get('pods')!.exit(1, 'Error from server (Forbidden): pods is forbidden: User "ci" cannot watch resource "pods" in API group "" in the namespace "demon-manual"');
  assert.is(await waiting, '4 workloads ready');
  assert.is(runner.execs.length, 1);
  assert.equal(runner.execs[0]!.slice(3, 5), ['get', 'deployments,statefulsets,pods']);
  assert.match(progress.join('\n'), /the pods watch ended \(kubectl exited 1: Error from server \(Forbidden\): pods is forbidden.*\); polling instead/);
});

watched('Ctrl-C (the signal aborting) ends the wait at once and stops its streams', async () => {
  const runner = new StreamingRunner();
  const controller = new AbortController();
  let error: Error | undefined;
  const waiting = waitForWorkloads(new Kubectl(runner, { context: 'demon-e2e' }), 'rec', EXPECTED, { ...OPTIONS, signal: controller.signal }).catch((e: Error) => (error = e));
  await tick();
  controller.abort(new Error('interrupted (SIGINT)'));
  // Without the wake-up it would sit in its one-second recheck; a few turns of the loop suffice.
  for (let i = 0; i < 5 && !error; i++) await tick();
  assert.match(error?.message ?? 'still waiting after the abort', /interrupted \(SIGINT\)/);
  await waiting;
  assert.ok([...runner.streams.values()].every((s) => s.stopped), 'the streams were left running');
  assert.ok(runner.streams.get('pods') && runner.execs.length === 0);
});

watched('a runner that cannot stream polls, as before', async () => {
  const runner = new StreamingRunner(() => ({ stdout: recorded('wait-snapshot-ready.json') }));
  const plain: Runner = { exec: (argv, options) => runner.exec(argv, options) };
  assert.is(await waitForWorkloads(new Kubectl(plain, { context: 'demon-e2e' }), 'demon-manual', EXPECTED, OPTIONS), '4 workloads ready');
  assert.is(runner.execs.length, 1);
});
watched.run();
