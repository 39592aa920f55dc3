/**
 * Renders the whole stack: every template with its view, parsed as YAML (never split on the
 * substring "---"), sorted so that what others depend on is applied first, and serialised
 * once. That one string is both what --dry-run prints and what kubectl receives.
 */
import { parseAllDocuments, stringify } from 'yaml';
import type { Config } from '../config/schema.ts';
import { renderTemplate, type TemplateSet } from './mustache.ts';
import {
  componentView,
  grafanaView,
  ingressView,
  namespaceView,
  natsView,
  prometheusView,
  type ImageOverrides,
} from './views.ts';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** The two workload kinds the stack renders, and the only ones the wait and the bundle follow. */
export type WorkloadKind = 'Deployment' | 'StatefulSet';

export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
}

export function isWorkload(object: { kind?: string }): object is { kind: WorkloadKind } {
  return object.kind === 'Deployment' || object.kind === 'StatefulSet';
}

// Namespaces before anything namespaced, Secrets and config before the pods that mount them.
const APPLY_ORDER = [
  'Namespace',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'Role',
  'RoleBinding',
  'PersistentVolumeClaim',
  'Service',
  'StatefulSet',
  'Deployment',
  'Ingress',
];

export function applyRank(kind: string): number {
  const rank = APPLY_ORDER.indexOf(kind);
  return rank === -1 ? APPLY_ORDER.length : rank;
}

export function sortForApply(objects: K8sObject[]): K8sObject[] {
  return objects
    .map((object, index) => ({ object, index }))
    .sort((a, b) => applyRank(a.object.kind) - applyRank(b.object.kind) || a.index - b.index)
    .map(({ object }) => object);
}

/** Parses rendered YAML into objects; a YAML error names the template it came from. */
export function parseManifests(source: string, text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length) {
      const error = document.errors[0]!;
      const pos = error.linePos?.[0];
      throw new Error(
        `${source} rendered invalid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${error.message.split('\n')[0]}`,
      );
    }
    const value = document.toJS() as K8sObject | null;
    if (value === null) continue; // an empty document, e.g. a disabled optional section
    if (typeof value !== 'object' || !value.kind || !value.apiVersion || !value.metadata?.name) {
      throw new Error(`${source} rendered a document without apiVersion, kind and metadata.name`);
    }
    objects.push(value);
  }
  return objects;
}

function render(templates: TemplateSet, name: string, view: object): K8sObject[] {
  return parseManifests(
    `templates/${name}.yaml.mustache`,
    renderTemplate(name, templates.get(name), view, templates.partials),
  );
}

/** Every object of the stack except Secrets (lib/render/secrets.ts builds those from credentials). */
export function renderStack(config: Config, templates: TemplateSet, images: ImageOverrides = {}): K8sObject[] {
  const objects = [
    ...render(templates, 'namespace', namespaceView(config)),
    ...render(templates, 'nats', natsView(config, images)),
    ...config.components.flatMap((component) =>
      render(templates, 'component', componentView(config, component, images)),
    ),
  ];
  if (config.monitoring.enabled) {
    objects.push(...render(templates, 'prometheus', prometheusView(config, images)));
    objects.push(...render(templates, 'grafana', grafanaView(config, images)));
  }
  if (config.ingress.enabled) objects.push(...render(templates, 'ingress', ingressView(config)));
  return objects;
}

export function toYaml(objects: K8sObject[]): string {
  return objects.map((object) => stringify(object, { lineWidth: 0 })).join('---\n');
}
