/**
 * --diff: what a real run would do, from the live cluster, changing nothing. Each object is
 * compared with what a server-side dry-run apply returns (so defaulting and admission are
 * accounted for): to create, to change (with a unified diff of the fields that would change),
 * unchanged; plus what prune would delete or keep. A Secret's values are never shown, not
 * even masked: only the names of the keys whose values differ.
 */
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { K8sObject } from '../render/manifests.ts';
import { objectKey, valueDigest, type Kubectl, type LiveObject } from '../tools/kubectl.ts';
import { applyObjects, ConflictError, ImmutableError, ownsStatefulSet, type Look } from './converge.ts';
import { refKey, refOf } from './inventory.ts';
import { classifyPrune, prunePlan } from './prune.ts';

export type Change = 'create' | 'change' | 'unchanged';

export interface ObjectDiff {
  object: K8sObject;
  change: Change;
  /** A unified diff of the object's fields (never of a Secret's values). */
  patch?: string;
  /** For Secrets: keys added, removed, or whose value would change. */
  secretKeys?: string[];
}

export interface DiffResult {
  objects: ObjectDiff[];
  /** The namespace would be created. */
  namespace?: string;
  prune: string[];
  keep: string[];
  /** Listed in the inventory, but made again by hand or relabelled: the prune leaves them. */
  notOurs: string[];
  /** Adopted objects the plan dropped: the run stops tracking them, nothing is deleted. */
  release: string[];
  /** Our StatefulSets whose immutable fields change: the run re-creates them, pods and volumes kept. */
  replace: string[];
  conflicts: string[];
}

// Fields the server owns; they say nothing about what the apply changes.
const SERVER_FIELDS = ['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp', 'selfLink'];

function comparable(object: LiveObject): Record<string, unknown> {
  const { status: _status, ...rest } = object as LiveObject & { status?: unknown };
  const metadata = Object.fromEntries(Object.entries(object.metadata).filter(([key]) => !SERVER_FIELDS.includes(key)));
  return { ...rest, metadata };
}

const yaml = (value: unknown) => stringify(value, { lineWidth: 0, sortMapEntries: true });

/** Keys of a Secret whose value is new, gone or different (compared by digest). */
function secretKeysChanged(live: LiveObject, planned: K8sObject): string[] {
  const before = (live.data ?? {}) as Record<string, string>;
  const after = Object.fromEntries(
    Object.entries((planned.data ?? {}) as Record<string, string>).map(([key, value]) => [key, valueDigest(value)]),
  );
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((key) => before[key] !== after[key])
    .sort();
}

function withoutData(object: Record<string, unknown>): Record<string, unknown> {
  const { data: _data, stringData: _stringData, ...rest } = object;
  return rest;
}

