import { v5 as uuidv5 } from 'uuid';
import type { PoolClient } from '../db/pool';

/**
 * Resolves an observation's identifiers to one canonical entity (a person or a company) and merges entities the
 * observation proves to be the same. The rules that make the outcome independent of processing order:
 *
 * - every entity remembers its anchor: the lowest observation id in its cluster;
 * - a new entity's id is the UUID v5 of the strongest identifier of its anchor observation;
 * - when entities merge, the one with the lowest anchor survives; if the observation itself is older than every
 *   entity it touches, the survivor is the entity its own identifiers name (created, or revived from a tombstone).
 *
 * Entities holding different values of a hard identifier kind (two Sales Navigator ids, two member numbers)
 * are never merged: the conflict is recorded and the observation joins only the compatible ones. Persons an operator
 * split apart (an unmerge decision, see src/cli/identity/decisions.ts) are kept apart the same way.
 */

export interface EntitySpec {
  entity: 'person' | 'company';
  table: 'persons' | 'companies';
  aliasTable: 'person_aliases' | 'company_aliases';
  aliasColumn: 'person_id' | 'company_id';
  observationColumn: 'person_id' | 'company_id';
  hardKinds: ReadonlySet<string>;
}

export const PERSON_SPEC: EntitySpec = {
  entity: 'person',
  table: 'persons',
  aliasTable: 'person_aliases',
  aliasColumn: 'person_id',
  observationColumn: 'person_id',
  hardKinds: new Set(['sales_nav_id', 'member_id']),
};

export const COMPANY_SPEC: EntitySpec = {
  entity: 'company',
  table: 'companies',
  aliasTable: 'company_aliases',
  aliasColumn: 'company_id',
  observationColumn: 'company_id',
  hardKinds: new Set(['linkedin_id']),
};

export interface AliasInput {
  kind: string;
  value: string;
  display: string;
}

export interface Resolution {
  entityId: string;
  created: boolean;
  mergedIds: string[];
  conflicts: number;
}

interface MatchedEntity {
  id: string;
  anchor: number;
  hard: Map<string, Set<string>>;
}

/** Why a named entity was kept apart from the observation's target: `identity_conflicts.kind`. */
export type ConflictKind = 'hard_identifier_mismatch' | 'operator_unmerge';

interface Rejection {
  entity: MatchedEntity;
  kind: ConflictKind;
  /** For operator_unmerge: the unmerge decisions (manual_identity_decisions ids) that keep it apart. */
  decisions: number[];
}

/** One operator unmerge: the live persons its persons are now (a tombstone counts as its survivor). */
interface Separation {
  decision: number;
  persons: ReadonlySet<string>;
}

/**
 * The owners of a list of identifiers (`kindsParam`, `valuesParam`: parallel text[] parameters), as a FROM item
 * with columns `kind`, `value` and `owner`. One index probe per identifier whatever the statistics: a plain join of
 * the alias table to unnest() was planned, in generic plans made while the table was small, as a hash join over a
 * sequential scan of the whole table.
 */
export function aliasOwnersSql(spec: EntitySpec, kindsParam: string, valuesParam: string): string {
  return `unnest(${kindsParam}::text[], ${valuesParam}::text[]) AS wanted(kind, value)
    CROSS JOIN LATERAL (SELECT ${spec.aliasColumn} AS owner FROM ${spec.aliasTable}
                         WHERE kind = wanted.kind AND value = wanted.value LIMIT 1) AS owned`;
}

export function entityId(namespace: string, spec: EntitySpec, alias: AliasInput): string {
  const prefix = spec.entity === 'person' ? '' : `${spec.entity}:`;
  return uuidv5(`${prefix}${alias.kind}:${alias.value}`, namespace);
}

/** Advisory-lock keys for a set of identifiers; callers lock every key of a transaction in one sorted batch. */
export function lockKeys(spec: EntitySpec, aliases: readonly AliasInput[]): string[] {
  return aliases.map((alias) => `${spec.entity}:${alias.kind}:${alias.value}`);
}

export async function lockIdentityKeys(client: PoolClient, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  // Sorted, so that two transactions needing overlapping keys always take them in the same order.
  await client.query(
    `SELECT pg_advisory_xact_lock(h)
       FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1) AS sorted`,
    [keys],
  );
}

/**
 * `aliases` must be sorted strongest first (the caller's priority order); the caller holds the advisory locks.
 */
