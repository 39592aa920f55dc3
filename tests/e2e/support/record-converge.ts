/**
 * Records the kubectl outputs the converge unit tests replay (tests/fixtures/recorded/converge-*),
 * by running the tool's own calls against the e2e cluster:
 *   npm run cluster:up && node --import tsx tests/e2e/support/record-converge.ts
 * The stack is the default config's in namespace `rec` (created by the tool, with its
 * inventory) with a fake app secret, so no real credential is ever recorded.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyObjects, ensureNamespace, look } from '../../../lib/bootstrap/converge.ts';
import { EMPTY_INVENTORY, inventoryObject, recordApplied, refOf } from '../../../lib/bootstrap/inventory.ts';
import { loadConfig, parseConfig } from '../../../lib/config/load.ts';
import { stringify } from 'yaml';
import { runScript } from '../../helpers/cli.ts';
import { e2eConfig } from './config.ts';
import { buildStack } from './images.ts';
import { ProcessRunner, type RunOptions, type RunResult, type Runner } from '../../../lib/core/exec.ts';
import { Redactor } from '../../../lib/core/redact.ts';
import { buildPlan, planInputs } from '../../../lib/render/plan.ts';
import { Kubectl } from '../../../lib/tools/kubectl.ts';
import { RECORDED } from '../../helpers/fake-runner.ts';
import { deleteNamespace, harness, kubectl } from './harness.ts';

const h = harness();
const NAMESPACE = 'rec';

/** Runs for real and keeps the last result, to save under a name. */
class Recorder implements Runner {
  last?: RunResult;
  constructor(private readonly inner: Runner) {}
  async exec(argv: string[], options?: RunOptions): Promise<RunResult> {
    this.last = await this.inner.exec(argv, options);
    return this.last;
  }
}

const save = (name: string, text: string) => writeFileSync(join(RECORDED, name), text);
const redactor = new Redactor();
const recorder = new Recorder(
  new ProcessRunner({ env: { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: h.kubeconfig }, redactor }),
);
const k = new Kubectl(recorder, { context: h.context }, redactor);
const session = { env: { DEMON_RECORDED_TOKEN: 'recorded-token-value' }, redactor };
const config = (replicas: number) =>
  parseConfig({
    cluster: { provider: 'existing', context: h.context },
    namespace: NAMESPACE,
    secrets: { data: { APP_TOKEN: 'DEMON_RECORDED_TOKEN' } },
    components: ['runtime', 'engine', 'operate-ui'].map((name, i) => ({
      name,
      image: `ghcr.io/afewell-hh/demon-${name}:main`,
      port: 8080 + i,
      replicas,
    })),
  });
const planOf = (replicas: number) => buildPlan(planInputs(session, config(replicas), 'config/demon.yaml'));

deleteNamespace(h, NAMESPACE);
kubectl(h, ['wait', '--for=delete', `namespace/${NAMESPACE}`, '--timeout=120s']).toString();
const plan = planOf(1);
const objects = [...plan.secrets, ...plan.manifests];

await look(k, plan.namespace[0]!, objects);
save('converge-look-absent.stdout', recorder.last!.stdout);
await ensureNamespace(k, plan.namespace[0]!, 'missing');
await applyObjects(k, objects, { force: false });
save('converge-apply-created.stdout', recorder.last!.stdout);
await k.apply([inventoryObject(NAMESPACE, recordApplied(EMPTY_INVENTORY, objects.map(refOf), []))]);
await look(k, plan.namespace[0]!, objects);
save('converge-look-present.stdout', recorder.last!.stdout);
await applyObjects(k, objects, { force: false });
save('converge-apply-unchanged.stdout', recorder.last!.stdout);
const scaled = planOf(2);
await applyObjects(k, [...scaled.secrets, ...scaled.manifests], { force: false });
save('converge-apply-configured.stdout', recorder.last!.stdout);
await look(k, plan.namespace[0]!, objects);
save('converge-look-scaled.stdout', recorder.last!.stdout);
kubectl(h, ['-n', NAMESPACE, 'scale', 'deployment/engine', '--replicas=3']);
await k.apply(objects).catch(() => {});
save('converge-apply-conflict.stderr', recorder.last!.stderr);
await k
  .apply([objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'engine')!], { dryRun: true })
  .catch(() => {});
save('converge-dry-run-conflict.stderr', recorder.last!.stderr);
await k.apply(objects, { dryRun: true, force: true });
save('converge-dry-run.stdout', recorder.last!.stdout);
deleteNamespace(h, NAMESPACE);

// A stack that is up and ready (stand-in images through a pull Secret), deployed by the real
// script: the look and the unchanged apply of a re-run. Secret values are replaced on saving.
const READY_NAMESPACE = 'rec-ready';
const scrub = (stdout: string) => {
  const list = JSON.parse(stdout) as { items?: { kind: string; data?: Record<string, string> }[] };
  for (const item of list.items ?? []) {
    if (item.kind === 'Secret' && item.data)
      for (const key of Object.keys(item.data)) item.data[key] = Buffer.from(`recorded-${key}`).toString('base64');
  }
  return `${JSON.stringify(list, null, 2)}\n`;
};
deleteNamespace(h, READY_NAMESPACE);
kubectl(h, ['wait', '--for=delete', `namespace/${READY_NAMESPACE}`, '--timeout=120s']);
const readyConfig = e2eConfig(h, { namespace: READY_NAMESPACE, images: buildStack(h, 'rec-ready') });
const readyFile = join(RECORDED, 'converge-ready-config.yaml');
writeFileSync(
  readyFile,
  `# The config of converge-look-ready.stdout and converge-apply-ready.stdout (record-converge.ts)\n${stringify(readyConfig)}`,
);
const first = runScript('bootstrap.mts', ['--config', readyFile], h.env);
if (first.code !== 0) throw new Error(`bootstrap of ${READY_NAMESPACE} failed:\n${first.stderr}`);
const readyPlan = buildPlan(planInputs({ env: h.env, redactor }, loadConfig(readyFile), readyFile));
const readyObjects = [...readyPlan.secrets, ...readyPlan.manifests];
await look(k, readyPlan.namespace[0]!, readyObjects);
save('converge-look-ready.stdout', scrub(recorder.last!.stdout));
await applyObjects(k, readyObjects, { force: false });
save('converge-apply-ready.stdout', scrub(recorder.last!.stdout));
deleteNamespace(h, READY_NAMESPACE);
console.log(`recorded ${READY_NAMESPACE} into ${RECORDED}`);
