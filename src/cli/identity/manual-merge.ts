import type { PoolClient } from '../../db/pool';
import { compatible, hardSets, mergeEntities, PERSON_SPEC } from '../../identity/resolver';
import type { FoldSettings } from '../../snapshots/store';
import { refoldPerson } from '../../snapshots/store';
import type { AliasKey, LockedPerson } from './locks';
import { lockPersons } from './locks';

export type ManualMergeOutcome =
  | {
      merged: true;
      mergeId: number;
      survivorId: string;
      mergedIds: string[];
      /** Each involved person's aliases just before the merge. */
      aliases: Record<string, AliasKey[]>;
    }
  | { merged: false; reason: string };

/**
 * Merges persons that share no identifier (an operator's decision) exactly as the resolver merges on evidence:
 * under the identity locks, the person with the oldest anchor survives, the others become tombstones, the merge is
 * audited with before-images (so rollback-merge can undo it) and the survivor is refolded from every observation.
 * Refuses persons that are gone, already merged, or hold different Sales Navigator ids / member numbers.
 * Must run in a transaction.
 */
export async function mergePersons(
  client: PoolClient,
  personIds: readonly string[],
  reason: string,
  settings: FoldSettings,
  /** Runs once the persons are locked: a reason not to merge them after all, or null. */
  check?: (ids: readonly string[]) => Promise<string | null>,
): Promise<ManualMergeOutcome> {
  const ids = [...new Set(personIds)];
  if (ids.length < 2) return { merged: false, reason: 'fewer than two persons' };
  const locked = await lockPersons(client, ids);
  const missing = ids.filter((id) => !locked.has(id));
  if (missing.length > 0) return { merged: false, reason: `no such person: ${missing.join(', ')}` };
  const persons = ids.map((id) => locked.get(id)!);
  const tombstones = persons.filter((person) => person.mergedInto !== null);
  if (tombstones.length > 0) {
    return {
      merged: false,
      reason: `already merged: ${tombstones.map((p) => `${p.id} into ${p.mergedInto}`).join(', ')}`,
    };
  }
  const conflict = hardConflict(persons);
  if (conflict) return { merged: false, reason: conflict };
  const objection = check ? await check(ids) : null;
  if (objection) return { merged: false, reason: objection };

  const [survivor, ...others] = [...persons].sort((a, b) => a.anchor - b.anchor || a.id.localeCompare(b.id));
  const mergedIds = others.map((person) => person.id);
  const mergeId = await mergeEntities(client, PERSON_SPEC, survivor!.id, mergedIds, reason, null);
  await refoldPerson(client, survivor!.id, settings);
  return {
    merged: true,
    mergeId,
    survivorId: survivor!.id,
    mergedIds,
    aliases: Object.fromEntries(persons.map((person) => [person.id, person.aliases])),
  };
}

/** Why these persons can never be one (different Sales Navigator ids or member numbers), or null. */
export function hardConflict(persons: readonly Pick<LockedPerson, 'id' | 'aliases'>[]): string | null {
  const combined = new Map<string, Set<string>>();
  for (const person of persons) {
    const hard = hardSets(person.aliases.filter((alias) => PERSON_SPEC.hardKinds.has(alias.kind)));
    if (!compatible(combined, hard)) {
      return `person ${person.id} holds a Sales Navigator id or member number the others contradict`;
    }
    for (const [kind, values] of hard) {
      const set = combined.get(kind) ?? new Set<string>();
      values.forEach((value) => set.add(value));
      combined.set(kind, set);
    }
  }
  return null;
}
