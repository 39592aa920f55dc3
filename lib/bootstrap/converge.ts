/**
 * Bringing the cluster to the plan, in as few kubectl processes as the checks allow:
 *   look:      one `kubectl get` of every planned object, the namespace and the inventory
 *   namespace: created (with the created-by mark) only when it is missing; an existing one is
 *              never changed, so it never looks like ours
 *   apply:     one server-side apply of the Secrets and manifests, in order; a field another
 *              manager owns is reported, and taken only with --force-conflicts
 * An unchanged re-run is the look and the apply. Each object's outcome (created, configured,
 * unchanged) compares what the look saw with what the apply returned.
 */
import { limiter } from '../core/pool.ts';
import type { K8sObject } from '../render/manifests.ts';
import { CREATED_BY, FIELD_MANAGER, MANAGED_BY } from '../render/names.ts';
import { CommandError } from '../core/exec.ts';
import { lastLine, objectKey, type Kubectl, type LiveObject } from '../tools/kubectl.ts';
import { inventoryStub, ownedByUs, readInventory, type Inventory } from './inventory.ts';

export type Outcome = 'created' | 'configured' | 'unchanged';

export interface ObjectOutcome {
  object: K8sObject;
  outcome: Outcome;
}

export interface Look {
  /** Live objects by objectKey(). */
  live: Map<string, LiveObject>;
  /** missing: we create it; ours: we created it earlier; theirs: it existed, and stays as it is. */
  namespace: 'missing' | 'ours' | 'theirs';
  inventory?: Inventory;
}

/** One look at everything the plan touches (Secret data is dropped as it is read). */
export async function look(kubectl: Kubectl, namespaceObject: K8sObject, objects: K8sObject[]): Promise<Look> {
  const namespace = namespaceObject.metadata.name;
  const wanted = [namespaceObject, ...objects, inventoryStub(namespace)];
  let live: LiveObject[];
  let namespaceReadable = true;
  try {
    live = await kubectl.getObjects(wanted, { managedFields: true });
  } catch (error) {
    // Namespace-scoped RBAC (common on shared clusters): the namespace itself cannot be read.
    if (!(error instanceof CommandError && /namespaces "[^"]+" is forbidden/.test(error.stderr))) throw error;
    live = await kubectl.getObjects(wanted.slice(1), { managedFields: true });
    namespaceReadable = false;
  }
  const byKey = new Map(live.map((object) => [objectKey(withNamespace(object, namespace)), object]));
  const ns = byKey.get(objectKey(namespaceObject));
  const state = !namespaceReadable
    ? 'theirs'
    : !ns
      ? 'missing'
      : ns.metadata.annotations?.[CREATED_BY] === MANAGED_BY
        ? 'ours'
        : 'theirs';
  const inventory = readInventory(live, namespace);
  return { live: byKey, namespace: state, ...(inventory ? { inventory } : {}) };
}

function withNamespace(object: LiveObject, namespace: string): LiveObject {
  return object.kind === 'Namespace' || object.metadata.namespace
    ? object
    : { ...object, metadata: { ...object.metadata, namespace } };
}

/**
 * Creates the namespace with our created-by mark, only when the look found none: `create`
 * fails if someone made it in the meantime, so the mark is only ever on one we created.
 */
export async function ensureNamespace(
  kubectl: Kubectl,
  namespaceObject: K8sObject,
  state: Look['namespace'],
): Promise<string> {
  const name = namespaceObject.metadata.name;
  if (state === 'ours') return `namespace ${name} unchanged`;
  if (state === 'theirs') return `namespace ${name} exists (not created by ${MANAGED_BY}: left as it is)`;
  const marked = {
    ...namespaceObject,
    metadata: {
      ...namespaceObject.metadata,
      annotations: { ...namespaceObject.metadata.annotations, [CREATED_BY]: MANAGED_BY },
    },
  };
  const result = await kubectl.create([marked]);
  if (result.exitCode === 0) return `namespace ${name} created`;
  if (/AlreadyExists/.test(result.stderr))
    return `namespace ${name} exists (created by someone else just now: left as it is)`;
  throw kubectl.failure(result);
}

/**
 * What says "our apply changed it": the time of our field manager's entry (moved only by a
 * change it made), the generation of a workload, and the resourceVersion of kinds that have
 * no status for controllers to update (so two changes in the same second still show).
 */
const STATUSLESS = new Set(['ConfigMap', 'Secret', 'ServiceAccount', 'Role', 'RoleBinding']);

export function fingerprint(object: LiveObject): string {
  const ours = (object.metadata.managedFields ?? []).find(
    (entry) => entry.manager === FIELD_MANAGER && entry.operation === 'Apply',
  );
  return [
    ours?.time ?? '-',
    object.metadata.generation ?? '-',
    STATUSLESS.has(object.kind) ? object.metadata.resourceVersion : '-',
  ].join('|');
}

export function outcomesOf(
  objects: K8sObject[],
  before: Look['live'],
  after: LiveObject[],
  namespace: string,
): ObjectOutcome[] {
  const applied = new Map(after.map((object) => [objectKey(withNamespace(object, namespace)), object]));
  return objects.map((object) => {
    const key = objectKey(object);
    const was = before.get(key);
    const now = applied.get(key);
    const outcome: Outcome = !was
      ? 'created'
      : now && fingerprint(now) === fingerprint(was)
        ? 'unchanged'
        : 'configured';
    return { object, outcome };
  });
}

export function summarize(outcomes: ObjectOutcome[]): string {
  const counts = new Map<Outcome, number>();
  for (const { outcome } of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  const parts = (['created', 'configured', 'unchanged'] as const)
    .filter((o) => counts.has(o))
    .map((o) => `${counts.get(o)} ${o}`);
  return parts.join(', ') || 'nothing to apply';
}

/** A server-side apply that met fields owned by another manager, per object, with the fix. */
export class ConflictError extends Error {
  constructor(readonly conflicts: string[]) {
    super(
      `${conflicts.length} object${conflicts.length === 1 ? ' has' : 's have'} fields that another tool manages, so nothing was forced:\n` +
        conflicts.map((line) => `  - ${line}`).join('\n') +
        '\nre-run with --force-conflicts to take these fields back (the config wins), or change the config to match the cluster',
    );
    this.name = 'ConflictError';
  }
}

const CONFLICT = /Apply failed with \d+ conflicts?: (.*)/;

/** Which objects conflict, and over what: one server-side dry-run per object (on the failure path only). */
async function findConflicts(kubectl: Kubectl, objects: K8sObject[]): Promise<string[]> {
  const limit = limiter(4);
  const found = await Promise.all(
    objects.map((object) =>
      limit(async () => {
        try {
          await kubectl.apply([object], { dryRun: true });
          return undefined;
        } catch (error) {
          const line = error instanceof CommandError ? CONFLICT.exec(error.stderr)?.[1] : undefined;
          return line ? `${object.kind} ${object.metadata.name}: ${line}` : undefined;
        }
      }),
    ),
  );
  return found.filter((line): line is string => line !== undefined);
}

// A StatefulSet's volume claim templates (and selector, service name) cannot change in place.
const IMMUTABLE_STATEFULSET =
  /The StatefulSet "([^"]+)" is invalid: spec: Forbidden: updates to statefulset spec for fields other than/g;

