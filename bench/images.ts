/**
 * build-images on the three stand-in images (tests/e2e/support/demon-checkout.ts) against the
 * e2e registry: a warm no-op (target < 3 s) and a cold build + push (target: within 1.3x of the
 * same docker build and docker push commands run by hand in sequence). Each cold sample
 * pushes to fresh repositories, for the tool and for the hand-run commands alike.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../lib/session.ts';
import { builtComponents, COMPONENT_PORTS, demonCheckout } from '../tests/e2e/support/demon-checkout.ts';
import { harness, unique } from '../tests/e2e/support/harness.ts';
import { stats, type BenchResult } from './stats.ts';

const TSX = [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'scripts', 'build-images.mts')];

/** The tool's own "done in 801ms" / "done in 1.2s" figure. */
function reportedMs(stderr: string): number {
  const match = /done in (\d+(?:\.\d+)?)(ms|s)/.exec(stderr);
  if (!match) throw new Error(`no duration in: ${stderr}`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

export function benchImages(runs = 3): BenchResult[] {
  const h = harness();
  const checkout = demonCheckout();
  const work = mkdtempSync(join(tmpdir(), 'demon-bench-images-'));
  const dockerConfig = mkdtempSync(join(tmpdir(), 'demon-bench-docker-'));
  const dockerEnv = { ...process.env, DOCKER_CONFIG: dockerConfig };
  execFileSync('docker', ['login', h.registry, '--username', h.registryUser, '--password-stdin'], { input: h.registryPassword, env: dockerEnv, stdio: ['pipe', 'ignore', 'ignore'] });
  const commit = execFileSync('git', ['-C', checkout, 'rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8' }).trim();

  const tool: number[] = [];
  const steps: number[] = [];
  const byHand: number[] = [];
  let configFile = '';
  let lockFile = '';
  for (let i = 0; i < runs; i++) {
    configFile = join(work, `demon-${i}.yaml`);
    lockFile = join(work, `images-${i}.lock.json`);
    const repo = unique('bench');
    writeFileSync(configFile, stringify({ components: builtComponents(h.registry, repo), registries: [{ name: 'e2e', server: h.registry, usernameEnv: 'DEMON_E2E_REGISTRY_USER', passwordEnv: 'DEMON_E2E_REGISTRY_PASSWORD', appliesTo: ['runtime'] }], build: { source: checkout } }));
    let started = performance.now();
    const result = spawnSync(TSX[0]!, [...TSX.slice(1), '--config', configFile, '--lock', lockFile, '--force'], { env: { ...process.env, ...h.env }, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`build-images failed: ${result.stderr}`);
    tool.push(performance.now() - started);
    steps.push(reportedMs(result.stderr));

    const handRepo = unique('bench-hand');
    started = performance.now();
    for (const [name, port] of Object.entries(COMPONENT_PORTS)) {
      const base = `${h.registry}/${handRepo}/${name}`;
      execFileSync('docker', ['build', '-q', '--file', join(checkout, name, 'Dockerfile'), '--build-arg', `PORT=${port}`, '--tag', `${base}:sha-${commit}`, '--tag', `${base}:main`, checkout], { env: dockerEnv, stdio: 'ignore' });
      execFileSync('docker', ['push', `${base}:sha-${commit}`], { env: dockerEnv, stdio: 'ignore' });
      execFileSync('docker', ['push', `${base}:main`], { env: dockerEnv, stdio: 'ignore' });
    }
    byHand.push(performance.now() - started);
  }

  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const result = spawnSync(TSX[0]!, [...TSX.slice(1), '--config', configFile, '--lock', lockFile], { env: { ...process.env, ...h.env }, encoding: 'utf8' });
    if (result.status !== 0 || !/unchanged: every image matches the lock/.test(result.stderr)) throw new Error(`warm run was not a no-op: ${result.stderr}`);
    warm.push(performance.now() - started);
  }
  const ratio = stats(tool).medianMs / stats(byHand).medianMs;
  const stepRatio = stats(steps).medianMs / stats(byHand).medianMs;
  return [
    { name: 'build-images warm no-op (3 images unchanged)', ...stats(warm), target: '< 3000 ms' },
    { name: 'build-images cold build + push of 3 images', ...stats(tool), note: `${ratio.toFixed(2)}x the hand-run sequence; target <= 1.3x` },
    { name: 'build-images cold, its steps alone (without Node start-up)', ...stats(steps), note: `${stepRatio.toFixed(2)}x the hand-run sequence` },
    { name: 'the same docker build + docker push commands by hand, in sequence', ...stats(byHand) },
  ];
}
