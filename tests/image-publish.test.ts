/**
 * The pipelined build -> push -> verify chain (lib/images/publish.ts) with a runner whose
 * commands take real time, and a loopback HTTP server standing in for the registry's manifest
 * HEAD: each image keeps its own order, builds and pushes keep their bounds, an image pushes
 * while the next builds, and a failure starts nothing new.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfig } from '../lib/config/load.ts';
import type { RunOptions, RunResult, Runner } from '../lib/core/exec.ts';
import { imageJobs, tagsFor, type ImageJob } from '../lib/images/jobs.ts';
import { publish, type Publisher } from '../lib/images/publish.ts';
import { limiter } from '../lib/core/pool.ts';
import { Redactor } from '../lib/core/redact.ts';
import { recorded } from './helpers/fake-runner.ts';

interface Span {
  what: string;
  component: string;
  start: number;
  end: number;
}

/** A runner where `docker build` and `docker push` take `ms` each, recording when they ran. */
class TimedRunner implements Runner {
  readonly spans: Span[] = [];
  private clock = 0;
  constructor(
    private readonly ms: number,
    private readonly failBuildOf?: string,
    private readonly failPushOf?: string,
    private readonly slowBuildOf?: string,
  ) {}
  async exec(argv: string[], _options?: RunOptions): Promise<RunResult> {
    const what = argv[1]!;
    const ref = what === 'push' ? argv[2]! : argv[argv.indexOf('--tag') + 1]!;
    const component = ref.split('/').pop()!.split(':')[0]!;
    const span = {
      what: what === 'push' ? `push ${ref.split(':').pop()}` : what,
      component,
      start: ++this.clock,
      end: 0,
    };
    this.spans.push(span);
    await new Promise((resolve) =>
      setTimeout(resolve, what === 'build' && component === this.slowBuildOf ? this.ms * 4 : this.ms),
    );
    span.end = ++this.clock;
    if (what === 'push' && component === this.failPushOf) {
      return {
        argv,
        exitCode: 1,
        stdout: recorded('docker-push-unauthorized.stdout'),
        stderr: recorded('docker-push-unauthorized.stderr'),
        durationMs: this.ms,
        timedOut: false,
      };
    }
    const failed =
      what === 'build' && (component === this.failBuildOf || (this.failBuildOf === '*' && component !== 'runtime'));
    // Each component's digest is its name, padded; the push output is a recorded real one.
    const digest = `sha256:${Buffer.from(component).toString('hex').padEnd(64, '0')}`;
    const stdout =
      what === 'push'
        ? recorded('docker-push.stdout').replace(
            /sha-1234567: digest: sha256:[a-f0-9]{64}/,
            `${ref.split(':').pop()}: digest: ${digest}`,
          )
        : 'Step 1/3 : FROM scratch\n';
    return {
      argv,
      exitCode: failed ? 1 : 0,
      stdout,
      stderr: failed ? 'COPY failed: file not found in build context' : '',
      durationMs: this.ms,
      timedOut: false,
    };
  }
}

let server: Server;
let registry = '';
const heads: string[] = [];

/** Three jobs and a publisher over `runner`: what build-images hands to publish(). */
function context(runner: Runner, parallelism = 2): { jobs: ImageJob[]; publisher: Publisher } {
  const config = parseConfig({
    components: ['runtime', 'engine', 'operate-ui'].map((name, i) => ({
      name,
      image: `${registry}/demon/${name}:main`,
      port: 8080 + i,
      build: { dockerfile: `${name}/Dockerfile` },
    })),
    build: { source: '/src', parallelism },
  });
  const revision = { commit: 'abcdef0123456789', short: 'abcdef0', branch: 'main' };
  const publisher: Publisher = {
    runner,
    redactor: new Redactor(),
    refsOf: (job) => tagsFor(revision, false).map((tag) => `${job.repository}:${tag}`),
    credentialsFor: () => undefined,
    parallelism,
  };
  return { jobs: imageJobs(config, '/src/config/demon.yaml'), publisher };
}
const publishAll = ({ jobs, publisher }: ReturnType<typeof context>) => publish(jobs, publisher);

const running = (spans: Span[], what: (s: Span) => boolean) =>
  Math.max(
    ...spans.filter(what).map((s) => spans.filter((o) => what(o) && o.start <= s.start && s.start < o.end).length),
  );

