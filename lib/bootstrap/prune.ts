/**
 * Prune: after a successful wait, delete what the stack created earlier and the plan no longer
 * has (a dropped component, monitoring turned off, a renamed registry's pull Secret).
 * Only objects in the inventory's `created` list that still carry our ownership are deleted;
 * adopted objects are let go, not deleted; PVCs are kept, and listed as retained, unless
 * --prune-volumes. So a failed rollout (the wait failed: prune never runs) never removes the
 * old version, and data never goes silently.
 */
import { toYaml, type K8sObject } from '../render/manifests.ts';
import { objectKey, type Kubectl, type LiveObject } from '../tools/kubectl.ts';
import { ownedByUs, refKey, without, type Inventory, type ObjectRef } from './inventory.ts';

export interface PrunePlan {
  /** Created by us, not in the plan: deleted when still ours. */
  delete: ObjectRef[];
  /** PVCs among them, kept unless volumes may go. */
  keep: ObjectRef[];
  /** Adopted objects the plan dropped: no longer managed, left in place. */
  release: ObjectRef[];
}

export function prunePlan(inventory: Inventory | undefined, planned: ObjectRef[], volumes: boolean): PrunePlan {
  if (!inventory) return { delete: [], keep: [], release: [] };
  const gone = without(inventory.created, planned);
  const isVolume = (ref: ObjectRef) => ref.kind === 'PersistentVolumeClaim';
  const retained = without(inventory.retained, planned);
  return {
    delete: [...gone.filter((ref) => volumes || !isVolume(ref)), ...(volumes ? retained : [])],
    keep: volumes ? [] : [...gone.filter(isVolume), ...retained],
    release: without(inventory.adopted, planned),
  };
}

export interface PruneResult {
  deleted: ObjectRef[];
  kept: ObjectRef[];
  /** Listed, but no longer ours (re-created by hand, or the label removed): left alone. */
  notOurs: ObjectRef[];
  released: ObjectRef[];
}

function stub(ref: ObjectRef, namespace: string): K8sObject {
  return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace } };
}

/**
 * What the prune plan comes to on the live cluster: each candidate looked at once, deleted only
 * when still there and still ours. `--diff` shows this, and the real prune then does it.
 */
export async function classifyPrune(kubectl: Kubectl, namespace: string, plan: PrunePlan): Promise<PruneResult> {
  const result: PruneResult = { deleted: [], kept: [], notOurs: [], released: plan.release };
  const candidates = [...plan.delete, ...plan.keep];
  if (candidates.length === 0) return result;
  const live = new Map(
    (
      await kubectl.getObjects(
        candidates.map((ref) => stub(ref, namespace)),
        { managedFields: true },
      )
    ).map((o: LiveObject) => [objectKey({ ...o, metadata: { ...o.metadata, namespace } }), o]),
  );
  const present = (ref: ObjectRef) => live.get(objectKey(stub(ref, namespace)));
  result.kept = plan.keep.filter((ref) => present(ref));
  result.deleted = plan.delete.filter((ref) => {
    const object = present(ref);
    if (object && !ownedByUs(object)) result.notOurs.push(ref);
    return object && ownedByUs(object);
  });
  return result;
}

/** Deletes what the prune plan says, after checking each live object is still ours. */
export async function prune(kubectl: Kubectl, namespace: string, plan: PrunePlan): Promise<PruneResult> {
  const result = await classifyPrune(kubectl, namespace, plan);
  if (result.deleted.length) {
    await kubectl.run(['delete', '-f', '-', '--ignore-not-found', '--wait=true', '--timeout=120s'], {
      input: toYaml(result.deleted.map((ref) => stub(ref, namespace))),
      timeoutMs: 150_000,
    });
  }
  return result;
}

/** `3 deleted (Deployment engine, Service engine, Secret demon-pull-old); kept PersistentVolumeClaim grafana` */
export function describePrune(result: PruneResult): string {
  const list = (refs: ObjectRef[]) => refs.map(refKey).join(', ');
  const parts = [`${result.deleted.length} deleted${result.deleted.length ? ` (${list(result.deleted)})` : ''}`];
  if (result.kept.length) parts.push(`kept ${list(result.kept)} (volumes go only with --prune-volumes)`);
  if (result.released.length)
    parts.push(`no longer managed, left in place: ${list(result.released)} (they existed before this stack)`);
  if (result.notOurs.length) parts.push(`left alone, no longer ours: ${list(result.notOurs)}`);
  return parts.join('; ');
}

/** The inventory once the prune is done: the plan's objects, plus the volumes still kept. */
export function inventoryAfterPrune(inventory: Inventory, planned: ObjectRef[], result: PruneResult): Inventory {
  const plannedKeys = new Set(planned.map(refKey));
  return {
    created: inventory.created.filter((ref) => plannedKeys.has(refKey(ref))),
    adopted: inventory.adopted.filter((ref) => plannedKeys.has(refKey(ref))),
    retained: result.kept,
  };
}