export async function diffPlan(
  kubectl: Kubectl,
  objects: K8sObject[],
  seen: Look,
  options: { force: boolean; pruneVolumes: boolean },
): Promise<DiffResult> {
  const namespace = objects[0]?.metadata.namespace ?? '';
  const planned = objects.map(refOf);
  // What the real prune would do, not what the inventory lists: an object since deleted, or
  // re-made by hand (no longer ours), is not promised as a deletion.
  const pruning = await classifyPrune(kubectl, namespace, prunePlan(seen.inventory, planned, options.pruneVolumes));
  const result: DiffResult = {
    objects: [],
    prune: pruning.deleted.map(refKey),
    keep: pruning.kept.map(refKey),
    notOurs: pruning.notOurs.map(refKey),
    release: pruning.released.map(refKey),
    replace: [],
    conflicts: [],
  };
  if (seen.namespace === 'missing') {
    // Nothing namespaced can be dry-run in a namespace that does not exist yet: all new.
    return { ...result, namespace, objects: objects.map((object) => ({ object, change: 'create' })) };
  }
  // A StatefulSet whose immutable fields change fails the dry run; the real run replaces it
  // (ours) or stops (not ours). Say which, and dry-run the rest without it.
  let dryRun = objects;
  let after: LiveObject[] = [];
  let force = options.force;
  let settled = false;
  // At most: one round of StatefulSets to set aside, one of conflicts, then the dry run that counts.
  for (let attempt = 0; attempt < 3 && !settled; attempt += 1) {
    try {
      after = await applyObjects(kubectl, dryRun, { force, dryRun: true });
      settled = true;
    } catch (error) {
      if (error instanceof ImmutableError && result.replace.length === 0) {
        const owned = ownsStatefulSet(seen, namespace);
        for (const name of error.names) {
          if (owned(name)) result.replace.push(`StatefulSet ${name}`);
          else result.conflicts.push(`StatefulSet ${name}: cannot change in place and was not created by this tool`);
        }
        const skipped = new Set(error.names);
        dryRun = dryRun.filter((o) => !(o.kind === 'StatefulSet' && skipped.has(o.metadata.name)));
        continue;
      }
      if (!(error instanceof ConflictError) || force) throw error;
      result.conflicts.push(...error.conflicts);
      force = true;
    }
  }
  if (!settled)
    throw new Error(
      'the server-side dry run kept failing; run `kubectl apply --server-side --dry-run=server` on the plan to see why',
    );
  const replaced = new Set(result.replace);
  const byKey = new Map(
    after.map((o) => [
      objectKey({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? namespace } }),
      o,
    ]),
  );
  for (const object of objects) {
    if (replaced.has(`${object.kind} ${object.metadata.name}`)) continue;
    const live = seen.live.get(objectKey(object));
    const dry = byKey.get(objectKey(object));
    if (!live) {
      result.objects.push({ object, change: 'create' });
      continue;
    }
    const secretKeys = object.kind === 'Secret' ? secretKeysChanged(live, object) : [];
    const before = yaml(object.kind === 'Secret' ? withoutData(comparable(live)) : comparable(live));
    const next = dry ? yaml(object.kind === 'Secret' ? withoutData(comparable(dry)) : comparable(dry)) : before;
    const name = `${object.kind} ${object.metadata.name}`;
    const patch =
      before === next
        ? undefined
        : createTwoFilesPatch(`${name} (live)`, `${name} (after apply)`, before, next, '', '', { context: 3 });
    const change: Change = patch || secretKeys.length ? 'change' : 'unchanged';
    result.objects.push({ object, change, ...(patch ? { patch } : {}), ...(secretKeys.length ? { secretKeys } : {}) });
  }
  return result;
}

/** What --diff prints on stdout. */
export function formatDiff(result: DiffResult): string {
  const lines: string[] = [];
  if (result.namespace) lines.push(`+ Namespace ${result.namespace} (create)`);
  for (const entry of result.objects) {
    const name = `${entry.object.kind} ${entry.object.metadata.name}`;
    if (entry.change === 'create') lines.push(`+ ${name} (create)`);
    if (entry.change !== 'change') continue;
    lines.push(`~ ${name} (change)`);
    if (entry.secretKeys?.length) lines.push(`    values changed: ${entry.secretKeys.join(', ')} (values not shown)`);
    if (entry.patch) {
      // From the first hunk on: the file header lines only repeat the object's name.
      const body = entry.patch.split('\n');
      lines.push(
        ...body
          .slice(body.findIndex((line) => line.startsWith('@@')))
          .filter((line) => line !== '')
          .map((line) => `    ${line}`),
      );
    }
  }
  for (const name of result.replace)
    lines.push(`~ ${name} (replace: fields that cannot change in place change; its pods and volumes are kept)`);
  for (const name of result.prune) lines.push(`- ${name} (prune: delete)`);
  for (const name of result.keep) lines.push(`= ${name} (prune keeps it: volumes go only with --prune-volumes)`);
  for (const name of result.notOurs) lines.push(`= ${name} (prune leaves it: no longer ours)`);
  for (const name of result.release)
    lines.push(`= ${name} (no longer managed, left in place: it existed before this stack)`);
  for (const conflict of result.conflicts)
    lines.push(`! ${conflict} (the apply would stop here; --force-conflicts takes the field)`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function diffSummary(result: DiffResult): { text: string; changes: number } {
  const count = (change: Change) => result.objects.filter((o) => o.change === change).length;
  const creates = count('create') + (result.namespace ? 1 : 0);
  // Letting go of objects changes only the stack's own record, but it is still a change the run makes.
  const untracked = result.notOurs.length + result.release.length;
  const changed = count('change') + result.replace.length;
  const changes = creates + changed + result.prune.length + result.conflicts.length + untracked;
  const parts = [
    `${creates} to create`,
    `${changed} to change`,
    `${count('unchanged')} unchanged`,
    `${result.prune.length} to prune`,
  ];
  if (result.keep.length) parts.push(`${plural(result.keep.length, 'volume')} kept`);
  if (untracked) parts.push(`${untracked} no longer tracked`);
  if (result.conflicts.length) parts.push(`${result.conflicts.length} conflicts`);
  return {
    text:
      changes === 0 ? `no changes: the cluster matches the config (${count('unchanged')} unchanged)` : parts.join(', '),
    changes,
  };
}
