import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bootstrapContext, bootstrapSteps } from '../lib/bootstrap/steps.ts';
import { loadConfig, parseConfig } from '../lib/config/load.ts';
import { CommandError } from '../lib/core/exec.ts';
import { toYaml, type K8sObject } from '../lib/render/manifests.ts';
import { buildPlan, planInputs } from '../lib/render/plan.ts';
import { Redactor } from '../lib/core/redact.ts';
import { buildSecrets, dockerConfigJson } from '../lib/render/secrets.ts';
import { REPO_ROOT, TEMPLATES_DIR } from '../lib/core/session.ts';
import { runSteps } from '../lib/core/steps.ts';
import { secretConsumers } from '../lib/render/consumers.ts';
import { FakeRunner, recorded } from './helpers/fake-runner.ts';
import { testSession } from './helpers/session.ts';
import { planFor } from './helpers/plan.ts';

const EVERYTHING = join(REPO_ROOT, 'tests/fixtures/valid-everything.yaml');
const decode = (secret: K8sObject, key: string) =>
  Buffer.from((secret.data as Record<string, string>)[key]!, 'base64').toString();

const documents = suite('secrets: the documents');
documents('exact Secret documents for the everything config, with fake values (golden)', () => {
  const { plan } = planFor(EVERYTHING);
  const file = join(REPO_ROOT, 'tests/golden/secrets-everything.yaml');
  const yaml = toYaml(plan.secrets);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, yaml);
  assert.fixture(yaml, readFileSync(file, 'utf8'));
});
documents('dockerconfigjson decodes to the auths docker and the kubelet expect, per registry kind', () => {
  for (const server of ['ghcr.io', 'https://index.docker.io/v1/', '127.0.0.1:5001']) {
    const json = JSON.parse(dockerConfigJson(server, 'bot', 's3cret')) as {
      auths: Record<string, { username: string; password: string; auth: string }>;
    };
    assert.equal(Object.keys(json.auths), [server]);
    assert.equal(json.auths[server], {
      username: 'bot',
      password: 's3cret',
      auth: Buffer.from('bot:s3cret').toString('base64'),
    });
  }
  const { plan, env } = planFor(EVERYTHING);
  const dockerhub = plan.secrets.find((s) => s.metadata.name === 'demon-pull-dockerhub')!;
  assert.is(dockerhub.type, 'kubernetes.io/dockerconfigjson');
  assert.equal(
    JSON.parse(decode(dockerhub, '.dockerconfigjson')).auths['https://index.docker.io/v1/'].password,
    env.DOCKERHUB_TOKEN,
  );
});
documents("app Secret values come from env vars and files; Grafana's password from its env var", () => {
  const { plan, env } = planFor(EVERYTHING);
  const app = plan.secrets.find((s) => s.metadata.name === 'demon-secrets')!;
  assert.is(decode(app, 'GITHUB_TOKEN'), env.DEMON_GITHUB_TOKEN);
  assert.is(decode(app, 'signing.key'), 'fixture-signing-key-not-real');
  assert.is(
    decode(
      plan.secrets.find((s) => s.metadata.name === 'grafana-admin')!,
      'admin-password',
    ),
    env.GRAFANA_ADMIN_PASSWORD,
  );
  for (const secret of plan.secrets)
    assert.is(secret.metadata.labels!['app.kubernetes.io/managed-by'], 'demon-bootstrap');
});
documents.run();

const inputs = suite('secrets: bad sources');
const config = parseConfig({ secrets: { data: { TOKEN: 'DEMON_TOKEN', key: { file: 'key.txt' } } } });
const sources = (dir: string, env: Record<string, string>) => ({
  env,
  baseDir: dir,
  readFile: (p: string) => readFileSync(p, 'utf8'),
  fileMode: (p: string) => 0o100644 & (p.endsWith('key.txt') ? 0o777 : 0),
});
inputs('a missing file and an empty env var are both reported, nothing built', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demon-secrets-'));
  assert.throws(
    () => buildSecrets(config, sources(dir, { DEMON_TOKEN: '' }), new Redactor()),
    (e: Error & { problems?: string[] }) =>
      e.problems!.some((p) => /DEMON_TOKEN is empty/.test(p)) &&
      e.problems!.some((p) => /key.txt cannot be read .*create it or fix the path/.test(p)),
  );
});
inputs('a world-readable secrets file is a warning with the chmod to fix it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demon-secrets-'));
  writeFileSync(join(dir, 'key.txt'), 'file-secret\n');
  chmodSync(join(dir, 'key.txt'), 0o644);
  const built = buildSecrets(
    config,
    {
      env: { DEMON_TOKEN: 'tok-value' },
      baseDir: dir,
      readFile: (p) => readFileSync(p, 'utf8'),
      fileMode: () => 0o100644,
    },
    new Redactor(),
  );
  assert.equal(built.warnings, [
    `${join(dir, 'key.txt')} is readable by every user on this machine; restrict it with \`chmod 600 ${join(dir, 'key.txt')}\``,
  ]);
  const strict = buildSecrets(
    config,
    {
      env: { DEMON_TOKEN: 'tok-value' },
      baseDir: dir,
      readFile: (p) => readFileSync(p, 'utf8'),
      fileMode: () => 0o100600,
    },
    new Redactor(),
  );
  assert.equal(strict.warnings, []);
});
inputs('a Secret key that is not a valid data key is a config error', () => {
  assert.throws(
    () => parseConfig({ secrets: { data: { 'bad key!': 'X' } } }),
    (e: Error & { problems?: string[] }) => e.problems!.some((p) => /must be a valid Secret data key/.test(p)),
  );
});
inputs.run();

