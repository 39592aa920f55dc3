/**
 * build-images on the three stand-in images (tests/e2e/support/demon-checkout.ts) against the
 * e2e registry: a warm no-op (target < 3 s) and a cold build + push (target: within 1.3x of the
 * same docker build and docker push commands run by hand in sequence).
 * Cold means nothing cached: before each sample, for the tool and for the hand-run commands
 * alike, a new nonce file goes into every image's first layer, so docker's build cache misses
 * from the first layer on and the registry has none of the blobs; each sample also pushes to
 * fresh repositories. The same comparison with docker's build cache warm (layers cached, new
 * repositories only) is reported beside it: there the tool's Node start-up weighs most.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../lib/core/session.ts';
import { builtComponents, commitAll, COMPONENT_PORTS, demonCheckout } from '../tests/e2e/support/demon-checkout.ts';
import { harness, unique } from '../tests/e2e/support/harness.ts';
import { stats, type BenchResult } from './stats.ts';

const TSX = [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'scripts', 'build-images.mts')];

/** The tool's own "done in 801ms" / "done in 1.2s" figure. */
function reportedMs(stderr: string): number {
  const match = /done in (\d+(?:\.\d+)?)(ms|s)/.exec(stderr);
  if (!match) throw new Error(`no duration in: ${stderr}`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/** Makes every image's first layer a file we rewrite per sample, so each sample builds cold. */
function withNonceLayer(checkout: string): (label: string) => void {
  for (const name of Object.keys(COMPONENT_PORTS)) {
    const file = join(checkout, name, 'Dockerfile');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^FROM scratch\n/m, 'FROM scratch\nCOPY nonce /nonce\n'));
  }
  const renew = (label: string) => writeFileSync(join(checkout, 'nonce'), `${label} ${process.hrtime.bigint()}\n`);
  renew('initial');
  commitAll(checkout, 'bench: a nonce layer');
  return renew;
}

export function benchImages(runs = 5): BenchResult[] {
  const h = harness();
  const checkout = demonCheckout();
  const renewNonce = withNonceLayer(checkout);
  const work = mkdtempSync(join(tmpdir(), 'demon-bench-images-'));
  const dockerConfig = mkdtempSync(join(tmpdir(), 'demon-bench-docker-'));
  const dockerEnv = { ...process.env, DOCKER_CONFIG: dockerConfig };
  execFileSync('docker', ['login', h.registry, '--username', h.registryUser, '--password-stdin'], {
    input: h.registryPassword,
    env: dockerEnv,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const commit = execFileSync('git', ['-C', checkout, 'rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8' }).trim();

  const runTool = (configFile: string, lockFile: string) => {
    const started = performance.now();
    const result = spawnSync(TSX[0]!, [...TSX.slice(1), '--config', configFile, '--lock', lockFile, '--force'], {
      env: { ...process.env, ...h.env },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`build-images failed: ${result.stderr}`);
    return { wallMs: performance.now() - started, stepsMs: reportedMs(result.stderr) };
  };
  const runByHand = () => {
    const handRepo = unique('bench-hand');
    const started = performance.now();
    for (const [name, port] of Object.entries(COMPONENT_PORTS)) {
      const base = `${h.registry}/${handRepo}/${name}`;
      execFileSync(
        'docker',
        [
          'build',
          '-q',
          '--file',
          join(checkout, name, 'Dockerfile'),
          '--build-arg',
          `PORT=${port}`,
          '--tag',
          `${base}:sha-${commit}`,
          '--tag',
          `${base}:main`,
          checkout,
        ],
        { env: dockerEnv, stdio: 'ignore' },
      );
      execFileSync('docker', ['push', `${base}:sha-${commit}`], { env: dockerEnv, stdio: 'ignore' });
      execFileSync('docker', ['push', `${base}:main`], { env: dockerEnv, stdio: 'ignore' });
    }
    return performance.now() - started;
  };
  const writeConfig = (i: number) => {
    const configFile = join(work, `demon-${i}.yaml`);
    writeFileSync(
      configFile,
      stringify({
        components: builtComponents(h.registry, unique('bench')),
        registries: [
          {
            name: 'e2e',
            server: h.registry,
            usernameEnv: 'DEMON_E2E_REGISTRY_USER',
            passwordEnv: 'DEMON_E2E_REGISTRY_PASSWORD',
            appliesTo: ['runtime'],
          },
        ],
        build: { source: checkout },
      }),
    );
    return configFile;
  };

  const cold = { tool: [] as number[], steps: [] as number[], byHand: [] as number[] };
  const cached = { tool: [] as number[], steps: [] as number[], byHand: [] as number[] };
  let configFile = '';
  let lockFile = '';
  for (let i = 0; i < runs; i++) {
    renewNonce(`tool ${i}`);
    const tool = runTool(writeConfig(i), join(work, `images-${i}.lock.json`));
    cold.tool.push(tool.wallMs);
    cold.steps.push(tool.stepsMs);
    renewNonce(`hand ${i}`);
    cold.byHand.push(runByHand());
    // Build cache warm: the same content again, to new repositories.
    // The warm no-op below re-runs the last of these: its lock matches the checkout as it is.
    configFile = writeConfig(runs + i);
    lockFile = join(work, `cached-${i}.lock.json`);
    const again = runTool(configFile, lockFile);
    cached.tool.push(again.wallMs);
    cached.steps.push(again.stepsMs);
    cached.byHand.push(runByHand());
  }

  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const result = spawnSync(TSX[0]!, [...TSX.slice(1), '--config', configFile, '--lock', lockFile], {
      env: { ...process.env, ...h.env },
      encoding: 'utf8',
    });
    if (result.status !== 0 || !/unchanged: every image matches the lock/.test(result.stderr))
      throw new Error(`warm run was not a no-op: ${result.stderr}`);
    warm.push(performance.now() - started);
  }
  const ratio = (a: number[], b: number[]) =>
    `${(stats(a).medianMs / stats(b).medianMs).toFixed(2)}x the hand-run sequence`;
  return [
    { name: 'build-images warm no-op (3 images unchanged)', ...stats(warm), target: '< 3000 ms' },
    {
      name: 'build-images cold build + push of 3 images (nothing cached)',
      ...stats(cold.tool),
      note: `${ratio(cold.tool, cold.byHand)}; target <= 1.3x`,
    },
    { name: '  its steps alone (without Node start-up)', ...stats(cold.steps), note: ratio(cold.steps, cold.byHand) },
    { name: '  the same docker build + docker push commands by hand, in sequence', ...stats(cold.byHand) },
    {
      name: "build-images build + push with docker's build cache warm (new repositories only)",
      ...stats(cached.tool),
      note: ratio(cached.tool, cached.byHand),
    },
    {
      name: '  its steps alone (without Node start-up)',
      ...stats(cached.steps),
      note: ratio(cached.steps, cached.byHand),
    },
    { name: '  the same commands by hand, build cache warm', ...stats(cached.byHand) },
  ];
}
