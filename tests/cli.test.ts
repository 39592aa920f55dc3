import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../lib/core/session.ts';
import { runScript } from './helpers/cli.ts';
import { fakeEnv } from './helpers/plan.ts';
import { loadConfig } from '../lib/config/load.ts';

const EVERYTHING = join(REPO_ROOT, 'tests/fixtures/valid-everything.yaml');
// A PATH holding node alone: no kubectl, kind or docker.
const NO_TOOLS = mkdtempSync(join(tmpdir(), 'demon-no-tools-'));
symlinkSync(process.execPath, join(NO_TOOLS, 'node'));

const cli = suite('cli: bootstrap.mts');
cli('--help prints usage and every option, exit 0', () => {
  const r = runScript('bootstrap.mts', ['--help']);
  assert.is(r.code, 0);
  assert.match(r.stdout, /Usage: npx tsx scripts\/bootstrap.mts/);
  for (const flag of ['--config FILE', '--dry-run', '--verbose', '--help']) assert.match(r.stdout, flag);
});
cli('an unknown flag is exit 2 with a suggestion', () => {
  const r = runScript('bootstrap.mts', ['--dry-runn']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /unknown option --dry-runn \(did you mean --dry-run\?\)/);
});
cli('a missing config file is exit 2 and names the flag to fix it', () => {
  const r = runScript('bootstrap.mts', ['--config', 'nope.yaml', '--dry-run']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /config file nope.yaml does not exist; pass an existing file with --config FILE/);
  assert.is(r.stdout, '');
});
cli('an invalid config is exit 2 with every problem listed', () => {
  const r = runScript('bootstrap.mts', ['--config', 'tests/fixtures/invalid-unknown-key.yaml']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /imgae: unknown key \(did you mean "image"\?\)/);
  assert.match(r.stderr, /nameSpace: unknown key/);
});
cli('--dry-run prints exactly the golden plan on stdout and status on stderr, with no tools on PATH', () => {
  const r = runScript('bootstrap.mts', ['--dry-run', '--no-lock'], { PATH: NO_TOOLS });
  assert.is(r.code, 0, r.stderr);
  assert.fixture(r.stdout, readFileSync(join(REPO_ROOT, 'tests/golden/default.yaml'), 'utf8'));
  assert.match(r.stderr, /dry run: 11 objects for namespace demon-system; nothing was contacted or changed/);
});
cli('--dry-run shows the digest-pinned references from the lock file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demon-cli-'));
  const digest = `sha256:${'d'.repeat(64)}`;
  const entry = {
    repository: 'ghcr.io/afewell-hh/demon-runtime',
    tags: ['sha-1234567', 'main'],
    digest,
    pinned: `ghcr.io/afewell-hh/demon-runtime@${digest}`,
    sourceCommit: '1234567890',
    builtAt: '2026-11-26T00:00:00Z',
    contentHash: 'sha256:x',
  };
  writeFileSync(join(dir, 'images.lock.json'), JSON.stringify({ version: 1, images: { runtime: entry } }));
  const r = runScript('bootstrap.mts', ['--dry-run', '--lock', join(dir, 'images.lock.json')], { PATH: NO_TOOLS });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, `image: ghcr.io/afewell-hh/demon-runtime@${digest}`);
  assert.match(r.stdout, 'image: ghcr.io/afewell-hh/demon-engine:main');
  assert.match(r.stderr, /pinned runtime from/);
  writeFileSync(join(dir, 'other.lock.json'), JSON.stringify({ version: 1, images: { worker: entry } }));
  const bad = runScript('bootstrap.mts', ['--dry-run', '--lock', join(dir, 'other.lock.json')], { PATH: NO_TOOLS });
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /pins "worker", which is not a component/);
});
cli('--dry-run reports every missing credential at once, exit 2, nothing on stdout', () => {
  const r = runScript('bootstrap.mts', ['--dry-run', '--config', EVERYTHING], { PATH: NO_TOOLS, GHCR_TOKEN: '' });
  assert.is(r.code, 2);
  assert.is(r.stdout, '');
  for (const name of [
    'DEMON_GITHUB_TOKEN',
    'GHCR_USERNAME',
    'DOCKERHUB_USERNAME',
    'DOCKERHUB_TOKEN',
    'GRAFANA_ADMIN_PASSWORD',
  ])
    assert.match(r.stderr, `${name} is not set`);
  assert.match(r.stderr, 'GHCR_TOKEN is empty');
});
cli('--dry-run with credentials never prints a secret value, on stdout or stderr', () => {
  const env = fakeEnv(loadConfig(EVERYTHING));
  const r = runScript('bootstrap.mts', ['--dry-run', '--config', EVERYTHING], { PATH: NO_TOOLS, ...env });
  assert.is(r.code, 0, r.stderr);
  for (const value of Object.values(env).filter((v) => !/username/.test(v))) {
    assert.not.match(r.stdout + r.stderr, value);
    assert.not.match(r.stdout + r.stderr, Buffer.from(value).toString('base64'));
  }
  assert.not.match(r.stdout, 'fixture-signing-key-not-real');
  assert.match(r.stdout, /\.dockerconfigjson: "\*\*\*"/);
});
cli('under GitHub Actions every secret is announced with ::add-mask:: on stderr, never on stdout', () => {
  const env = fakeEnv(loadConfig(EVERYTHING));
  const r = runScript('bootstrap.mts', ['--dry-run', '--config', EVERYTHING], {
    PATH: NO_TOOLS,
    GITHUB_ACTIONS: 'true',
    ...env,
  });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, `::add-mask::${env.GHCR_TOKEN}`);
  assert.not.match(r.stdout, '::add-mask::');
});
cli('a missing tool is exit 2 with an install hint, before anything is touched', () => {
  const config = join(mkdtempSync(join(tmpdir(), 'demon-cli-')), 'existing.yaml');
  writeFileSync(config, 'cluster: { provider: existing, context: prod }\n');
  const r = runScript('bootstrap.mts', ['--config', config], { PATH: NO_TOOLS });
  assert.is(r.code, 2);
  assert.match(r.stderr, /✗ preflight/);
  assert.match(r.stderr, /kubectl is not on PATH; install kubectl: https:\/\/kubernetes.io\/docs\/tasks\/tools\//);
});
cli('kind needs kind and docker too: all missing tools are named at once', () => {
  const r = runScript('bootstrap.mts', [], { PATH: NO_TOOLS });
  assert.is(r.code, 2);
  for (const tool of ['kubectl', 'kind', 'docker']) assert.match(r.stderr, `${tool} is not on PATH`);
});
cli('an unreachable cluster is exit 1 and names the context', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demon-cli-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: nowhere',
      'clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]',
      'users: [{name: nobody, user: {token: not-a-real-token}}]',
      'contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'demon.yaml'),
    `cluster: { provider: existing, context: nowhere, kubeconfig: ${kubeconfig} }\n`,
  );
  const r = runScript('bootstrap.mts', ['--config', join(dir, 'demon.yaml')]);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /✓ preflight/);
  assert.match(r.stderr, /✗ apply/); // the first step that talks to the cluster
  assert.match(
    r.stderr,
    /cannot reach the cluster of context "nowhere" in .*kubeconfig: .*127.0.0.1:1.*connection refused/,
  );
  assert.ok(r.stderr.split('\n').length < 12, `a short error, not kubectl's every retry:\n${r.stderr}`);
});
cli.run();

const schemaCli = suite('cli: schema.mts takes the flags every script takes');
schemaCli('--config is validated, not ignored; --verbose says what was generated; --check passes', () => {
  const ok = runScript('schema.mts', ['--check', '--config', 'config/demon.yaml', '--verbose']);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, 'config/demon.yaml: valid');
  assert.match(ok.stderr, /demon\.schema\.json: \d+ bytes generated/);
  assert.match(ok.stderr, 'config/demon.schema.json: unchanged');
  const bad = runScript('schema.mts', ['--check', '--config', 'tests/fixtures/invalid-unknown-key.yaml']);
  assert.is(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /invalid-unknown-key\.yaml:6:5 components\[0\]\.imgae: unknown key/);
});
schemaCli.run();
