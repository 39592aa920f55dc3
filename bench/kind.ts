/**
 * The default path on kind, side by side in one run with the same work done by hand:
 *  - from no cluster to every workload ready: `bootstrap.mts` (the whole script, node start to
 *    exit) vs `kind create cluster` (same config on stdin, same node image) + `kubectl apply
 *    --server-side -f plan.yaml` + `kubectl wait` for the Deployments and the StatefulSet.
 *    Target: at most 1.1x.
 *  - the unchanged re-run: the script vs `kubectl apply --server-side` + one `kubectl get`.
 * Runs alternate, so drift on this shared machine hits both sides alike. Needs the kind lane
 * (tests/e2e/kind/prepare.sh: the offline node image) and a docker daemon.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../lib/config/load.ts';
import { Redactor } from '../lib/core/redact.ts';
import { kindClusterConfig } from '../lib/tools/kind.ts';
import { toYaml } from '../lib/render/manifests.ts';
import { buildPlan, planInputs, planObjects } from '../lib/render/plan.ts';
import { runScript } from '../tests/helpers/cli.ts';
import { kindClusters, kindConfig, laneEnv, laneImages, registryEntry, tool } from '../tests/e2e/kind/support.ts';
import { stats, type BenchResult } from './stats.ts';

const CLUSTER = 'demon-bench';

function timed(work: () => void): number {
  const started = performance.now();
  work();
  return performance.now() - started;
}

const deleteCluster = () => {
  if (kindClusters().includes(CLUSTER)) tool('kind', ['delete', 'cluster', '--name', CLUSTER]);
};

const ratioNote = (ratios: number[], target: string) => {
  const sorted = [...ratios].sort((a, b) => a - b);
  return `${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}x the hand-run (median of paired runs, ${sorted[0]!.toFixed(2)}-${sorted.at(-1)!.toFixed(2)}x); target ${target}`;
};

export function benchKind(runs = 3): BenchResult[] {
  const images = laneImages();
  const components = [
    { name: 'runtime', image: images.runtime, port: 8080 },
    { name: 'engine', image: images.engine, port: 8081 },
    {
      name: 'operate-ui',
      image: images['operate-ui'],
      port: 3000,
      health: { liveness: '/health', readiness: '/health' },
    },
  ];
  const file = kindConfig(CLUSTER, {
    namespace: 'demon',
    nats: { image: images.nats, exporter: { image: images.exporter } },
    components,
    registries: [registryEntry(['nats', ...components.map((c) => c.name)])],
  });
  const env = laneEnv();
  const config = loadConfig(file);
  // The hand-run's inputs: the same kind config, and the plan with its real Secret values in a
  // file only this user can read (a person would write it with `--dry-run` and fill the Secrets in).
  const dir = mkdtempSync(join(tmpdir(), 'demon-bench-kind-'));
  const kindFile = join(dir, 'kind.yaml');
  writeFileSync(kindFile, stringify(kindClusterConfig(config)));
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, toYaml(planObjects(buildPlan(planInputs({ env, redactor: new Redactor() }, config, file)))), {
    mode: 0o600,
  });
  const context = `kind-${CLUSTER}`;
  const kubectl = (args: string[]) => tool('kubectl', ['--context', context, ...args]);
  const byHand = () => {
    tool('kind', [
      'create',
      'cluster',
      '--name',
      CLUSTER,
      '--image',
      config.cluster.kind.nodeImage!,
      '--config',
      kindFile,
      '--wait',
      '120s',
    ]);
    kubectl(['apply', '--server-side', '--field-manager=demon-bootstrap', '-f', planFile]);
    kubectl(['-n', 'demon', 'wait', '--for=condition=Available', 'deployment', '--all', '--timeout=5m']);
    kubectl(['-n', 'demon', 'rollout', 'status', 'statefulset/nats', '--timeout=5m']);
  };
  const rerunByHand = () => {
    kubectl(['apply', '--server-side', '--field-manager=demon-bootstrap', '-f', planFile]);
    kubectl(['get', 'deployments,statefulsets', '-n', 'demon', '-o', 'name']);
  };
  const script = () => {
    const r = runScript('bootstrap.mts', ['--config', file, '--no-check-pull'], env);
    if (r.code !== 0) throw new Error(`bootstrap failed:\n${r.stderr}`);
    return r.stderr;
  };

  const create = { tool: [] as number[], hand: [] as number[], ratios: [] as number[] };
  const rerun = { tool: [] as number[], hand: [] as number[], ratios: [] as number[] };
  try {
    for (let i = 0; i < runs; i++) {
      deleteCluster();
      // Alternate which side goes first: a warm page cache must not favour one of them.
      const order = i % 2 === 0 ? ['tool', 'hand'] : ['hand', 'tool'];
      const took: Record<string, number> = {};
      for (const side of order) {
        took[side] = side === 'tool' ? timed(() => script()) : timed(byHand);
        if (side === 'hand') {
          // The tool's own re-run on the hand-made cluster would adopt, not "unchanged": measure
          // the re-runs on the tool's cluster only, below.
          deleteCluster();
        } else {
          const again = timed(() => {
            if (!/unchanged: the cluster already matched/.test(script()))
              throw new Error('the re-run changed something');
          });
          const hand = timed(rerunByHand);
          rerun.tool.push(again);
          rerun.hand.push(hand);
          rerun.ratios.push(again / hand);
          deleteCluster();
        }
      }
      create.tool.push(took.tool!);
      create.hand.push(took.hand!);
      create.ratios.push(took.tool! / took.hand!);
    }
  } finally {
    deleteCluster();
    rmSync(dir, { recursive: true, force: true }); // the plan file holds the pull Secret
  }
  return [
    { name: 'kind: bootstrap.mts from no cluster to all ready (whole script)', ...stats(create.tool) },
    { name: 'kind: by hand, kind create + kubectl apply --server-side + kubectl wait', ...stats(create.hand) },
    {
      name: 'kind: bootstrap from nothing vs by hand',
      ...stats(create.tool),
      note: ratioNote(create.ratios, '<= 1.1x'),
    },
    {
      name: 'kind: unchanged re-run, whole script vs kubectl apply + get',
      ...stats(rerun.tool),
      note: `${ratioNote(rerun.ratios, 'none set (Node start-up included on the tool side)')}; hand-run median ${stats(rerun.hand).medianMs} ms`,
    },
  ];
}
