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
import { applyObjects, ConflictError, type Look } from './converge.ts';
import { refKey, refOf } from './inventory.ts';
import { prunePlan } from './prune.ts';

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
  const pruning = prunePlan(seen.inventory, planned, options.pruneVolumes);
  const result: DiffResult = {
    objects: [],
    prune: pruning.delete.map(refKey),
    keep: pruning.keep.map(refKey),
    conflicts: [],
  };
  if (seen.namespace === 'missing') {
    // Nothing namespaced can be dry-run in a namespace that does not exist yet: all new.
    return { ...result, namespace, objects: objects.map((object) => ({ object, change: 'create' })) };
  }
  let after: LiveObject[];
  try {
    after = await applyObjects(kubectl, objects, { force: options.force, dryRun: true });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    result.conflicts = error.conflicts;
    after = await applyObjects(kubectl, objects, { force: true, dryRun: true });
  }
  const byKey = new Map(
    after.map((o) => [
      objectKey({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? namespace } }),
      o,
    ]),
  );
  for (const object of objects) {
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
  for (const name of result.prune) lines.push(`- ${name} (prune: delete)`);
  for (const name of result.keep) lines.push(`= ${name} (prune keeps it: volumes go only with --prune-volumes)`);
  for (const conflict of result.conflicts)
    lines.push(`! ${conflict} (the apply would stop here; --force-conflicts takes the field)`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export function diffSummary(result: DiffResult): { text: string; changes: number } {
  const count = (change: Change) => result.objects.filter((o) => o.change === change).length;
  const creates = count('create') + (result.namespace ? 1 : 0);
  const changes = creates + count('change') + result.prune.length + result.conflicts.length;
  const parts = [
    `${creates} to create`,
    `${count('change')} to change`,
    `${count('unchanged')} unchanged`,
    `${result.prune.length} to prune`,
  ];
  if (result.keep.length) parts.push(`${result.keep.length} volumes kept`);
  if (result.conflicts.length) parts.push(`${result.conflicts.length} conflicts`);
  return {
    text:
      changes === 0 ? `no changes: the cluster matches the config (${count('unchanged')} unchanged)` : parts.join(', '),
    changes,
  };
}
