import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, parseConfig } from '../lib/config.ts';
import { UsageError } from '../lib/errors.ts';
import { parseDuration } from '../lib/formats.ts';
import { REPO_ROOT } from '../lib/session.ts';

const FIXTURES = join(REPO_ROOT, 'tests', 'fixtures');
const fixtures = readdirSync(FIXTURES).filter((name) => name.endsWith('.yaml'));

function problemsOf(file: string): string {
  try {
    loadConfig(file);
  } catch (error) {
    assert.instance(error, UsageError, `${file} should fail with a UsageError (exit 2)`);
    const usage = error as UsageError;
    return [usage.message, ...usage.problems].join('\n');
  }
  assert.unreachable(`${file} was accepted but should be invalid`);
  return '';
}

const invalid = suite('config: invalid fixtures name the problem');
for (const name of fixtures.filter((n) => n.startsWith('invalid-'))) {
  invalid(name, () => {
    const file = join(FIXTURES, name);
    const expected = [...readFileSync(file, 'utf8').matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]!);
    assert.ok(expected.length > 0, `${name} has no "# expect:" lines`);
    const problems = problemsOf(file);
    for (const text of expected) assert.ok(problems.includes(text), `expected "${text}" in:\n${problems}`);
  });
}
invalid.run();

const valid = suite('config: valid configs');
for (const name of fixtures.filter((n) => n.startsWith('valid-'))) {
  valid(name, () => {
    const config = loadConfig(join(FIXTURES, name));
    assert.ok(config.components.length > 0);
  });
}
valid('the default config is valid and deploys the whole stack to kind', () => {
  const config = loadConfig(join(REPO_ROOT, 'config', 'demon.yaml'));
  assert.is(config.cluster.provider, 'kind');
  assert.equal(config.components.map((c) => c.name), ['runtime', 'engine', 'operate-ui']);
  assert.equal(config.components.map((c) => c.health), [
    { liveness: '/health', readiness: '/ready' },
    { liveness: '/health', readiness: '/ready' },
    { liveness: '/health', readiness: '/health' },
  ]);
});
valid('an empty document takes every default', () => {
  const config = parseConfig(null);
  assert.is(config.namespace, 'demon-system');
  assert.is(config.nats.streamName, 'RITUAL_EVENTS');
  assert.is(config.components.length, 3);
  assert.is(config.monitoring.grafana.adminPasswordEnv, 'GRAFANA_ADMIN_PASSWORD');
});
valid.run();

const loading = suite('config: loading');
loading('a missing file says so and how to fix it', () => {
  const problems = problemsOf(join(FIXTURES, 'no-such-file.yaml'));
  assert.match(problems, /no-such-file.yaml does not exist; pass an existing file with --config FILE/);
});
loading('all problems are reported at once', () => {
  const problems = problemsOf(join(FIXTURES, 'invalid-quantity.yaml')).split('\n');
  assert.ok(problems.length >= 3, problems.join('\n'));
});
loading('durations parse to milliseconds', () => {
  assert.is(parseDuration('240s'), 240_000);
  assert.is(parseDuration('5m'), 300_000);
  assert.is(parseDuration('1h30m'), 5_400_000);
  assert.is(parseDuration('250ms'), 250);
});
loading.run();
