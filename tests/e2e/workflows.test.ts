/**
 * actionlint (the GitHub Actions linter, built from the Go module proxy by .ci/run) on every
 * workflow: expressions, permissions, action inputs and the shell in `run:` steps.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../../lib/core/session.ts';

const CACHED = join(
  process.env.DEMON_E2E_CACHE ?? join(homedir(), '.cache', 'demon-e2e'),
  'tools',
  'bin',
  'actionlint',
);
const actionlint = existsSync(CACHED) ? CACHED : 'actionlint';

const lint = suite('e2e: actionlint on the workflows');
lint('every workflow passes actionlint', () => {
  const files = readdirSync(join(REPO_ROOT, '.github', 'workflows')).map((name) => join('.github', 'workflows', name));
  const r = spawnSync(actionlint, ['-no-color', ...files], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.ok(
    !r.error,
    `actionlint is not installed (${r.error?.message}); .ci/run installs it: GOBIN=${join(CACHED, '..')} go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12`,
  );
  assert.is(r.status, 0, r.stdout + r.stderr);
});
lint('actionlint does catch a broken workflow (the check can fail)', () => {
  const r = spawnSync(actionlint, ['-no-color', '-'], {
    input: 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n',
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(r.status, 1);
  assert.match(r.stdout, /nope/);
});
lint.run();
