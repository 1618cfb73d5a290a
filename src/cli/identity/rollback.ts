import type { Pool, PoolClient } from '../../db/pool';
import type { FoldSettings } from '../../snapshots/store';
import { refoldPerson } from '../../snapshots/store';
import type { AliasKey } from './locks';
import { lockPersons } from './locks';

/** What `mergeEntities` stored for each involved person: its row, its aliases and its observation ids, as they were. */
export interface BeforeImage {
  entity: Record<string, unknown> & { id: string; anchor_observation_id: number };
  aliases: (AliasKey & Record<string, unknown>)[];
  observationIds: number[];
}

export interface MergeRecord {
  id: number;
  entity: string;
  survivorId: string;
  mergedIds: string[];
  reason: string;
  observationId: number | null;
  createdAt: string;
  rolledBackAt: string | null;
  images: BeforeImage[];
}

/** A tombstone the merge re-pointed from one of the merged persons to the survivor (a merge chain). */
export interface RepointedTombstone {
  id: string;
  /** Where it pointed before the merge, and since when. */
  mergedInto: string;
  mergedAt: string;
}

export interface RollbackPlan {
  mergeId: number;
  survivorId: string;
  mergedIds: string[];
  reason: string;
  mergedAt: string;
  observationId: number | null;
  /** Why an exact restore is impossible; empty when the merge can be rolled back. */
  problems: string[];
  /** Aliases and observations that go back to the merged persons. */
  aliasesRestored: number;
  observationsRestored: number;
  repointed: RepointedTombstone[];
  /**
   * The survivor holds exactly the observations it held before the merge: its row and aliases are restored byte for
   * byte. Otherwise (observations arrived since, e.g. the one that caused the merge) it is refolded from what it
   * holds after the rollback.
   */
  survivorExact: boolean;
}

export class RollbackRefused extends Error {
  constructor(
    readonly mergeId: number,
    readonly problems: string[],
  ) {
    super(`merge ${mergeId} cannot be rolled back exactly: ${problems.join('; ')}`);
  }
}

export class MergeNotFound extends Error {
  constructor(readonly mergeId: number) {
    super(`no merge with id ${mergeId}`);
  }
}

type Queryable = Pool | PoolClient;

export async function loadMerge(db: Queryable, mergeId: number, lock = false): Promise<MergeRecord> {
  const { rows } = await db.query<{
    id: number;
    entity: string;
    survivor_id: string;
    merged_ids: string[];
    reason: string;
    observation_id: number | null;
    created_at: string;
    rolled_back_at: string | null;
    before_images: unknown;
  }>(
    `SELECT id, entity, survivor_id, merged_ids, reason, observation_id, created_at::text AS created_at,
            rolled_back_at::text AS rolled_back_at, before_images
       FROM merges WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`,
    [mergeId],
  );
  const row = rows[0];
  if (!row) throw new MergeNotFound(mergeId);
  return {
    id: row.id,
    entity: row.entity,
    survivorId: row.survivor_id,
    mergedIds: row.merged_ids,
    reason: row.reason,
    observationId: row.observation_id,
    createdAt: row.created_at,
    rolledBackAt: row.rolled_back_at,
    images: Array.isArray(row.before_images) ? (row.before_images as BeforeImage[]) : [],
  };
}