export async function resolveEntity(
  client: PoolClient,
  spec: EntitySpec,
  namespace: string,
  observationId: number,
  aliases: readonly AliasInput[],
): Promise<Resolution> {
  const matched = await lockMatchedEntities(client, spec, aliases);
  // Only an observation naming several persons can join persons an operator split: the rare case pays the look-up.
  const separations =
    spec.entity === 'person' && matched.length > 1
      ? await operatorSeparations(
          client,
          matched.map((candidate) => candidate.id),
        )
      : [];
  const observationHard = hardSets(aliases.filter((alias) => spec.hardKinds.has(alias.kind)));

  const accepted: MatchedEntity[] = [];
  const rejected: Rejection[] = [];
  const combinedHard = cloneHard(observationHard);
  for (const candidate of [...matched].sort((a, b) => a.anchor - b.anchor || a.id.localeCompare(b.id))) {
    const separatedBy = separations
      .filter(({ persons }) => persons.has(candidate.id) && accepted.some((taken) => persons.has(taken.id)))
      .map(({ decision }) => decision);
    if (!compatible(combinedHard, candidate.hard)) {
      rejected.push({ entity: candidate, kind: 'hard_identifier_mismatch', decisions: [] });
    } else if (separatedBy.length > 0) {
      rejected.push({ entity: candidate, kind: 'operator_unmerge', decisions: separatedBy });
    } else {
      accepted.push(candidate);
      for (const [kind, values] of candidate.hard) {
        const set = combinedHard.get(kind) ?? new Set<string>();
        values.forEach((value) => set.add(value));
        combinedHard.set(kind, set);
      }
    }
  }

  const ownId = entityId(namespace, spec, aliases[0]!);
  const oldest = accepted[0];
  let targetId: string;
  let created = false;
  if (oldest && oldest.anchor < observationId) {
    targetId = oldest.id;
  } else if (
    accepted.some((candidate) => candidate.id === ownId) ||
    rejected.every((r) => r.entity.id !== ownId)
  ) {
    targetId = ownId;
    created = await ensureEntity(client, spec, ownId, observationId);
  } else {
    // The id our identifiers name belongs to an entity we must not merge with: join the oldest compatible one.
    targetId = oldest ? oldest.id : ownId;
  }

  const mergedIds = accepted.map((candidate) => candidate.id).filter((id) => id !== targetId);
  if (mergedIds.length > 0)
    await mergeEntities(client, spec, targetId, mergedIds, 'shared identifier', observationId);
  await lowerAnchor(client, spec, targetId, observationId);
  await attachAliases(client, spec, targetId, observationId, aliases);
  if (rejected.length > 0) await recordConflicts(client, spec, observationId, targetId, rejected, aliases);
  return { entityId: targetId, created, mergedIds, conflicts: rejected.length };
}

