/** Names of the objects the tool creates, in one place so manifests, secrets and tests agree. */
export const MANAGED_BY = 'demon-bootstrap';
export const PART_OF = 'demon';
export const FIELD_MANAGER = 'demon-bootstrap';

export const MANAGED_LABELS = {
  'app.kubernetes.io/part-of': PART_OF,
  'app.kubernetes.io/managed-by': MANAGED_BY,
} as const;

/** Selects everything this tool labelled. */
export const MANAGED_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY}`;
/** Selects the stack's objects (pods included: the templates label them). */
export const PART_OF_SELECTOR = `app.kubernetes.io/part-of=${PART_OF}`;

/**
 * Set only when this tool itself creates a thing (a namespace by `kubectl create`, a kind
 * cluster's nodes through the kind config): an apply never adds it to something that already
 * existed, so it proves creation, and teardown deletes a namespace or a cluster only with it.
 */
export const CREATED_BY = 'demon-bootstrap.io/created-by';

/** The ConfigMap listing what the last successful run applied (prune and teardown read it). */
export const INVENTORY_NAME = 'demon-bootstrap-inventory';

export function pullSecretName(registry: string): string {
  return `demon-pull-${registry}`;
}

/** The pods of one workload: every template labels them with the workload's name. */
export function podSelector(workload: string): string {
  return `app.kubernetes.io/name=${workload},${PART_OF_SELECTOR}`;
}
