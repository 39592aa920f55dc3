/**
 * The whole bootstrap at the argv boundary, replaying a ready stack recorded on the e2e
 * cluster (tests/e2e/support/record-converge.ts): an unchanged re-run costs exactly two kubectl
 * processes (one look, one apply) and changes nothing; the hints give every Service its own
 * local port.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { accessHints, bootstrapContext, bootstrapSteps } from '../lib/bootstrap/steps.ts';
import { loadConfig, parseConfig } from '../lib/config/load.ts';
import { runSteps } from '../lib/core/steps.ts';
import { buildPlan, planInputs } from '../lib/render/plan.ts';
import { FakeRunner, RECORDED, recorded } from './helpers/fake-runner.ts';
import { testSession } from './helpers/session.ts';

const FILE = join(RECORDED, 'converge-ready-config.yaml');
// The preflight looks for kubectl on PATH (it never runs: the FakeRunner answers for it).
const bin = mkdtempSync(join(tmpdir(), 'demon-bootstrap-bin-'));
writeFileSync(join(bin, 'kubectl'), '#!/bin/sh\nexit 99\n', { mode: 0o755 });
const env = { PATH: bin, DEMON_E2E_REGISTRY_USER: 'demon', DEMON_E2E_REGISTRY_PASSWORD: 'recorded-password-value' };

const rerun = suite('bootstrap: an unchanged re-run');
rerun('one look and one apply, nothing changed, ready at the look, nothing to prune', async () => {
  const config = loadConfig(FILE);
  const runner = new FakeRunner()
    .on((a) => a[3] === 'get', { stdout: recorded('converge-look-ready.stdout') })
    .on((a) => a[3] === 'apply', { stdout: recorded('converge-apply-ready.stdout') });
  const session = testSession(runner, { env });
  const context = bootstrapContext(config, session, planInputs(session, config, FILE), { checkPull: false });
  await runSteps(bootstrapSteps(config, context.options), context, session.output);
  assert.equal(
    runner.argvs().map((a) => a.slice(3, 5)),
    [
      ['get', '-f'],
      ['apply', '--server-side'],
    ],
  );
  assert.equal(
    session.output.lines.map((line) => line.replace(/ \(\d+(\.\d+)?m?s\)$/, '')),
    [
      '✓ preflight: 12 objects planned',
      '✓ cluster: context demon-e2e',
      '✓ apply: 11 unchanged',
      '✓ wait for workloads: 4 workloads ready',
      '✓ prune: 0 deleted',
    ],
  );
  assert.is(context.changed, 0);
});
rerun.run();

const hints = suite('bootstrap: how to reach the services');
hints('each Service gets a local port of its own, never one below 1024', () => {
  const config = parseConfig({ monitoring: { enabled: true }, namespace: 'demon' });
  const plan = buildPlan(
    planInputs(
      { env: { GRAFANA_ADMIN_PASSWORD: 'x-secret-value' }, redactor: session().redactor },
      config,
      'config/demon.yaml',
    ),
  );
  const ports = accessHints(plan, 'kind-demon', 'demon').map((line) =>
    /port-forward svc\/(\S+) (\d+):(\d+)/.exec(line)!.slice(1),
  );
  assert.equal(
    ports.find(([name]) => name === 'grafana'),
    ['grafana', '8082', '80'],
    'runtime and engine have 8080 and 8081',
  );
  const locals = ports.map(([, local]) => Number(local));
  assert.is(new Set(locals).size, locals.length, 'two hints share a local port');
  assert.ok(locals.every((port) => port >= 1024));
});
const session = () => testSession(new FakeRunner());
hints.run();
