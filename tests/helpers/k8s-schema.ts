/**
 * Offline validation of rendered objects against the Kubernetes API schemas, through the
 * maintained kubernetes-models package (one generated validator per apiVersion/kind).
 * It checks types, formats and required fields; unknown fields are caught by the e2e lane,
 * where the real API server runs a server-side dry-run with strict field validation.
 */
import type { K8sObject } from '../../lib/render/manifests.ts';

const MODULES: Record<string, string> = {
  'v1/Namespace': 'kubernetes-models/v1/Namespace',
  'v1/Secret': 'kubernetes-models/v1/Secret',
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Service': 'kubernetes-models/v1/Service',
  'v1/ServiceAccount': 'kubernetes-models/v1/ServiceAccount',
  'v1/PersistentVolumeClaim': 'kubernetes-models/v1/PersistentVolumeClaim',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'apps/v1/StatefulSet': 'kubernetes-models/apps/v1/StatefulSet',
  'rbac.authorization.k8s.io/v1/Role': 'kubernetes-models/rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding',
  'networking.k8s.io/v1/Ingress': 'kubernetes-models/networking.k8s.io/v1/Ingress',
};

type ModelClass = new (data: unknown) => { validate(): void };

/** Returns one message per invalid object (empty when all are valid). */
export async function k8sSchemaErrors(objects: K8sObject[]): Promise<string[]> {
  const errors: string[] = [];
  for (const object of objects) {
    const key = `${object.apiVersion}/${object.kind}`;
    const path = MODULES[key];
    if (!path) {
      errors.push(
        `${key} ${object.metadata.name}: no schema known for this kind (add it to tests/helpers/k8s-schema.ts)`,
      );
      continue;
    }
    const module = (await import(path)) as Record<string, ModelClass>;
    const Model = module[object.kind]!;
    try {
      new Model(object).validate();
    } catch (error) {
      errors.push(`${key} ${object.metadata.name}: ${(error as Error).message}`);
    }
  }
  return errors;
}