async function lockMatchedEntities(
  client: PoolClient,
  spec: EntitySpec,
  aliases: readonly AliasInput[],
): Promise<MatchedEntity[]> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const found = await client.query<{ id: string }>(
      `SELECT DISTINCT owned.owner AS id FROM ${aliasOwnersSql(spec, '$1', '$2')}`,
      [aliases.map((alias) => alias.kind), aliases.map((alias) => alias.value)],
    );
    const ids = found.rows.map((row) => row.id);
    if (ids.length === 0) return [];
    // Row locks (in id order) stop a concurrent merge that shares none of our identifiers from moving these
    // entities under us; if one was merged away meanwhile, look again.
    const locked = await client.query<{ id: string; anchor: number; merged_into: string | null }>(
      `SELECT id, anchor_observation_id AS anchor, merged_into FROM ${spec.table}
        WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      [ids],
    );
    if (locked.rows.some((row) => row.merged_into !== null) || locked.rows.length !== ids.length) continue;
    const hard = await client.query<{ id: string; kind: string; value: string }>(
      `SELECT ${spec.aliasColumn} AS id, kind, value FROM ${spec.aliasTable}
        WHERE ${spec.aliasColumn} = ANY($1::uuid[]) AND kind = ANY($2::text[])`,
      [ids, [...spec.hardKinds]],
    );
    return locked.rows.map((row) => ({
      id: row.id,
      anchor: row.anchor,
      hard: hardSets(hard.rows.filter((alias) => alias.id === row.id)),
    }));
  }
  throw Object.assign(new Error('entities kept moving while resolving; retry'), { code: '40001' });
}

/**
 * The operator unmerges that separate at least two of `personIds` (live persons). Read from every unmerge decision
 * because a decision's person may since have been merged into another person (its tombstone then stands for the
 * survivor); decisions are operator actions, so there are few.
 */
async function operatorSeparations(client: PoolClient, personIds: readonly string[]): Promise<Separation[]> {
  const { rows } = await client.query<{ decision: number; persons: string[] }>(
    `SELECT decision, array_agg(DISTINCT live) AS persons
       FROM (SELECT d.id AS decision, COALESCE(p.merged_into, p.id) AS live
               FROM manual_identity_decisions d
               JOIN persons p ON p.id = ANY(array_prepend(d.survivor_id, d.person_ids))
              WHERE d.kind = 'unmerge') AS separated
      WHERE live = ANY($1::uuid[])
      GROUP BY decision
     HAVING count(DISTINCT live) > 1
      ORDER BY decision`,
    [personIds],
  );
  return rows.map((row) => ({ decision: Number(row.decision), persons: new Set(row.persons) }));
}

export function hardSets(aliases: readonly { kind: string; value: string }[]): Map<string, Set<string>> {
  const sets = new Map<string, Set<string>>();
  for (const alias of aliases) {
    const set = sets.get(alias.kind) ?? new Set<string>();
    set.add(alias.value);
    sets.set(alias.kind, set);
  }
  return sets;
}

function cloneHard(sets: Map<string, Set<string>>): Map<string, Set<string>> {
  return new Map([...sets].map(([kind, values]) => [kind, new Set(values)]));
}

/** Compatible unless, for some hard kind, both hold values and share none. */
export function compatible(a: Map<string, Set<string>>, b: Map<string, Set<string>>): boolean {
  for (const [kind, values] of b) {
    const mine = a.get(kind);
    if (mine && mine.size > 0 && values.size > 0 && ![...values].some((value) => mine.has(value)))
      return false;
  }
  return true;
}

/** Creates the entity, or revives it when it is the tombstone of an earlier merge. True when it did not exist. */
async function ensureEntity(
  client: PoolClient,
  spec: EntitySpec,
  id: string,
  anchor: number,
): Promise<boolean> {
  const { rows } = await client.query<{ inserted: boolean }>(
    `INSERT INTO ${spec.table} (id, anchor_observation_id) VALUES ($1, $2)
     ON CONFLICT (id) DO UPDATE SET merged_into = NULL, merged_at = NULL,
       anchor_observation_id = LEAST(${spec.table}.anchor_observation_id, EXCLUDED.anchor_observation_id)
     RETURNING (xmax = 0) AS inserted`,
    [id, anchor],
  );
  return rows[0]!.inserted;
}

async function lowerAnchor(
  client: PoolClient,
  spec: EntitySpec,
  id: string,
  observationId: number,
): Promise<void> {
  await client.query(
    `UPDATE ${spec.table} SET anchor_observation_id = $2 WHERE id = $1 AND anchor_observation_id > $2`,
    [id, observationId],
  );
}

async function attachAliases(
  client: PoolClient,
  spec: EntitySpec,
  targetId: string,
  observationId: number,
  aliases: readonly AliasInput[],
): Promise<void> {
  // An alias already held by a conflicting entity stays with it; the earliest observation names its display form.
  await client.query(
    `INSERT INTO ${spec.aliasTable} (kind, value, ${spec.aliasColumn}, display, first_observation_id)
     SELECT kind, value, $1, display, $2 FROM unnest($3::text[], $4::text[], $5::text[]) AS a(kind, value, display)
     ON CONFLICT (kind, value) DO UPDATE
       SET display = EXCLUDED.display, first_observation_id = EXCLUDED.first_observation_id
       WHERE ${spec.aliasTable}.${spec.aliasColumn} = EXCLUDED.${spec.aliasColumn}
         AND ${spec.aliasTable}.first_observation_id > EXCLUDED.first_observation_id`,
    [
      targetId,
      observationId,
      aliases.map((alias) => alias.kind),
      aliases.map((alias) => alias.value),
      aliases.map((alias) => alias.display),
    ],
  );
}

/**
 * Moves everything of `mergedIds` onto `survivorId`, leaves tombstones that redirect to it and records the
 * merge with full before-images so it can be rolled back.
 */
export async function mergeEntities(
  client: PoolClient,
  spec: EntitySpec,
  survivorId: string,
  mergedIds: readonly string[],
  reason: string,
  observationId: number | null,
): Promise<number> {
  const involved = [survivorId, ...mergedIds];
  const images = await client.query<{ image: unknown }>(
    `SELECT jsonb_build_object(
              'entity', to_jsonb(e),
              'aliases', COALESCE((SELECT jsonb_agg(to_jsonb(a) ORDER BY a.kind, a.value)
                                     FROM ${spec.aliasTable} a WHERE a.${spec.aliasColumn} = e.id), '[]'::jsonb),
              'observationIds', COALESCE((SELECT jsonb_agg(o.id ORDER BY o.id)
                                            FROM observation_state o WHERE o.${spec.observationColumn} = e.id), '[]'::jsonb)
            ) AS image
       FROM ${spec.table} e WHERE e.id = ANY($1::uuid[]) ORDER BY e.id`,
    [involved],
  );
  const merge = await client.query<{ id: number }>(
    `INSERT INTO merges (entity, survivor_id, merged_ids, reason, observation_id, before_images)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [
      spec.entity,
      survivorId,
      mergedIds,
      reason,
      observationId,
      JSON.stringify(images.rows.map((row) => row.image)),
    ],
  );
  await client.query(
    `UPDATE ${spec.aliasTable} SET ${spec.aliasColumn} = $1 WHERE ${spec.aliasColumn} = ANY($2::uuid[])`,
    [survivorId, mergedIds],
  );
  await client.query(
    `UPDATE observation_state SET ${spec.observationColumn} = $1 WHERE ${spec.observationColumn} = ANY($2::uuid[])`,
    [survivorId, mergedIds],
  );
  await client.query(
    `UPDATE ${spec.table}
        SET anchor_observation_id = LEAST(anchor_observation_id,
              (SELECT min(anchor_observation_id) FROM ${spec.table} WHERE id = ANY($2::uuid[])))
      WHERE id = $1`,
    [survivorId, mergedIds],
  );
  await client.query(
    `UPDATE ${spec.table} SET merged_into = $1, merged_at = now(), updated_at = now()
      WHERE id = ANY($2::uuid[]) OR merged_into = ANY($2::uuid[])`,
    [survivorId, mergedIds],
  );
  return merge.rows[0]!.id;
}

