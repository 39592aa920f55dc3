import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, parseConfig } from '../lib/config/load.ts';
import { UsageError } from '../lib/core/errors.ts';
import { parseDuration } from '../lib/config/formats.ts';
import { configJsonSchema } from '../lib/config/json-schema.ts';
import { REPO_ROOT } from '../lib/core/session.ts';

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
  assert.equal(
    config.components.map((c) => c.name),
    ['runtime', 'engine', 'operate-ui'],
  );
  assert.equal(
    config.components.map((c) => c.health),
    [
      { liveness: '/health', readiness: '/ready' },
      { liveness: '/health', readiness: '/ready' },
      { liveness: '/health', readiness: '/health' },
    ],
  );
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

const jsonSchema = suite('config: JSON Schema for editors');
jsonSchema(
  'config/demon.schema.json is generated from the zod schema (run `npx tsx scripts/schema.mts` after changing lib/config/schema.ts)',
  () => {
    assert.fixture(readFileSync(join(REPO_ROOT, 'config', 'demon.schema.json'), 'utf8'), configJsonSchema());
  },
);
jsonSchema('the default config points editors at the schema', () => {
  assert.match(
    readFileSync(join(REPO_ROOT, 'config', 'demon.yaml'), 'utf8'),
    /^# yaml-language-server: \$schema=\.\/demon\.schema\.json$/m,
  );
});
jsonSchema('every key in the schema is described and objects reject unknown keys', () => {
  const schema = JSON.parse(configJsonSchema()) as Record<string, unknown>;
  const undescribed: string[] = [];
  const open: string[] = [];
  const walk = (node: Record<string, unknown>, path: string) => {
    const properties = node.properties as Record<string, Record<string, unknown>> | undefined;
    if (properties) {
      if (node.additionalProperties !== false) open.push(path || '(top level)');
      for (const [key, child] of Object.entries(properties)) {
        if (!child.description) undescribed.push(`${path}${path ? '.' : ''}${key}`);
        walk(child, `${path}${path ? '.' : ''}${key}`);
      }
    }
    if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`);
    for (const option of (node.anyOf as Record<string, unknown>[] | undefined) ?? []) walk(option, path);
  };
  walk(schema, '');
  assert.equal(undescribed, []);
  assert.equal(open, []);
});
jsonSchema.run();
