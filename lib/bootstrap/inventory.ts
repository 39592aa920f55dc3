/**
 * The stack's inventory: a ConfigMap in its namespace listing every object the stack applies
 * (like kubectl's ApplySet parent or kapp's app record), split by how it came to be ours:
 *   created:  absent before our apply made it; prune and teardown may delete it
 *   adopted:  it existed before our first apply; we stop managing it, but never delete it
 *   retained: PVCs prune kept (data is never deleted silently); --prune-volumes may delete them
 * Deleting also needs the live object to still carry our ownership (our managed-by label and
 * our field manager), so an object we never applied, or one someone re-created by hand under
 * the same name, is never deleted.
 */
import type { K8sObject } from '../render/manifests.ts';
import { FIELD_MANAGER, INVENTORY_NAME, MANAGED_BY, MANAGED_LABELS } from '../render/names.ts';
import type { LiveObject } from '../tools/kubectl.ts';

/** An object of the stack, by what identifies it in its namespace. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
}

export interface Inventory {
  created: ObjectRef[];
  adopted: ObjectRef[];
  retained: ObjectRef[];
}

export const EMPTY_INVENTORY: Inventory = { created: [], adopted: [], retained: [] };

const LISTS = ['created', 'adopted', 'retained'] as const;

export function refOf(object: K8sObject): ObjectRef {
  return { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name };
}

/** `Kind name`: how reports name an object, and how refs are compared. */
export function refKey(ref: ObjectRef): string {
  return `${ref.kind} ${ref.name}`;
}

/** The stub that finds the inventory in a `kubectl get -f -`. */
export function inventoryStub(namespace: string): K8sObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: INVENTORY_NAME, namespace } };
}

const LINE = /^(\S+) (\S+) (\S+)$/;

function parseRefs(text: string | undefined): ObjectRef[] {
  return (text ?? '')
    .split('\n')
    .map((line) => LINE.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, apiVersion, kind, name]) => ({ apiVersion: apiVersion!, kind: kind!, name: name! }));
}

const formatRefs = (refs: ObjectRef[]) => refs.map((ref) => `${ref.apiVersion} ${ref.kind} ${ref.name}\n`).join('');

/** Reads the inventory from the live objects; an absent or foreign ConfigMap means none. */
export function readInventory(live: LiveObject[], namespace: string): Inventory | undefined {
  const found = live.find(
    (o) =>
      o.kind === 'ConfigMap' && o.metadata.name === INVENTORY_NAME && (o.metadata.namespace ?? namespace) === namespace,
  );
  if (!found || found.metadata.labels?.['app.kubernetes.io/managed-by'] !== MANAGED_BY) return undefined;
  const data = (found as { data?: Record<string, string> }).data ?? {};
  return { created: parseRefs(data.created), adopted: parseRefs(data.adopted), retained: parseRefs(data.retained) };
}

export function inventoryObject(namespace: string, inventory: Inventory): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: INVENTORY_NAME, namespace, labels: { ...MANAGED_LABELS } },
    data: Object.fromEntries(LISTS.map((list) => [list, formatRefs(sorted(inventory[list]))])),
  };
}

function sorted(refs: ObjectRef[]): ObjectRef[] {
  const unique = new Map(refs.map((ref) => [refKey(ref), ref]));
  return [...unique.values()].sort((a, b) => refKey(a).localeCompare(refKey(b)));
}

export function sameInventory(a: Inventory | undefined, b: Inventory): boolean {
  if (!a) return false;
  return LISTS.every((list) => formatRefs(sorted(a[list])) === formatRefs(sorted(b[list])));
}

/**
 * The inventory after an apply: objects the apply created join `created`, objects that
 * existed before (and were not ours already) join `adopted`; nothing is dropped (prune does that).
 * A volume prune kept (`retained`) was ours all along: applied again, it returns to `created`.
 */
export function recordApplied(inventory: Inventory, created: ObjectRef[], applied: ObjectRef[]): Inventory {
  const appliedKeys = new Set(applied.map(refKey));
  const returning = inventory.retained.filter((ref) => appliedKeys.has(refKey(ref)));
  const known = new Set([...inventory.created, ...inventory.adopted, ...returning].map(refKey));
  const fresh = new Set(created.map(refKey));
  return {
    created: sorted([...inventory.created, ...returning, ...created]),
    adopted: sorted([
      ...inventory.adopted,
      ...applied.filter((ref) => !known.has(refKey(ref)) && !fresh.has(refKey(ref))),
    ]),
    retained: without(inventory.retained, applied),
  };
}

/** Refs in `from` that `minus` does not have. */
export function without(from: ObjectRef[], minus: ObjectRef[]): ObjectRef[] {
  const gone = new Set(minus.map(refKey));
  return from.filter((ref) => !gone.has(refKey(ref)));
}

/**
 * Ours beyond doubt: our managed-by label, and our field manager among those that applied it.
 * A name on the inventory alone is not enough (the object may have been deleted and made
 * again by hand since).
 */
export function ownedByUs(object: LiveObject): boolean {
  if (object.metadata.labels?.['app.kubernetes.io/managed-by'] !== MANAGED_BY) return false;
  return (object.metadata.managedFields ?? []).some(
    (entry) => entry.manager === FIELD_MANAGER && entry.operation === 'Apply',
  );
}
