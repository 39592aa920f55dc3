import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { loadConfig } from '../lib/config/load.ts';
import { REPO_ROOT } from '../lib/core/session.ts';

interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: Record<string, unknown>;
  jobs: Record<
    string,
    {
      'runs-on': string;
      if?: string;
      steps: {
        uses?: string;
        run?: string;
        if?: string;
        with?: Record<string, unknown>;
        env?: Record<string, string>;
      }[];
    }
  >;
}

const load = (name: string) => parse(readFileSync(join(REPO_ROOT, '.github/workflows', name), 'utf8')) as Workflow;
const runs = (w: Workflow) =>
  Object.values(w.jobs)
    .flatMap((job) => job.steps.map((step) => step.run ?? ''))
    .join('\n');

const workflows = suite('GitHub Actions workflows');
workflows('every workflow parses and has name, triggers and jobs with steps', () => {
  for (const file of ['nightly.yml', 'images.yml', 'ci.yml']) {
    const w = load(file);
    assert.ok(w.name && w.on && Object.keys(w.jobs).length, file);
    for (const job of Object.values(w.jobs)) assert.ok(job['runs-on'] && job.steps.length, file);
  }
});
workflows('every script and config a workflow runs exists', () => {
  for (const file of ['nightly.yml', 'images.yml', 'ci.yml']) {
    const text = runs(load(file));
    for (const [path] of text.matchAll(/(?:scripts|config)\/[\w.-]+\.(?:mts|ya?ml|sh)/g))
      assert.ok(existsSync(join(REPO_ROOT, path)), `${file} runs ${path}, which does not exist`);
    for (const [, script] of text.matchAll(/npm run ([\w:-]+)/g)) {
      const scripts = (
        JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
      ).scripts;
      assert.ok(scripts[script!], `${file} runs npm script ${script}, which package.json lacks`);
    }
  }
});
workflows('nightly: off-peak schedule plus manual runs, kind, Node 20, evidence uploaded always, a keep-alive', () => {
  const w = load('nightly.yml');
  const cron = (w.on.schedule as { cron: string }[])[0]!.cron;
  assert.is.not(cron.split(' ')[0], '0', 'not on the hour');
  assert.ok('workflow_dispatch' in w.on);
  const steps = w.jobs.nightly!.steps;
  assert.ok(steps.some((s) => s.uses?.startsWith('helm/kind-action')));
  assert.is(steps.find((s) => s.uses?.startsWith('actions/setup-node'))!.with!['node-version'], 20);
  assert.ok(steps.some((s) => s.run === 'npm ci'));
  assert.ok(steps.some((s) => s.run?.includes('scripts/nightly.mts')));
  const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
  assert.is(upload.if, 'always()');
  assert.is(w.permissions!.packages, 'write');
  assert.match(runs(w), /actions\/workflows\/nightly.yml\/enable/);
  assert.is(steps.find((s) => s.run?.includes('nightly.mts'))!.env!.GHCR_TOKEN, '${{ secrets.GITHUB_TOKEN }}');
});
workflows(
  'nightly: the history is restored before the run and saved after it whatever happened, at nightly.history',
  () => {
    const w = load('nightly.yml');
    const steps = w.jobs.nightly!.steps;
    const restoreAt = steps.findIndex((s) => s.uses?.startsWith('actions/cache/restore@'));
    const nightlyAt = steps.findIndex((s) => s.run?.includes('scripts/nightly.mts'));
    const saveAt = steps.findIndex((s) => s.uses?.startsWith('actions/cache/save@'));
    assert.ok(restoreAt >= 0 && saveAt >= 0, 'a cache restore and a cache save step');
    assert.ok(restoreAt < nightlyAt && nightlyAt < saveAt, 'restore, then the nightly, then save');
    const save = steps[saveAt]!;
    assert.is(save.if, 'always()', 'a failed nightly is history too: "repeated failure" needs it');
    // The same file the nightly appends to: nightly.history of the config the workflow passes.
    const configFile = /--config (\S+)/.exec(steps[nightlyAt]!.run!)![1]!;
    const { history } = loadConfig(join(REPO_ROOT, configFile)).nightly;
    const restoreWith = steps[restoreAt]!.with! as Record<string, string>;
    const saveWith = save.with! as Record<string, string>;
    assert.is(restoreWith.path, history);
    assert.is(saveWith.path, history);
    // Entries are immutable: a key of this run and attempt, under the prefix restore falls back to
    // (the newest entry that matches it).
    assert.match(saveWith.key!, /\$\{\{ github\.run_id \}\}/);
    assert.match(saveWith.key!, /\$\{\{ github\.run_attempt \}\}/);
    assert.ok(restoreWith['restore-keys'], 'restore falls back to a prefix');
    assert.ok(saveWith.key!.startsWith(restoreWith['restore-keys']!), 'what is saved is what the next run restores');
    // One nightly at a time, none cancelled: no two runs restore and save across each other.
    assert.equal(w.concurrency, { group: 'nightly', 'cancel-in-progress': false });
    // The uploaded evidence holds the history and each run's page.
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    assert.ok(history.startsWith(String(upload.with!.path)), `${history} is under the uploaded ${upload.with!.path}`);
  },
);
workflows('images: on pushes to main, pushes with packages: write and uploads the lock', () => {
  const w = load('images.yml');
  assert.equal((w.on.push as { branches: string[] }).branches, ['main']);
  assert.is(w.permissions!.packages, 'write');
  assert.ok(
    w.jobs.images!.steps.some(
      (s) => s.uses?.startsWith('actions/upload-artifact') && s.with!.path === 'images.lock.json',
    ),
  );
});
workflows('ci: pull requests run npm ci and npm test', () => {
  const w = load('ci.yml');
  assert.ok('pull_request' in w.on);
  assert.match(runs(w), /npm ci[\s\S]*npm test/);
});
workflows.run();

const cron = suite('nightly cron wrapper');
cron('a second nightly does not start while one holds the lock', async () => {
  const lock = join(mkdtempSync(join(tmpdir(), 'demon-cron-')), 'nightly.lock');
  // Hold the lock the way a running nightly does.
  // Its own process group: flock forks `sleep`, and killing flock alone would orphan it.
  const holder = spawn('flock', [lock, 'sleep', '30'], { stdio: 'ignore', detached: true });
  try {
    const started = Date.now();
    for (let i = 0; i < 50 && spawnSync('flock', ['--nonblock', lock, 'true']).status === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    const r = spawnSync(join(REPO_ROOT, 'scripts', 'nightly-cron.sh'), ['--help'], {
      env: { ...process.env, DEMON_NIGHTLY_LOCK: lock, DEMON_NIGHTLY_ENV: '/nonexistent' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.is(r.status, 0);
    assert.match(r.stderr, /another nightly holds .*nightly.lock; not starting a second one/);
    assert.ok(Date.now() - started < 10_000);
  } finally {
    process.kill(-holder.pid!, 'SIGKILL');
  }
});
cron('an env file others can read is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demon-cron-'));
  const envFile = join(dir, 'nightly.env');
  spawnSync('sh', ['-c', `echo 'export X=1' > ${envFile}; chmod 644 ${envFile}`]);
  const r = spawnSync(join(REPO_ROOT, 'scripts', 'nightly-cron.sh'), ['--help'], {
    env: { ...process.env, DEMON_NIGHTLY_LOCK: join(dir, 'lock'), DEMON_NIGHTLY_ENV: envFile },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.is(r.status, 2);
  assert.match(r.stderr, /is readable by others; run: chmod 600/);
});
cron.run();