async function recordConflicts(
  client: PoolClient,
  spec: EntitySpec,
  observationId: number,
  targetId: string,
  rejected: readonly Rejection[],
  aliases: readonly AliasInput[],
): Promise<void> {
  const hard = rejected.filter((rejection) => rejection.kind === 'hard_identifier_mismatch');
  if (hard.length > 0) {
    await recordConflict(client, spec, observationId, 'hard_identifier_mismatch', targetId, hard, {
      joined: targetId,
      keptApart: hard.map(({ entity }) => ({
        id: entity.id,
        hard: Object.fromEntries([...entity.hard].map(([kind, values]) => [kind, [...values].sort()])),
      })),
      observationHard: aliases
        .filter((alias) => spec.hardKinds.has(alias.kind))
        .map((a) => `${a.kind}:${a.value}`),
    });
  }
  const unmerged = rejected.filter((rejection) => rejection.kind === 'operator_unmerge');
  if (unmerged.length > 0) {
    await recordConflict(client, spec, observationId, 'operator_unmerge', targetId, unmerged, {
      joined: targetId,
      keptApart: unmerged.map(({ entity, decisions }) => ({ id: entity.id, decisions })),
    });
  }
}

async function recordConflict(
  client: PoolClient,
  spec: EntitySpec,
  observationId: number,
  kind: ConflictKind,
  targetId: string,
  rejected: readonly Rejection[],
  detail: Record<string, unknown>,
): Promise<void> {
  await client.query(
    `INSERT INTO identity_conflicts (entity, observation_id, kind, entity_ids, detail)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (entity, observation_id, kind) DO UPDATE SET entity_ids = EXCLUDED.entity_ids, detail = EXCLUDED.detail`,
    [
      spec.entity,
      observationId,
      kind,
      [targetId, ...rejected.map(({ entity }) => entity.id)],
      JSON.stringify(detail),
    ],
  );
}
