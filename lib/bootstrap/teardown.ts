/**
 * Removes what bootstrap created: the kind cluster, or on an existing cluster every object
 * carrying our managed-by label and then the namespace (only if we created it). Nothing to
 * delete is not an error.
 */
import { deleteKindCluster } from '../tools/kind.ts';
import type { Kubectl } from '../tools/kubectl.ts';
import { MANAGED_BY, MANAGED_SELECTOR } from '../render/names.ts';
import type { Runner } from '../core/exec.ts';
import type { Redactor } from '../core/redact.ts';
import type { Config } from '../config/schema.ts';

// Every namespaced kind the templates and secrets produce.
export const MANAGED_KINDS = 'ingresses.networking.k8s.io,deployments.apps,statefulsets.apps,services,persistentvolumeclaims,configmaps,secrets,rolebindings.rbac.authorization.k8s.io,roles.rbac.authorization.k8s.io,serviceaccounts';

export async function teardownKind(runner: Runner, config: Config, redactor?: Redactor): Promise<string> {
  const outcome = await deleteKindCluster(runner, config.cluster.name, redactor);
  return outcome === 'deleted' ? `deleted kind cluster ${config.cluster.name}` : `no kind cluster ${config.cluster.name}: nothing to delete`;
}

export async function teardownExisting(kubectl: Kubectl, namespace: string, timeoutSeconds = 180): Promise<string> {
  const ns = await kubectl.exec(['get', 'namespace', namespace, '--ignore-not-found', '-o', 'jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}'], { timeoutMs: 30_000 });
  if (ns.exitCode !== 0) throw new Error(`reading namespace ${namespace}: ${ns.stderr.trim()}`);
  const exists = ns.stdout !== '' || (await kubectl.exec(['get', 'namespace', namespace, '-o', 'name'], { timeoutMs: 30_000 })).exitCode === 0;
  if (!exists) return `namespace ${namespace} does not exist: nothing to delete`;
  const deleted = await kubectl.run(['delete', MANAGED_KINDS, '-n', namespace, '-l', MANAGED_SELECTOR, '--ignore-not-found', '--wait=true', `--timeout=${timeoutSeconds}s`, '-o', 'name'], { timeoutMs: (timeoutSeconds + 30) * 1000 });
  const count = deleted.stdout.split('\n').filter(Boolean).length;
  // A namespace someone else made (say "default") keeps existing; only ours is removed.
  if (ns.stdout.trim() === MANAGED_BY) {
    await kubectl.run(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=true', `--timeout=${timeoutSeconds}s`], { timeoutMs: (timeoutSeconds + 30) * 1000 });
    return `deleted ${count} objects and namespace ${namespace}`;
  }
  return `deleted ${count} objects; namespace ${namespace} was not created by ${MANAGED_BY} and stays`;
}