/** Checks, without changing anything, whether and how a merge can be rolled back. */
export async function planRollback(db: Queryable, merge: MergeRecord): Promise<RollbackPlan> {
  const plan: RollbackPlan = {
    mergeId: merge.id,
    survivorId: merge.survivorId,
    mergedIds: merge.mergedIds,
    reason: merge.reason,
    mergedAt: merge.createdAt,
    observationId: merge.observationId,
    problems: [],
    aliasesRestored: 0,
    observationsRestored: 0,
    repointed: [],
    survivorExact: false,
  };
  const problems = plan.problems;
  if (merge.entity !== 'person')
    problems.push(`it merged ${merge.entity} records; only person merges roll back`);
  if (merge.rolledBackAt) problems.push(`it was already rolled back at ${merge.rolledBackAt}`);
  const involved = [merge.survivorId, ...merge.mergedIds];
  const imageOf = new Map(merge.images.map((image) => [image.entity?.id, image]));
  const missingImages = involved.filter((id) => !imageOf.has(id));
  if (missingImages.length > 0) problems.push(`its before-images lack ${missingImages.join(', ')}`);
  if (problems.length > 0) return plan;

  const merged = merge.mergedIds.map((id) => imageOf.get(id)!);
  const survivorImage = imageOf.get(merge.survivorId)!;
  plan.aliasesRestored = merged.reduce((sum, image) => sum + image.aliases.length, 0);
  plan.observationsRestored = merged.reduce((sum, image) => sum + image.observationIds.length, 0);

  const later = await db.query<{ id: number }>(
    `SELECT id FROM merges
      WHERE entity = 'person' AND id > $1 AND rolled_back_at IS NULL
        AND (survivor_id = ANY($2::uuid[]) OR merged_ids && $2::uuid[])
      ORDER BY id DESC`,
    [merge.id, involved],
  );
  if (later.rows.length > 0) {
    problems.push(
      `later merge(s) ${later.rows.map((row) => row.id).join(', ')} involve the same persons and are not rolled ` +
        'back: roll those back first (newest first)',
    );
  }

  const persons = await db.query<{ id: string; merged_into: string | null }>(
    'SELECT id, merged_into FROM persons WHERE id = ANY($1::uuid[])',
    [involved],
  );
  const state = new Map(persons.rows.map((row) => [row.id, row.merged_into]));
  if (!state.has(merge.survivorId)) problems.push(`the survivor ${merge.survivorId} no longer exists`);
  else if (state.get(merge.survivorId) !== null)
    problems.push(`the survivor ${merge.survivorId} was merged into ${state.get(merge.survivorId)} since`);
  for (const id of merge.mergedIds) {
    if (state.get(id) !== merge.survivorId)
      problems.push(`person ${id} is no longer a tombstone of the survivor (revived or removed since)`);
  }

  const imageAliases = [...merged, survivorImage].flatMap((image) =>
    image.aliases.map(({ kind, value }) => ({ kind, value })),
  );
  const aliasCheck = await db.query<{ moved: number; example: string | null }>(
    `SELECT count(*)::int AS moved, min(i.kind || ':' || i.value) AS example
       FROM jsonb_to_recordset($1::jsonb) AS i(kind text, value text)
       LEFT JOIN person_aliases a ON a.kind = i.kind AND a.value = i.value
      WHERE a.person_id IS DISTINCT FROM $2::uuid`,
    [JSON.stringify(imageAliases), merge.survivorId],
  );
  const movedAliases = aliasCheck.rows[0]!;
  if (movedAliases.moved > 0) {
    problems.push(
      `${movedAliases.moved} alias(es) of the before-images are no longer held by the survivor (e.g. ${movedAliases.example})`,
    );
  }

  const imageObservations = [...merged, survivorImage].flatMap((image) => image.observationIds);
  const observationCheck = await db.query<{ moved: number; extra: number }>(
    `SELECT (SELECT count(*)::int FROM unnest($1::bigint[]) AS i(id) LEFT JOIN observation_state o ON o.id = i.id
              WHERE o.person_id IS DISTINCT FROM $2::uuid) AS moved,
            (SELECT count(*)::int FROM observation_state WHERE person_id = $2::uuid AND id <> ALL($1::bigint[])) AS extra`,
    [imageObservations, merge.survivorId],
  );
  const { moved, extra } = observationCheck.rows[0]!;
  if (moved > 0)
    problems.push(`${moved} observation(s) of the before-images are no longer linked to the survivor`);
  plan.survivorExact = extra === 0;
  plan.repointed = await repointedTombstones(db, merge);
  return plan;
}

interface MergeStep {
  id: number;
  survivor_id: string;
  created_at: string;
}

/**
 * `mergeEntities` also re-points the tombstones of the merged persons to the survivor (chains stay one hop long).
 * For each tombstone of the survivor, walk the merges before this one that it went through: if it last pointed at a
 * merged person, it goes back there, with the time of the merge that pointed it there (merged_at and updated_at of
 * a tombstone are that merge's time: mergeEntities sets both to now(), merges.created_at is the same now()).
 */
async function repointedTombstones(db: Queryable, merge: MergeRecord): Promise<RepointedTombstone[]> {
  const candidates = await db.query<{ id: string }>(
    'SELECT id FROM persons WHERE merged_into = $1 AND id <> ALL($2::uuid[]) ORDER BY id',
    [merge.survivorId, merge.mergedIds],
  );
  const repointed: RepointedTombstone[] = [];
  for (const { id } of candidates.rows) {
    const first = await db.query<MergeStep>(
      `SELECT id, survivor_id, created_at::text AS created_at FROM merges
        WHERE entity = 'person' AND rolled_back_at IS NULL AND id < $1 AND $2::uuid = ANY(merged_ids)
        ORDER BY id DESC LIMIT 1`,
      [merge.id, id],
    );
    let step: MergeStep | undefined = first.rows[0];
    if (!step) continue;
    let last: MergeStep = step;
    while (step) {
      last = step;
      const next: { rows: MergeStep[] } = await db.query<MergeStep>(
        `SELECT id, survivor_id, created_at::text AS created_at FROM merges
          WHERE entity = 'person' AND rolled_back_at IS NULL AND id > $1 AND id < $2 AND $3::uuid = ANY(merged_ids)
          ORDER BY id LIMIT 1`,
        [last.id, merge.id, last.survivor_id],
      );
      step = next.rows[0];
    }
    if (merge.mergedIds.includes(last.survivor_id))
      repointed.push({ id, mergedInto: last.survivor_id, mergedAt: last.created_at });
  }
  return repointed;
}