const wiring = suite('secrets: every Secret is used by exactly the pods that need it');
wiring('the wiring matrix of the everything config', () => {
  const { plan } = planFor(EVERYTHING);
  const consumers = secretConsumers(plan.manifests);
  const matrix = Object.fromEntries(
    plan.secrets.map((s) => [s.metadata.name, (consumers.get(s.metadata.name) ?? []).map((w) => w.name).sort()]),
  );
  assert.equal(matrix, {
    'demon-secrets': ['engine', 'runtime'],
    'demon-pull-ghcr': ['engine', 'operate-ui', 'runtime'],
    'demon-pull-dockerhub': ['grafana', 'nats', 'prometheus'],
    'grafana-admin': ['grafana'],
  });
});
wiring('the tool itself refuses a Secret no pod uses', () => {
  const cfg = parseConfig({
    secrets: { data: { TOKEN: 'T' } },
    components: [{ name: 'runtime', image: 'x/y:z', port: 80, appSecret: true }],
  });
  // Bypass the config rule to prove the plan's own check: no component loads the Secret.
  const broken = { ...cfg, components: cfg.components.map((c) => ({ ...c, appSecret: false })) };
  assert.throws(
    () =>
      buildPlan({
        config: broken,
        configFile: EVERYTHING,
        templatesDir: TEMPLATES_DIR,
        env: { T: 'value-of-t' },
        redactor: new Redactor(),
      }),
    /Secret demon-secrets would be used by no pod/,
  );
});
wiring.run();

/** A cluster that answers every kubectl call, from recorded outputs where the tool parses them. */
function fakeCluster() {
  return new FakeRunner()
    .on((argv) => argv.includes('/version'), { stdout: recorded('kubectl-version.stdout') })
    .on((argv) => argv.includes('deployments,statefulsets,pods'), { stdout: recorded('wait-snapshot-ready.json') })
    .on(['kubectl'], { stdout: '' });
}

const SENTINEL = 'Sentinel-Secret-42x';
const leaks = suite('secrets: no value in argv, status, verbose output or errors');
leaks('a full bootstrap against a fake cluster: every argv is free of secret values, which went on stdin', async () => {
  const cfg = loadConfig(join(REPO_ROOT, 'tests/fixtures/valid-minimal.yaml'));
  const withSecrets = {
    ...cfg,
    namespace: 'demon-manual',
    secrets: { ...cfg.secrets, data: { TOKEN: 'DEMON_TOKEN' } },
    registries: [
      { name: 'e2e', server: '127.0.0.1:5001', usernameEnv: 'U', passwordEnv: 'P', appliesTo: ['nats', 'runtime'] },
    ],
  };
  const env = { DEMON_TOKEN: SENTINEL, U: 'bot', P: `${SENTINEL}-pw`, PATH: process.env.PATH };
  const runner = fakeCluster();
  const session = testSession(runner, { env, verbose: true });
  const { output } = session;
  const context = bootstrapContext(withSecrets, session, planInputs(session, withSecrets, EVERYTHING), {
    checkPull: false,
  });
  await runSteps(bootstrapSteps(withSecrets, context.options), context, output);
  const stdin = runner.calls.map((c) => c.options?.input ?? '').join('\n');
  assert.match(stdin, Buffer.from(SENTINEL).toString('base64'));
  for (const { argv } of runner.calls) assert.not.match(argv.join(' '), SENTINEL);
  assert.not.match(output.lines.join('\n'), SENTINEL);
});
leaks("a failing command's error masks the value even when the tool echoes it", () => {
  const redactor = new Redactor();
  redactor.add(SENTINEL);
  const error = new CommandError(
    {
      argv: ['kubectl', 'apply', '-f', '-'],
      exitCode: 1,
      stdout: '',
      stderr: `invalid value "${SENTINEL}"`,
      durationMs: 1,
      timedOut: false,
    },
    redactor,
  );
  assert.not.match(error.message, SENTINEL);
  assert.match(error.message, /invalid value "\*\*\*"/);
});
leaks.run();
