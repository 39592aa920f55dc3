/**
 * The plan: every object a bootstrap applies, in apply order, built from the validated config
 * and the secret values. The dry-run prints exactly this (Secret values masked).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { isWorkload, renderStack, sortForApply, toYaml, type K8sObject, type WorkloadKind, type WorkloadRef } from './manifests.ts';
import type { Redactor } from '../core/redact.ts';
import { loadTemplates } from './mustache.ts';
import type { Config } from '../config/schema.ts';
import { buildSecrets, redactSecretObjects } from './secrets.ts';
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
  redactor: Redactor;
  images?: ImageOverrides;
  onGithubActions?: boolean;
  announce?: (line: string) => void;
}

export function buildPlan(inputs: PlanInputs): Plan {
  const { config, redactor } = inputs;
  const { objects: secrets, warnings } = buildSecrets(
    config,
    { env: inputs.env, baseDir: dirname(inputs.configFile), readFile: (path) => readFileSync(path, 'utf8'), fileMode: (path) => statSync(path).mode },
    redactor,
    inputs.onGithubActions,
    inputs.announce,
  );
  const rendered = sortForApply(renderStack(config, loadTemplates(inputs.templatesDir), inputs.images));
  assertSecretsUsed(secrets, rendered);
  return {
    namespace: rendered.filter((o) => o.kind === 'Namespace'),
    secrets,
    manifests: rendered.filter((o) => o.kind !== 'Namespace'),
    warnings,
  };
}

export function planObjects(plan: Plan): K8sObject[] {
  return [...plan.namespace, ...plan.secrets, ...plan.manifests];
}

/** The plan as YAML with Secret values masked: what --dry-run prints and artifacts keep. */
export function redactedPlanYaml(plan: Plan, redactor: Redactor): string {
  return redactor.mask(toYaml(redactSecretObjects(planObjects(plan))));
}

export function workloadsOf(objects: K8sObject[]): WorkloadRef[] {
  return objects.filter((o): o is K8sObject & { kind: WorkloadKind } => isWorkload(o)).map((o) => ({ kind: o.kind, name: o.metadata.name }));
}