/**
 * Undoes a person merge exactly: the merged persons come back with the rows, aliases and observations of their
 * before-images, tombstones the merge re-pointed point where they pointed before, everybody involved is refolded
 * (which also re-derives their job changes) and rows whose observations are those of their image are then restored
 * byte for byte. Refuses (RollbackRefused) when something since makes an exact restore impossible. Must run in a
 * transaction; returns the plan it carried out.
 */
export async function rollbackMerge(
  client: PoolClient,
  mergeId: number,
  settings: FoldSettings,
): Promise<RollbackPlan> {
  const merge = await loadMerge(client, mergeId, true);
  if (merge.entity === 'person' && !merge.rolledBackAt) {
    const imageAliases = merge.images.flatMap((image) =>
      (image.aliases ?? []).map(({ kind, value }) => ({ kind, value })),
    );
    await lockPersons(client, [merge.survivorId, ...merge.mergedIds], imageAliases);
  }
  const plan = await planRollback(client, merge);
  if (plan.problems.length > 0) throw new RollbackRefused(mergeId, plan.problems);
  const tombstoneIds = plan.repointed.map((tombstone) => tombstone.id);
  const lockedTombstones = await client.query(
    'SELECT id FROM persons WHERE id = ANY($1::uuid[]) AND merged_into = $2 ORDER BY id FOR UPDATE',
    [tombstoneIds, merge.survivorId],
  );
  if (lockedTombstones.rowCount !== tombstoneIds.length)
    throw Object.assign(new Error('tombstones changed while rolling back; retry'), { code: '40001' });

  const imageOf = new Map(merge.images.map((image) => [image.entity.id, image]));
  const merged = merge.mergedIds.map((id) => imageOf.get(id)!);
  const survivorImage = imageOf.get(merge.survivorId)!;

  for (const image of merged) {
    await client.query(
      'UPDATE observation_state SET person_id = $1 WHERE id = ANY($2::bigint[]) AND person_id = $3',
      [image.entity.id, image.observationIds, merge.survivorId],
    );
  }
  await restoreRows(
    client,
    'person_aliases',
    ['kind', 'value'],
    merged.flatMap((image) => image.aliases),
  );
  for (const tombstone of plan.repointed) {
    await client.query(
      `UPDATE persons SET merged_into = $2, merged_at = $3::timestamptz, updated_at = $3::timestamptz WHERE id = $1`,
      [tombstone.id, tombstone.mergedInto, tombstone.mergedAt],
    );
  }
  for (const id of [merge.survivorId, ...merge.mergedIds]) await refoldPerson(client, id, settings);

  const exact = plan.survivorExact ? [...merged, survivorImage] : merged;
  await restoreRows(
    client,
    'persons',
    ['id'],
    exact.map((image) => image.entity),
  );
  if (plan.survivorExact) {
    await restoreRows(client, 'person_aliases', ['kind', 'value'], survivorImage.aliases);
  } else {
    // Its anchor is the lowest observation of its cluster, which no longer includes the merged persons.
    await client.query(
      `UPDATE persons
          SET anchor_observation_id = LEAST($2::bigint, (SELECT min(id) FROM observation_state WHERE person_id = $1))
        WHERE id = $1`,
      [merge.survivorId, survivorImage.entity.anchor_observation_id],
    );
  }
  await client.query('UPDATE merges SET rolled_back_at = now() WHERE id = $1', [mergeId]);
  return plan;
}

/**
 * Writes rows back as their images hold them: every writable column the image carries (generated columns are
 * recomputed by PostgreSQL). Column names come from the catalogue, never from the image.
 */
async function restoreRows(
  client: PoolClient,
  table: 'persons' | 'person_aliases',
  keys: readonly string[],
  images: readonly Record<string, unknown>[],
): Promise<void> {
  if (images.length === 0) return;
  const columns = await client
    .query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'
        ORDER BY ordinal_position`,
      [table],
    )
    .then((result) => result.rows.map((row) => row.column_name));
  const present = new Set(images.flatMap((image) => Object.keys(image)));
  const writable = columns.filter((column) => !keys.includes(column) && present.has(column));
  const id = (name: string): string => client.escapeIdentifier(name);
  await client.query(
    `UPDATE ${id(table)} AS t SET ${writable.map((column) => `${id(column)} = r.${id(column)}`).join(', ')}
       FROM jsonb_populate_recordset(NULL::${id(table)}, $1::jsonb) AS r
      WHERE ${keys.map((key) => `t.${id(key)} = r.${id(key)}`).join(' AND ')}`,
    [JSON.stringify(images)],
  );
}