/**
 * A StatefulSet of ours whose immutable fields changed (persistence turned on or off, the
 * claim template relabelled) is deleted with --cascade=orphan and applied again: its pods run
 * on until replaced, and its volumes stay. One that is not ours is left for its owner.
 */
async function replaceStatefulSets(
  kubectl: Kubectl,
  names: string[],
  namespace: string,
  owned: (name: string) => boolean,
): Promise<string[]> {
  const theirs = names.filter((name) => !owned(name));
  if (theirs.length)
    throw new Error(
      `StatefulSet ${theirs.join(', ')} cannot change in place and was not created by this tool; change it yourself`,
    );
  for (const name of names) {
    await kubectl.run(
      ['delete', 'statefulset', name, '-n', namespace, '--cascade=orphan', '--wait=true', '--timeout=60s'],
      { timeoutMs: 90_000 },
    );
  }
  return names;
}

/** A dry run met StatefulSets whose immutable fields change: a real run would replace them. */
export class ImmutableError extends Error {
  constructor(readonly names: string[]) {
    super(`StatefulSet ${names.join(', ')} cannot change in place`);
    this.name = 'ImmutableError';
  }
}

/** Whether the StatefulSet the look saw is ours, so that a run may replace it. */
export function ownsStatefulSet(seen: Look, namespace: string): (name: string) => boolean {
  return (name) => {
    const live = seen.live.get(objectKey({ kind: 'StatefulSet', metadata: { name, namespace } }));
    return live !== undefined && ownedByUs(live);
  };
}

export interface ApplyOptions {
  force: boolean;
  dryRun?: boolean;
  /** Whether a StatefulSet may be replaced (it is ours); without it none is. */
  ownsStatefulSet?: (name: string) => boolean;
  /** Told about each StatefulSet replaced. */
  onReplace?: (name: string) => void;
}

/** Applies the objects; a conflict becomes a ConflictError naming each object and field. */
export async function applyObjects(
  kubectl: Kubectl,
  objects: K8sObject[],
  options: ApplyOptions,
): Promise<LiveObject[]> {
  const { force, dryRun } = options;
  try {
    return await kubectl.apply(objects, { force, ...(dryRun ? { dryRun } : {}) });
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    const immutable = [...error.stderr.matchAll(IMMUTABLE_STATEFULSET)].map((m) => m[1]!);
    if (immutable.length && dryRun) throw new ImmutableError(immutable);
    if (immutable.length && options.ownsStatefulSet) {
      const namespace = objects[0]?.metadata.namespace ?? '';
      for (const name of await replaceStatefulSets(kubectl, immutable, namespace, options.ownsStatefulSet))
        options.onReplace?.(name);
      return kubectl.apply(objects, { force });
    }
    if (!CONFLICT.test(error.stderr)) throw error;
    const conflicts = await findConflicts(kubectl, objects);
    throw new ConflictError(conflicts.length ? conflicts : [lastLine(error.stderr)]);
  }
}