const pipeline = suite('images: build -> push -> verify, pipelined');
pipeline.before(async () => {
  server = createServer((request, response) => {
    heads.push(`${request.method} ${request.url}`);
    response.writeHead(200, { 'docker-content-digest': request.url!.split('/').pop()! }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
pipeline.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

pipeline(
  'each image: build, then its first tag, then the other tags; each digest verified in the registry',
  async () => {
    const runner = new TimedRunner(20);
    const digests = await publishAll(context(runner));
    for (const component of ['runtime', 'engine', 'operate-ui']) {
      const mine = runner.spans.filter((s) => s.component === component);
      assert.equal(
        mine.map((s) => s.what),
        ['build', 'push sha-abcdef0', 'push main'],
        component,
      );
      assert.ok(mine[0]!.end < mine[1]!.start && mine[1]!.end < mine[2]!.start, `${component} ran out of order`);
      assert.ok(
        heads.includes(`HEAD /v2/demon/${component}/manifests/${digests.get(component)}`),
        `${component}'s digest was not checked`,
      );
    }
    assert.is(digests.get('engine'), `sha256:${Buffer.from('engine').toString('hex').padEnd(64, '0')}`);
  },
);

pipeline(
  'at most build.parallelism builds and pushes at once, and an image pushes while the next one builds',
  async () => {
    const runner = new TimedRunner(20);
    await publishAll(context(runner, 2));
    assert.is(
      running(runner.spans, (s) => s.what === 'build'),
      2,
    );
    assert.ok(running(runner.spans, (s) => s.what.startsWith('push')) <= 2);
    const third = runner.spans.find((s) => s.what === 'build' && s.component === 'operate-ui')!;
    assert.ok(
      runner.spans.some((s) => s.what.startsWith('push') && s.start < third.end && third.start < s.end),
      'no push overlapped the third build',
    );
    const serial = new TimedRunner(5);
    await publishAll(context(serial, 1));
    assert.is(
      running(serial.spans, () => true),
      2,
      'with parallelism 1, one build and one push at most',
    );
  },
);

pipeline('a failing build names the image; no image starts after it and nothing is pushed', async () => {
  const runner = new TimedRunner(20, 'runtime');
  try {
    await publishAll(context(runner, 2));
    assert.unreachable('publish should have failed');
  } catch (error) {
    assert.match((error as Error).message, /^building runtime failed \(\/src\/runtime\/Dockerfile, exit 1\)/);
    assert.match((error as Error).message, /COPY failed: file not found in build context/);
  }
  assert.equal(
    runner.spans.map((s) => `${s.what} ${s.component}`),
    ['build runtime', 'build engine'],
  );
});
pipeline('a rejected push gives the registry verdict for that image; its other tags are not pushed', async () => {
  const runner = new TimedRunner(10, undefined, 'engine');
  const error = await publishAll(context(runner)).catch((e: Error) => e);
  assert.match((error as Error).message, /^pushing engine: 401 Unauthorized/);
  assert.not.ok(runner.spans.some((s) => s.component === 'engine' && s.what === 'push main'));
});

pipeline('of two failures, the first to happen is reported', async () => {
  // engine and operate-ui both fail; engine's build is slow, so operate-ui's failure comes first.
  const runner = new TimedRunner(10, '*', undefined, 'engine');
  const error = await publishAll(context(runner, 3)).catch((e: Error) => e);
  assert.match((error as Error).message, /^building operate-ui failed/);
});
pipeline.run();

const pool = suite('pool: limiter');
pool('never runs more than its size, and hands each freed slot to the longest waiter', async () => {
  const limit = limiter(2);
  let now = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all(
    [0, 1, 2, 3, 4].map((i) =>
      limit(async () => {
        peak = Math.max(peak, ++now);
        order.push(i);
        await new Promise((resolve) => setTimeout(resolve, 5));
        now--;
      }),
    ),
  );
  assert.is(peak, 2);
  assert.equal(order, [0, 1, 2, 3, 4]);
});
pool('never more than its size, with callers arriving at every moment, finishing ones included', async () => {
  const limit = limiter(3);
  let now = 0;
  let peak = 0;
  let done = 0;
  const all: Promise<void>[] = [];
  const task = (depth: number): Promise<void> =>
    limit(async () => {
      peak = Math.max(peak, ++now);
      // Some finish at once, some after a macrotask; some start another caller as they end.
      if (depth % 2) await new Promise((resolve) => setImmediate(resolve));
      else await Promise.resolve();
      now--;
      done++;
      if (depth < 3) all.push(task(depth + 1));
    });
  for (let i = 0; i < 40; i++) {
    all.push(task(0));
    if (i % 5 === 0) await Promise.resolve();
  }
  while (done < all.length) await Promise.all([...all]);
  assert.is(peak, 3);
  assert.is(done, 160);
});
pool.run();
