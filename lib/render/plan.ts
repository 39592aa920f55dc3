/**
 * The plan: every object a bootstrap applies, in apply order, built from the validated config
 * and the secret values. The dry-run prints exactly this (Secret values masked).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  isWorkload,
  renderStack,
  sortForApply,
  toYaml,
  type K8sObject,
  type WorkloadKind,
  type WorkloadRef,
} from './manifests.ts';
import { UsageError } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import { TEMPLATES_DIR } from '../core/session.ts';
import { loadTemplates } from './mustache.ts';
import type { Config } from '../config/schema.ts';
import { buildSecrets, readSecretFile, redactSecretObjects } from './secrets.ts';
import type { ImageOverrides } from './views.ts';
import { assertSecretsUsed } from './consumers.ts';

export interface Plan {
  namespace: K8sObject[];
  secrets: K8sObject[];
  manifests: K8sObject[];
  warnings: string[];
}

export interface PlanInputs {
  config: Config;
  configFile: string;
  templatesDir: string;
  env: Record<string, string | undefined>;
  /** Learns every secret value read; under GitHub Actions it announces each one as it does. */
  redactor: Redactor;
  /** Components pinned to other images than the config's (images.lock.json). */
  images?: ImageOverrides;
}

/** The one way to build plan inputs: every script and the nightly call this. */
export function planInputs(
  session: { env: Record<string, string | undefined>; redactor: Redactor },
  config: Config,
  configFile: string,
  images: ImageOverrides = {},
): PlanInputs {
  return { config, configFile, templatesDir: TEMPLATES_DIR, env: session.env, redactor: session.redactor, images };
}

export function buildPlan(inputs: PlanInputs): Plan {
  const { config, redactor } = inputs;
  const {
    objects: secrets,
    warnings,
    values,
  } = buildSecrets(
    config,
    {
      env: inputs.env,
      baseDir: dirname(inputs.configFile),
      readFile: (path) => readSecretFile(path, statSync, (file) => readFileSync(file, 'utf8')),
      fileMode: (path) => statSync(path).mode,
    },
    redactor,
  );
  const rendered = sortForApply(renderStack(config, loadTemplates(inputs.templatesDir), inputs.images));
  assertUnique([...secrets, ...rendered]);
  assertSecretsUsed(secrets, rendered);
  // A value that is also a name or setting in the manifests ("admin", "demon", "8080") gets
  // masked there too in every log, which tells anyone what it is.
  const text = toYaml(rendered);
  for (const { source, value } of values) {
    if (text.includes(value))
      warnings.push(
        `the value of ${source} also appears in the manifests as a name or setting, so masking it in logs would give it away; use a value that appears nowhere else`,
      );
  }
  return {
    namespace: rendered.filter((o) => o.kind === 'Namespace'),
    secrets,
    manifests: rendered.filter((o) => o.kind !== 'Namespace'),
    warnings,
  };
}

/**
 * Two objects of one kind and name would be one object, the second silently replacing the
 * first: a config error, whatever names made it (the config rules refuse the known ones).
 */
export function assertUnique(objects: K8sObject[]): void {
  const seen = new Map<string, number>();
  for (const object of objects) {
    const key = `${object.kind} ${object.metadata.name}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const twice = [...seen]
    .filter(([, count]) => count > 1)
    .map(
      ([key]) =>
        `${key} would be made twice, and the second would replace the first; rename the component, Secret or registry that names it`,
    );
  if (twice.length) throw new UsageError('the config makes two objects of the same kind and name', twice);
}

export function planObjects(plan: Plan): K8sObject[] {
  return [...plan.namespace, ...plan.secrets, ...plan.manifests];
}

/**
 * The plan as YAML with every Secret's data replaced by the mask: what --dry-run prints and
 * artifacts keep. Masked by structure, not by text replacement, so it stays the exact YAML a
 * real run applies (a secret value like "demon" or "8080" cannot garble names or ports).
 */
export function redactedPlanYaml(plan: Plan): string {
  return toYaml(redactSecretObjects(planObjects(plan)));
}

export function workloadsOf(objects: K8sObject[]): WorkloadRef[] {
  return objects
    .filter((o): o is K8sObject & { kind: WorkloadKind } => isWorkload(o))
    .map((o) => ({ kind: o.kind, name: o.metadata.name }));
}
