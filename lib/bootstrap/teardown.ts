/**
 * Removes what this stack created, and nothing else:
 *   - the objects its inventory lists as created, each checked to still carry our ownership;
 *     adopted objects (they existed before) stay;
 *   - volumes (PVCs, those of our StatefulSets included) only with --delete-volumes;
 *   - the namespace only when this tool created it (its created-by mark) and nothing else is
 *     left in it: a namespace we found, or one somebody else has since put things in, stays.
 * Nothing to delete is not an error. (A kind cluster this tool created is deleted whole by the
 * provider instead; this is for existing clusters and kind clusters someone else made.)
 */
import { toYaml, type K8sObject } from '../render/manifests.ts';
import { CREATED_BY, INVENTORY_NAME, MANAGED_BY, MANAGED_SELECTOR } from '../render/names.ts';
import { objectKey, type Kubectl, type LiveObject } from '../tools/kubectl.ts';
import { inventoryStub, ownedByUs, readInventory, refKey, type ObjectRef } from './inventory.ts';

// What a namespace holds of its own accord, or because of our workloads (their pods,
// ReplicaSets, revisions, endpoints): never a reason to keep it.
const BACKGROUND_KINDS = [
  'pod',
  'replicaset.apps',
  'controllerrevision.apps',
  'endpoints',
  'endpointslice.discovery.k8s.io',
  'event',
  'event.events.k8s.io',
];
const BACKGROUND = (name: string) =>
  name === 'serviceaccount/default' ||
  name === 'configmap/kube-root-ca.crt' ||
  BACKGROUND_KINDS.includes(name.split('/')[0]!);
// Everything a namespace commonly holds; `all` covers the workload kinds and Services.
const CONTENTS = [
  'all',
  'configmaps',
  'secrets',
  'persistentvolumeclaims',
  'serviceaccounts',
  'roles.rbac.authorization.k8s.io',
  'rolebindings.rbac.authorization.k8s.io',
  'ingresses.networking.k8s.io',
].join(',');

function stub(ref: ObjectRef, namespace: string): K8sObject {
  return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace } };
}

/** The PVCs a StatefulSet's claim templates made: `<template>-<statefulset>-<ordinal>`, with our label. */
async function claimsOf(kubectl: Kubectl, namespace: string, statefulSets: LiveObject[]): Promise<string[]> {
  const patterns = statefulSets.flatMap((sts) =>
    (
      (sts.spec as { volumeClaimTemplates?: { metadata?: { name?: string } }[] } | undefined)?.volumeClaimTemplates ??
      []
    ).map((template) => new RegExp(`^${template.metadata?.name ?? ''}-${sts.metadata.name}-\\d+$`)),
  );
  if (patterns.length === 0) return [];
  const list = await kubectl.run(
    ['get', 'persistentvolumeclaims', '-n', namespace, '-l', MANAGED_SELECTOR, '-o', 'name'],
    { timeoutMs: 30_000 },
  );
  return list.stdout
    .split('\n')
    .map((line) => line.trim().replace(/^persistentvolumeclaim\//, ''))
    .filter((name) => name && patterns.some((pattern) => pattern.test(name)));
}

export interface TeardownOptions {
  /** Delete the stack's volumes too (--delete-volumes). */
  volumes: boolean;
  /** if-ours: delete the namespace when we created it and nothing else is in it; keep: never. */
  namespace?: 'if-ours' | 'keep';
  timeoutSeconds?: number;
}

export async function teardownObjects(kubectl: Kubectl, namespace: string, options: TeardownOptions): Promise<string> {
  const timeout = options.timeoutSeconds ?? 180;
  const nsStub: K8sObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };
  const found = await kubectl.getObjects([nsStub, inventoryStub(namespace)], { managedFields: true });
  const ns = found.find((o) => o.kind === 'Namespace');
  if (!ns) return `namespace ${namespace} does not exist: nothing to delete`;
  const inventory = readInventory(found, namespace);
  const ours = ns.metadata.annotations?.[CREATED_BY] === MANAGED_BY;

  const created = inventory?.created ?? [];
  const listed = [...created, ...(inventory?.retained ?? [])];
  const live = listed.length
    ? await kubectl.getObjects(
        listed.map((ref) => stub(ref, namespace)),
        { managedFields: true },
      )
    : [];
  const byKey = new Map(live.map((o) => [objectKey({ ...o, metadata: { ...o.metadata, namespace } }), o]));
  const liveOf = (ref: ObjectRef) => byKey.get(objectKey(stub(ref, namespace)));

  const isVolume = (ref: ObjectRef) => ref.kind === 'PersistentVolumeClaim';
  const mine = listed.filter((ref) => liveOf(ref) && ownedByUs(liveOf(ref)!));
  const notOurs = listed.filter((ref) => liveOf(ref) && !ownedByUs(liveOf(ref)!));
  const statefulSets = mine.filter((ref) => ref.kind === 'StatefulSet').map((ref) => liveOf(ref)!);
  const claims = await claimsOf(kubectl, namespace, statefulSets);
  const volumes = [...mine.filter(isVolume).map((ref) => ref.name), ...claims];
  const toDelete: K8sObject[] = [
    ...mine.filter((ref) => !isVolume(ref)).map((ref) => stub(ref, namespace)),
    ...(options.volumes
      ? volumes.map((name) => stub({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', name }, namespace))
      : []),
  ];
  if (toDelete.length) {
    await kubectl.run(['delete', '-f', '-', '--ignore-not-found', '--wait=true', `--timeout=${timeout}s`], {
      input: toYaml(toDelete),
      timeoutMs: (timeout + 30) * 1000,
    });
  }
  const keptVolumes = options.volumes ? [] : volumes;
  // The inventory goes last, once what it lists is gone (or, for kept volumes, stays listed).
  if (inventory && keptVolumes.length === 0) {
    await kubectl.run(['delete', 'configmap', INVENTORY_NAME, '-n', namespace, '--ignore-not-found'], {
      timeoutMs: 30_000,
    });
  }

  const parts = [
    inventory
      ? `deleted ${toDelete.length} objects`
      : `no inventory of ${MANAGED_BY} in namespace ${namespace}, so no objects to delete`,
  ];
  if (keptVolumes.length) parts.push(`kept volumes ${keptVolumes.join(', ')} (pass --delete-volumes to delete them)`);
  if (notOurs.length) parts.push(`left alone, no longer ours: ${notOurs.map(refKey).join(', ')}`);
  const done = (last: string) => [...parts, last].join('; ');
  if (options.namespace === 'keep') return done(`namespace ${namespace} stays`);
  if (!ours) return done(`namespace ${namespace} was not created by ${MANAGED_BY} and stays`);
  if (keptVolumes.length) return done(`namespace ${namespace} stays, it holds the kept volumes`);

  const left = (await kubectl.run(['get', CONTENTS, '-n', namespace, '-o', 'name'], { timeoutMs: 60_000 })).stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !BACKGROUND(line));
  if (left.length) {
    const shown = `${left.slice(0, 5).join(', ')}${left.length > 5 ? `, and ${left.length - 5} more` : ''}`;
    return done(`namespace ${namespace} stays: it also holds ${shown}, which ${MANAGED_BY} did not create`);
  }
  await kubectl.run(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=true', `--timeout=${timeout}s`], {
    timeoutMs: (timeout + 30) * 1000,
  });
  return done(`deleted namespace ${namespace}`);
}
