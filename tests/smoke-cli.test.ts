import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runScript } from './helpers/cli.ts';

const cli = suite('cli: smoke.mts');
const work = mkdtempSync(join(tmpdir(), 'smoke-cli-'));
const kubeconfig = join(work, 'kubeconfig');
// A cluster that cannot be reached: nothing listens on port 1.
writeFileSync(
  kubeconfig,
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'gone',
    clusters: [{ name: 'gone', cluster: { server: 'https://127.0.0.1:1' } }],
    contexts: [{ name: 'gone', context: { cluster: 'gone', user: 'u' } }],
    users: [{ name: 'u', user: { token: 'sentinel-kube-token-Qw9' } }],
  }),
);
const config = join(work, 'demon.yaml');
writeFileSync(
  config,
  stringify({
    cluster: { provider: 'existing', context: 'gone', kubeconfig },
    namespace: 'demon-smoke',
    secrets: { data: { API_TOKEN: 'SMOKE_API_TOKEN' } },
  }),
);

cli('--help lists every option and exits 0', () => {
  const r = runScript('smoke.mts', ['--help']);
  assert.is(r.code, 0);
  for (const flag of [
    '--config FILE',
    '--lock FILE',
    '--no-lock',
    '--artifacts DIR',
    '--method HOW',
    '--check-timeout DURATION',
    '--verbose',
  ])
    assert.match(r.stdout, flag);
});
cli('bad usage exits 2 before contacting anything', () => {
  for (const [args, message] of [
    [['--metod', 'auto'], /unknown option --metod \(did you mean --method\?\)/],
    [['--method', 'ssh'], /--method must be one of auto, port-forward, api-proxy/],
    [['--check-timeout', 'soon'], /--check-timeout must be a duration/],
  ] as const) {
    const r = runScript('smoke.mts', ['--config', config, ...args]);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
});
cli('a malformed lock file is bad usage (exit 2) that names the fix', () => {
  const lock = join(work, 'bad.lock.json');
  writeFileSync(lock, '{"version": 1, "images": {"runtime": {"digest": "sha256:nope"}}}');
  const r = runScript('smoke.mts', ['--config', config, '--lock', lock]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /is not a valid lock file; rebuild it with scripts\/build-images\.mts or pass --no-lock/);
});
cli(
  'an unreachable cluster fails (exit 1): FAILED everywhere, checks skipped, reports and bundle written, no token leaked',
  () => {
    const artifacts = join(work, 'artifacts');
    const summaryFile = join(work, 'step-summary.md');
    const r = runScript(
      'smoke.mts',
      ['--config', config, '--artifacts', artifacts, '--lock', join(work, 'missing.lock.json')],
      { SMOKE_API_TOKEN: 'sentinel-api-token-Hk4', GITHUB_STEP_SUMMARY: summaryFile },
    );
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /✓ config: 7 health checks and 2 function checks planned, no lock: digest check skipped/);
    assert.match(r.stderr, /✗ cluster/);
    assert.match(
      r.stderr,
      /error: smoke FAILED: 1 of 10 checks failed, 9 skipped\n {2}- cluster reachable: cannot reach the cluster of context "gone"/,
    );
    assert.not.match(r.stderr, /PASSED/);
    const report = JSON.parse(readFileSync(join(artifacts, 'smoke.json'), 'utf8'));
    assert.equal([report.status, report.counts], ['failed', { passed: 0, failed: 1, skipped: 9 }]);
    assert.match(
      readFileSync(join(artifacts, 'junit.xml'), 'utf8'),
      /<testsuites name="smoke" tests="10" failures="1" errors="0" skipped="9"/,
    );
    assert.match(readFileSync(summaryFile, 'utf8'), /^### smoke FAILED: 1 of 10 checks failed, 9 skipped/);
    assert.ok(existsSync(join(artifacts, 'summary.md')) && existsSync(join(artifacts, 'manifests.yaml')));
    for (const file of ['smoke.json', 'junit.xml', 'summary.md', 'manifests.yaml']) {
      const text = readFileSync(join(artifacts, file), 'utf8');
      assert.not.match(text, 'sentinel-api-token-Hk4');
      assert.not.match(text, 'sentinel-kube-token-Qw9');
    }
    assert.not.match(r.stderr, /sentinel-/);
  },
);

cli.run();
