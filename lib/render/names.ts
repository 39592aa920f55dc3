/** Names of the objects the tool creates, in one place so manifests, secrets and tests agree. */
export const MANAGED_BY = 'demon-bootstrap';
export const PART_OF = 'demon';
export const FIELD_MANAGER = 'demon-bootstrap';

export const MANAGED_LABELS = {
  'app.kubernetes.io/part-of': PART_OF,
  'app.kubernetes.io/managed-by': MANAGED_BY,
} as const;

/** Selects everything this tool created. */
export const MANAGED_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY}`;

export function pullSecretName(registry: string): string {
  return `demon-pull-${registry}`;
}
