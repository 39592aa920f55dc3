/**
 * A bootstrap re-run against an unchanged cluster (the e2e harness cluster), side by side in
 * one run with the hand-run minimum that does the same work: `kubectl apply --server-side` of
 * the plan on stdin, then one `kubectl get` of the workloads (is everything still ready?).
 * Runs alternate, so drift on this shared machine hits both sides alike.
 * Target: the tool's re-run at most 1.2x the hand-run. Also reported: how many kubectl
 * processes the tool starts, and the whole script from `node` start to exit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { bootstrapContext, bootstrapSteps } from '../lib/bootstrap/steps.ts';
import { loadConfig } from '../lib/config/load.ts';
import { ProcessRunner } from '../lib/core/exec.ts';
import { Redactor } from '../lib/core/redact.ts';
import { runSteps } from '../lib/core/steps.ts';
import { ToolClock } from '../lib/core/tool-clock.ts';
import { toYaml } from '../lib/render/manifests.ts';
import { buildPlan, planInputs, planObjects } from '../lib/render/plan.ts';
import { e2eConfig } from '../tests/e2e/support/config.ts';
import { deleteNamespace, harness, unique, type Harness } from '../tests/e2e/support/harness.ts';
import { buildStack } from '../tests/e2e/support/images.ts';
import { runScript } from '../tests/helpers/cli.ts';
import { testSession } from '../tests/helpers/session.ts';
import { stats, type BenchResult } from './stats.ts';

/** The tool's bootstrap steps in-process (no Node start-up): what the re-run itself costs. */
async function toolRun(configFile: string, env: Record<string, string>) {
  const redactor = new Redactor();
  const clock = new ToolClock();
  const config = loadConfig(configFile);
  const session = testSession(new ProcessRunner({ env, redactor, clock }), { env, redactor, clock });
  // Without the registry check: its HTTP requests are not part of the hand-run either.
  const context = bootstrapContext(config, session, planInputs(session, config, configFile), { checkPull: false });
  const started = performance.now();
  await runSteps(bootstrapSteps(config, context.options), context, session.output);
  return { wallMs: performance.now() - started, processes: clock.calls, changed: context.changed };
}

/** The same work by hand: one apply of the whole plan on stdin, one look at the workloads. */
function handRun(h: Harness, planYaml: string, namespace: string): number {
  const kubectl = (args: string[], input?: string) =>
    execFileSync('kubectl', ['--kubeconfig', h.kubeconfig, '--context', h.context, ...args], {
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  const started = performance.now();
  kubectl(['apply', '--server-side', '--field-manager=demon-bootstrap', '-f', '-'], planYaml);
  kubectl(['get', 'deployments,statefulsets', '-n', namespace, '-o', 'name']);
  return performance.now() - started;
}

const sortedCopy = (values: number[]) => [...values].sort((a, b) => a - b);
const ratio = (values: number[]) => `${sortedCopy(values)[Math.floor(values.length / 2)]!.toFixed(2)}x`;
const range = (values: number[]) => `${sortedCopy(values)[0]!.toFixed(2)}-${sortedCopy(values).at(-1)!.toFixed(2)}x`;

export async function benchRerun(runs = 7): Promise<BenchResult[]> {
  const h = harness();
  const namespace = unique('bench-rerun');
  const file = join(mkdtempSync(join(tmpdir(), 'demon-bench-')), 'demon.yaml');
  writeFileSync(file, stringify(e2eConfig(h, { namespace, images: buildStack(h, unique('bench')) })));
  try {
    await toolRun(file, h.env); // the first run creates everything; not timed
    const config = loadConfig(file);
    // The plan with its real Secret values, held in memory and given to kubectl on stdin only.
    const plan = buildPlan(planInputs({ env: h.env, redactor: new Redactor() }, config, file));
    const planYaml = toYaml(planObjects(plan));
    const tool: number[] = [];
    const hand: number[] = [];
    const ratios: number[] = [];
    const scripts: number[] = [];
    let processes = 0;
    for (let i = 0; i < runs; i++) {
      const run = await toolRun(file, h.env);
      if (run.changed !== 0)
        throw new Error(`re-run ${i} changed ${run.changed} objects; the cluster was not unchanged`);
      const byHand = handRun(h, planYaml, namespace);
      tool.push(run.wallMs);
      hand.push(byHand);
      ratios.push(run.wallMs / byHand);
      processes = run.processes;
      const before = performance.now();
      const script = runScript('bootstrap.mts', ['--config', file, '--no-check-pull'], h.env);
      scripts.push(performance.now() - before);
      if (script.code !== 0 || !/unchanged/.test(script.stderr))
        throw new Error(`the script re-run failed or changed something:\n${script.stderr}`);
    }
    return [
      {
        name: 'bootstrap re-run, unchanged cluster, steps in-process',
        ...stats(tool),
        note: `${processes} kubectl processes per run`,
      },
      {
        name: 'hand-run: kubectl apply --server-side -f - + kubectl get workloads',
        ...stats(hand),
        note: '2 kubectl processes',
      },
      {
        name: 'bootstrap re-run vs hand-run',
        ...stats(tool),
        note: `${ratio(ratios)} the hand-run (median of paired runs, ${range(ratios)}); target <= 1.2x`,
      },
      {
        name: 'the whole script re-run (node start to exit)',
        ...stats(scripts),
        note: 'Node and tsx start-up included',
      },
    ];
  } finally {
    deleteNamespace(h, namespace);
  }
}
