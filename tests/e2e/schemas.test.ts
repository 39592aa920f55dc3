/**
 * Every fixture's plan, checked by the real API server: a server-side dry-run with strict field
 * validation rejects unknown or misspelled fields that offline schemas let through.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { toYaml } from '../../lib/render/manifests.ts';
import { REPO_ROOT } from '../../lib/core/session.ts';
import { planFor } from '../helpers/plan.ts';
import { deleteNamespace, harness, kubectl, unique } from './support/harness.ts';

const h = harness();
const files = [
  'config/demon.yaml',
  ...readdirSync(join(REPO_ROOT, 'tests/fixtures'))
    .filter((n) => n.startsWith('valid-'))
    .map((n) => `tests/fixtures/${n}`),
];
const created: string[] = [];

const schemas = suite('e2e: the API server accepts every rendered plan');
schemas.after(() => created.forEach((ns) => deleteNamespace(h, ns)));
for (const file of files) {
  schemas(file, () => {
    const { plan } = planFor(join(REPO_ROOT, file));
    const namespace = unique('e2e-schema');
    created.push(namespace);
    const retarget = <T extends { metadata: { namespace?: string; name: string } }>(o: T): T => ({
      ...o,
      metadata: { ...o.metadata, ...(o.metadata.namespace ? { namespace } : { name: namespace }) },
    });
    kubectl(h, ['apply', '-f', '-'], toYaml(plan.namespace.map(retarget)));
    const rest = [...plan.secrets, ...plan.manifests].map(retarget);
    const out = kubectl(
      h,
      [
        'apply',
        '--server-side',
        '--dry-run=server',
        '--validate=strict',
        '--field-manager=demon-bootstrap',
        '-f',
        '-',
        '-o',
        'name',
      ],
      toYaml(rest),
    );
    assert.is(out.trim().split('\n').length, rest.length);
  });
}
schemas.run();
