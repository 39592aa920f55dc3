import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { planObjects, redactedPlanYaml } from '../lib/render/plan.ts';
import { REPO_ROOT } from '../lib/core/session.ts';
import { k8sSchemaErrors } from './helpers/k8s-schema.ts';
import { fakeEnv, planFor } from './helpers/plan.ts';
import { buildPlan } from '../lib/render/plan.ts';
import { Redactor } from '../lib/core/redact.ts';
import { TEMPLATES_DIR } from '../lib/core/session.ts';

// Set UPDATE_GOLDEN=1 to rewrite the golden files after an intended change, then review the diff.
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const CASES = {
  default: 'config/demon.yaml',
  minimal: 'tests/fixtures/valid-minimal.yaml',
  everything: 'tests/fixtures/valid-everything.yaml',
};

const golden = suite('golden: rendered manifests, compared whole');
for (const [name, file] of Object.entries(CASES)) {
  golden(`${name} (${file})`, () => {
    const { plan } = planFor(join(REPO_ROOT, file));
    const yaml = redactedPlanYaml(plan);
    const goldenFile = join(REPO_ROOT, 'tests', 'golden', `${name}.yaml`);
    if (UPDATE || !existsSync(goldenFile)) writeFileSync(goldenFile, yaml);
    assert.fixture(yaml, readFileSync(goldenFile, 'utf8'));
  });

  golden(`${name}: every document validates against the Kubernetes API schemas`, async () => {
    const { plan } = planFor(join(REPO_ROOT, file));
    assert.equal(await k8sSchemaErrors(planObjects(plan)), []);
  });

  golden(`${name}: output parses back to the same objects (no "---" splitting, no HTML escaping)`, () => {
    const { plan } = planFor(join(REPO_ROOT, file));
    const yaml = redactedPlanYaml(plan);
    assert.not.match(yaml, /&#x2F;|&quot;|&amp;/);
    const documents = parseAllDocuments(yaml).map((d) => d.toJS() as { kind: string });
    assert.equal(
      documents.map((d) => d.kind),
      planObjects(plan).map((o) => o.kind),
    );
  });
}
golden.run();

const order = suite('golden: apply order');
order('namespace first, Secrets and ConfigMaps before the workloads that use them', () => {
  const { plan } = planFor(join(REPO_ROOT, CASES.everything));
  const kinds = planObjects(plan).map((o) => o.kind);
  assert.is(kinds[0], 'Namespace');
  const last = (kind: string) => kinds.lastIndexOf(kind);
  const first = (kind: string) => kinds.indexOf(kind);
  assert.ok(last('Secret') < first('Deployment') && last('Secret') < first('StatefulSet'));
  assert.ok(last('ConfigMap') < first('StatefulSet'));
  assert.ok(last('PersistentVolumeClaim') < first('Deployment'));
});
order('a dry-run of the default config has one Deployment per component and NATS as a StatefulSet', () => {
  const { plan } = planFor(join(REPO_ROOT, CASES.default));
  const workloads = plan.manifests
    .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
    .map((o) => `${o.kind}/${o.metadata.name}`);
  assert.equal(workloads, ['StatefulSet/nats', 'Deployment/runtime', 'Deployment/engine', 'Deployment/operate-ui']);
});
order('turning monitoring on or off changes no pod template: NATS and the components are not restarted', () => {
  const { config } = planFor(join(REPO_ROOT, CASES.everything));
  const templates = (monitoring: boolean) => {
    const c = { ...config, monitoring: { ...config.monitoring, enabled: monitoring } };
    const env = fakeEnv(c);
    const plan = buildPlan({
      config: c,
      configFile: CASES.everything,
      templatesDir: TEMPLATES_DIR,
      env,
      redactor: new Redactor(),
    });
    const stack = new Set(['nats', ...config.components.map((x) => x.name)]);
    return Object.fromEntries(
      plan.manifests
        .filter((o) => (o.kind === 'Deployment' || o.kind === 'StatefulSet') && stack.has(o.metadata.name))
        .map((o) => [o.metadata.name, JSON.stringify((o.spec as { template: unknown }).template)]),
    );
  };
  const on = templates(true);
  assert.equal(Object.keys(on).sort(), ['nats', ...config.components.map((x) => x.name)].sort());
  assert.equal(templates(false), on);
  assert.match(on.nats!, /prometheus\.io\/scrape/, 'NATS carries the scrape annotations either way');
});
order.run();
