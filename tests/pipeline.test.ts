import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { memoryOutput } from '../lib/core/output.ts';
import { InterruptedError } from '../lib/core/errors.ts';
import { DeadlineError, runPipeline, workSignal } from '../lib/core/pipeline.ts';
import { Redactor } from '../lib/core/redact.ts';
import type { Step } from '../lib/core/steps.ts';

const MAIN = ['preflight', 'build images', 'fresh cluster', 'bootstrap', 'smoke'];
const FINALLY = ['collect artifacts', 'teardown'];

function steps(failAt?: string, log: string[] = []): { main: Step<object>[]; final: Step<object>[] } {
  const make = (name: string): Step<object> => ({
    name,
    run: async () => {
      log.push(name);
      if (name === failAt) throw new Error(`${name} broke`);
      return undefined;
    },
  });
  return { main: MAIN.map(make), final: FINALLY.map(make) };
}

const pipeline = suite('pipeline: main steps, then finally');
for (const failAt of [undefined, ...MAIN]) {
  pipeline(
    `${failAt ? `"${failAt}" fails` : 'all pass'}: later steps skipped, artifacts and teardown still run`,
    async () => {
      const log: string[] = [];
      const { main, final } = steps(failAt, log);
      const result = await runPipeline(main, final, {}, memoryOutput(new Redactor()), { deadlineMs: 60_000 });
      const expectedMain = failAt ? MAIN.slice(0, MAIN.indexOf(failAt) + 1) : MAIN;
      assert.equal(log, [...expectedMain, ...FINALLY]);
      assert.is(result.failed?.step, failAt);
      assert.equal(
        result.records.map((r) => [r.name, r.ok]),
        [...expectedMain.map((n) => [n, n !== failAt]), ...FINALLY.map((n) => [n, true])],
      );
    },
  );
}
pipeline('a failing finally step does not skip the next one, and is reported', async () => {
  const log: string[] = [];
  const result = await runPipeline(
    [],
    [
      {
        name: 'collect artifacts',
        run: async () => {
          log.push('collect');
          throw new Error('disk full');
        },
      },
      {
        name: 'teardown',
        run: async () => {
          log.push('teardown');
        },
      },
    ],
    {},
    memoryOutput(new Redactor()),
    { deadlineMs: 1000 },
  );
  assert.equal(log, ['collect', 'teardown']);
  assert.equal(result.finallyFailed, ['collect artifacts']);
});
pipeline('the deadline abandons the running step and still runs the finally steps', async () => {
  const log: string[] = [];
  const started = Date.now();
  const result = await runPipeline(
    [
      { name: 'smoke', run: () => new Promise((resolve) => setTimeout(resolve, 10_000).unref()) },
      {
        name: 'never',
        run: async () => {
          log.push('never');
        },
      },
    ],
    [
      {
        name: 'teardown',
        run: async () => {
          log.push('teardown');
        },
      },
    ],
    {},
    memoryOutput(new Redactor()),
    { deadlineMs: 200 },
  );
  assert.ok(Date.now() - started < 2000);
  assert.instance(result.failed?.error, DeadlineError);
  assert.equal(log, ['teardown']);
});
pipeline('Ctrl-C (the abort signal) stops the run and still tears down', async () => {
  const controller = new AbortController();
  const log: string[] = [];
  setTimeout(() => controller.abort(new InterruptedError('SIGINT')), 100);
  const result = await runPipeline(
    [{ name: 'bootstrap', run: () => new Promise((resolve) => setTimeout(resolve, 10_000).unref()) }],
    [
      {
        name: 'teardown',
        run: async () => {
          log.push('teardown');
        },
      },
    ],
    {},
    memoryOutput(new Redactor()),
    { deadlineMs: 60_000, signal: controller.signal },
  );
  assert.instance(result.failed?.error, InterruptedError);
  assert.match((result.failed!.error as Error).message, /interrupted by SIGINT/);
  assert.equal(log, ['teardown']);
});
pipeline('the work signal aborts on Ctrl-C and at the deadline, so an abandoned step stops its own work', async () => {
  const interrupt = new AbortController();
  const work = workSignal(interrupt.signal, 60_000);
  interrupt.abort('SIGINT');
  assert.equal([work.signal.aborted, work.signal.reason], [true, 'SIGINT']);
  work.dispose();
  const late = workSignal(new AbortController().signal, 10);
  // The deadline timer is unref'd (it must not keep a finished run alive): a ref'd one waits here.
  await new Promise((resolve) => {
    late.signal.addEventListener('abort', resolve, { once: true });
    setTimeout(resolve, 2_000);
  });
  assert.instance(late.signal.reason, DeadlineError);
  late.dispose();
  // A deadline beyond what a timer can hold is refused, never armed (it would fire at once).
  assert.throws(() => workSignal(undefined, 600 * 3_600_000), /at most/);
  const disposed = workSignal(undefined, 10);
  disposed.dispose();
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.not.ok(disposed.signal.aborted, 'a disposed work signal still fired');
});
pipeline.run();
