/** SQL of the HubSpot mirror: page upserts, contact observations and merges, checkpoints, association sets. */
import type { Pool, PoolClient } from '../../db/pool';
import { withTransaction } from '../../db/pool';
import { mergeClaimsOf } from './merges';
import type { HubspotObjectType, ObjectDefinition, ObjectRow } from './objects';
import { OBJECTS } from './objects';

type Queryable = Pool | PoolClient;

export type CheckpointPhase = 'list' | 'search' | 'tie';

export interface Checkpoint {
  job: string;
  phase: CheckpointPhase;
  lastModified: Date | null;
  lastId: string | null;
  listAfter: string | null;
}

export async function readCheckpoint(db: Queryable, job: string): Promise<Checkpoint | null> {
  const { rows } = await db.query<{
    phase: CheckpointPhase;
    last_modified: Date | null;
    last_id: number | null;
    list_after: string | null;
  }>('SELECT phase, last_modified, last_id, list_after FROM hubspot_sync_checkpoints WHERE job = $1', [job]);
  const row = rows[0];
  if (!row) return null;
  return {
    job,
    phase: row.phase,
    lastModified: row.last_modified,
    lastId: row.last_id === null ? null : String(row.last_id),
    listAfter: row.list_after,
  };
}

export async function writeCheckpoint(db: Queryable, checkpoint: Checkpoint): Promise<void> {
  await db.query(
    `INSERT INTO hubspot_sync_checkpoints (job, phase, last_modified, last_id, list_after, updated_at)
     VALUES ($1, $2, $3, $4, $5, now())
     ON CONFLICT (job) DO UPDATE
       SET phase = excluded.phase, last_modified = excluded.last_modified, last_id = excluded.last_id,
           list_after = excluded.list_after, updated_at = now()`,
    [checkpoint.job, checkpoint.phase, checkpoint.lastModified, checkpoint.lastId, checkpoint.listAfter],
  );
}

const SQL_TYPES = {
  text: 'text',
  lower: 'text',
  phone: 'text',
  timestamp: 'timestamptz',
  numeric: 'numeric',
  integer: 'integer',
} as const;

/**
 * A page in ONE statement (one implicit transaction, one round trip): the rows, the contact observations, the
 * links of archived records, the checkpoint that follows the page and the run's counts. Whatever a run saved is
 * therefore consistent with where the next run resumes. Parameters: $1 rows (jsonb array: no bind-parameter
 * limit), $2..$6 the checkpoint, $7 the run, $8 its counts so far.
 *
 * - A row never goes back to an older version of its record; an archived listing archives a row whatever its
 *   modified date says, unless the row was seen active after it was archived.
 * - A contact version becomes one observation: the event key is the contact id and its modified date, so syncing
 *   the same version again adds nothing. `pushed` records, per property, the value this service last wrote to
 *   the contact (see push.ts): the HubSpot contribution ignores a property still holding it.
 * - HubSpot hides an archived record's associations; so do we, at once (the association sync would later).
 * - Contacts only ($9, merges.ts): the (merged id -> survivor) pairs the page's contacts name are recorded; a pair
 *   whose survivor was itself merged points at the final survivor, and pairs that pointed at a newly merged id are
 *   re-pointed. A merged contact's links move to its survivor (as HubSpot moves them), and a merged id the page
 *   returns as a normal record (a stale search index) makes no observation: the merge mapping wins.
 */
function pageSql(definition: ObjectDefinition): string {
  const columns = definition.columns.map((spec) => spec.column);
  const recordType = [
    'hubspot_id bigint',
    'archived boolean',
    'url text',
    'created_at timestamptz',
    'updated_at timestamptz',
    'archived_at timestamptz',
    'raw jsonb',
    ...definition.columns.map((spec) => `${spec.column} ${SQL_TYPES[spec.kind]}`),
  ].join(', ');
  const all = ['hubspot_id', 'archived', 'url', 'created_at', 'updated_at', 'archived_at', 'raw', ...columns];
  const updates = all
    .filter((column) => column !== 'hubspot_id')
    .map((column) => `${column} = excluded.${column}`)
    .join(', ');
  const observed =
    definition.type === 'contacts'
      ? `INSERT INTO observation_log (source, kind, event, event_time, event_key, payload)
         SELECT 'hubspot', 'contact', 'update', r.updated_at,
                'hubspot:contact:' || r.hubspot_id || ':'
                  || to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                jsonb_build_object('hubspot', r.raw, 'pushed', COALESCE(pushed.values, '{}'::jsonb))
           FROM rows r
           LEFT JOIN LATERAL (
             SELECT jsonb_object_agg(latest.property, latest.value) AS values
               FROM (SELECT DISTINCT ON (l.property) l.property, l.value
                       FROM hubspot_push_log l WHERE l.contact_id = r.hubspot_id
                      ORDER BY l.property, l.id DESC) AS latest) AS pushed ON true
          WHERE NOT r.archived AND r.updated_at IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM incoming i WHERE i.merged_id = r.hubspot_id)
            AND NOT EXISTS (SELECT 1 FROM hubspot_contact_merges m WHERE m.merged_id = r.hubspot_id)
         ON CONFLICT (event_key) DO NOTHING
         RETURNING id, kind, payload`
      : `SELECT NULL::bigint AS id, NULL::text AS kind, NULL::jsonb AS payload WHERE false`;
  const merges = definition.type === 'contacts' ? MERGE_CTES : '';
  const mergeCount =
    definition.type === 'contacts'
      ? `, 'merges', COALESCE(($8::jsonb ->> 'merges')::int, 0) + (SELECT merges FROM counted)`
      : '';
  const unlinked =
    definition.type === 'contacts'
      ? `a.from_type = 'contacts' AND a.from_id = r.hubspot_id`
      : `a.to_type = '${definition.type}' AND a.to_id = r.hubspot_id`;
  return `
    WITH rows AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(${recordType})),${merges}
    upserted AS (
      INSERT INTO ${definition.table} AS t (${all.join(', ')})
      SELECT ${all.join(', ')} FROM rows
      ON CONFLICT (hubspot_id) DO UPDATE SET ${updates}, synced_at = now()
       WHERE t.updated_at IS NULL OR excluded.updated_at IS NULL OR excluded.updated_at >= t.updated_at
          OR (excluded.archived AND NOT t.archived
              AND (excluded.archived_at IS NULL OR excluded.archived_at >= t.updated_at))
      RETURNING (xmax = 0) AS inserted),
    observed AS (${observed}),
    observed_state AS (INSERT INTO observation_state (id, kind) SELECT id, kind FROM observed),
    unlinked AS (DELETE FROM hubspot_associations a USING rows r WHERE r.archived AND ${unlinked}),
    checkpoint AS (
      INSERT INTO hubspot_sync_checkpoints (job, phase, last_modified, last_id, list_after, updated_at)
      VALUES ($2, $3, $4, $5, $6, now())
      ON CONFLICT (job) DO UPDATE
        SET phase = excluded.phase, last_modified = excluded.last_modified, last_id = excluded.last_id,
            list_after = excluded.list_after, updated_at = now()),
    counted AS (
      SELECT (SELECT count(*) FROM upserted)::int AS upserted,
             (SELECT count(*) FROM upserted WHERE inserted)::int AS inserted,
             (SELECT count(*) FROM observed)::int AS observations,
             ${definition.type === 'contacts' ? '(SELECT count(*) FROM recorded)::int' : '0'} AS merges),
    run AS (
      UPDATE hubspot_sync_runs
         SET counts = $8::jsonb || jsonb_build_object(
               'upserted', COALESCE(($8::jsonb ->> 'upserted')::int, 0) + (SELECT upserted FROM counted),
               'inserted', COALESCE(($8::jsonb ->> 'inserted')::int, 0) + (SELECT inserted FROM counted),
               'observations', COALESCE(($8::jsonb ->> 'observations')::int, 0) + (SELECT observations FROM counted)
               ${mergeCount})
       WHERE id = $7)
    SELECT counted.upserted, counted.inserted, counted.merges,
           (SELECT COALESCE(json_agg(json_build_object('id', o.id, 'payload', o.payload) ORDER BY o.id), '[]')
              FROM observed o) AS observations
      FROM counted`;
}

/**
 * The merge pairs of a contacts page (see pageSql). `incoming`: one pair per merged id, its survivor followed one
 * step through the pairs already recorded; a newer survivor version's claim replaces an older one, and merged_at is
 * filled in once known. Pairs that pointed at an id this page merges away are re-pointed to its survivor.
 */
const MERGE_CTES = `
    incoming AS (
      SELECT DISTINCT ON (i.merged_id)
             i.merged_id, COALESCE(s.survivor_id, i.survivor_id) AS survivor_id, i.merged_at,
             COALESCE(i.seen_at, '-infinity') AS seen_at
        FROM jsonb_to_recordset($9::jsonb)
          AS i(merged_id bigint, survivor_id bigint, merged_at timestamptz, seen_at timestamptz)
        LEFT JOIN hubspot_contact_merges s ON s.merged_id = i.survivor_id
       WHERE COALESCE(s.survivor_id, i.survivor_id) <> i.merged_id
       ORDER BY i.merged_id, i.seen_at DESC NULLS LAST),
    recorded AS (
      INSERT INTO hubspot_contact_merges AS m (merged_id, survivor_id, merged_at, seen_at, run_id)
      SELECT merged_id, survivor_id, merged_at, seen_at, $7 FROM incoming
      ON CONFLICT (merged_id) DO UPDATE
        SET survivor_id = excluded.survivor_id,
            merged_at = CASE WHEN excluded.survivor_id = m.survivor_id THEN COALESCE(excluded.merged_at, m.merged_at)
                             ELSE excluded.merged_at END,
            seen_at = GREATEST(excluded.seen_at, m.seen_at), run_id = excluded.run_id, recorded_at = now()
       WHERE (excluded.survivor_id <> m.survivor_id AND excluded.seen_at > m.seen_at)
          OR (excluded.survivor_id = m.survivor_id AND m.merged_at IS NULL AND excluded.merged_at IS NOT NULL)
      RETURNING merged_id),
    repointed AS (
      UPDATE hubspot_contact_merges m SET survivor_id = i.survivor_id, recorded_at = now()
        FROM incoming i
       WHERE m.survivor_id = i.merged_id AND m.merged_id <> i.survivor_id
         AND NOT EXISTS (SELECT 1 FROM incoming x WHERE x.merged_id = m.merged_id)),
    moved_links AS (
      INSERT INTO hubspot_associations (from_type, from_id, to_type, to_id, association_type_id, category, label)
      SELECT 'contacts', i.survivor_id, a.to_type, a.to_id, a.association_type_id, a.category, a.label
        FROM hubspot_associations a JOIN incoming i ON a.from_type = 'contacts' AND a.from_id = i.merged_id
       WHERE NOT EXISTS (SELECT 1 FROM rows r WHERE r.hubspot_id = i.survivor_id AND r.archived)
      ON CONFLICT (from_type, from_id, to_type, to_id, association_type_id, category, (coalesce(label, '')))
      DO NOTHING),
    merged_links AS (
      DELETE FROM hubspot_associations a USING incoming i
       WHERE a.from_type = 'contacts' AND a.from_id = i.merged_id),`;

const PAGE_SQL: Readonly<Record<HubspotObjectType, string>> = {
  contacts: pageSql(OBJECTS.contacts),
  companies: pageSql(OBJECTS.companies),
  deals: pageSql(OBJECTS.deals),
};

export interface StoredObservation {
  id: number;
  payload: unknown;
}

export interface PageWrite {
  definition: ObjectDefinition;
  rows: ObjectRow[];
  checkpoint: Checkpoint;
  runId: number;
  counts: Record<string, number>;
}

export interface PageWritten {
  upserted: number;
  inserted: number;
  /** Merge pairs recorded or changed (contacts). */
  merges: number;
  observations: StoredObservation[];
}

export async function writePage(pool: Pool, page: PageWrite): Promise<PageWritten> {
  const { checkpoint } = page;
  const rows = latestPerId(page.rows);
  const values: unknown[] = [
    JSON.stringify(rows),
    checkpoint.job,
    checkpoint.phase,
    checkpoint.lastModified,
    checkpoint.lastId,
    checkpoint.listAfter,
    page.runId,
    JSON.stringify(page.counts),
  ];
  if (page.definition.type === 'contacts') {
    values.push(
      JSON.stringify(
        mergeClaimsOf(rows).map((claim) => ({
          merged_id: claim.mergedId,
          survivor_id: claim.survivorId,
          merged_at: claim.mergedAt,
          seen_at: claim.seenAt,
        })),
      ),
    );
  }
  const result = await pool.query<PageWritten>({
    name: `hubspot.page.${page.definition.type}`,
    text: PAGE_SQL[page.definition.type],
    values,
  });
  const written = result.rows[0]!;
  page.counts.upserted = (page.counts.upserted ?? 0) + written.upserted;
  page.counts.inserted = (page.counts.inserted ?? 0) + written.inserted;
  page.counts.observations = (page.counts.observations ?? 0) + written.observations.length;
  if (page.definition.type === 'contacts') page.counts.merges = (page.counts.merges ?? 0) + written.merges;
  return written;
}

/** A page may list a record twice (it changed while we paged): keep its newest version. */
function latestPerId(rows: ObjectRow[]): ObjectRow[] {
  const byId = new Map<string, ObjectRow>();
  for (const row of rows) {
    const seen = byId.get(row.hubspot_id);
    if (!seen || (row.updated_at ?? '') >= (seen.updated_at ?? '')) byId.set(row.hubspot_id, row);
  }
  return [...byId.values()];
}

export async function saveRunCounts(
  db: Queryable,
  runId: number,
  counts: Record<string, number>,
): Promise<void> {
  await db.query('UPDATE hubspot_sync_runs SET counts = $2 WHERE id = $1', [runId, JSON.stringify(counts)]);
}

/** Active (not archived, not merged) contacts after `afterId`, in id order: the association sync's batches. */
export async function activeContactIds(pool: Pool, afterId: string | null, limit: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT c.hubspot_id::text AS id FROM hubspot_contacts c
      WHERE NOT c.archived AND ($1::bigint IS NULL OR c.hubspot_id > $1::bigint)
        AND NOT EXISTS (SELECT 1 FROM hubspot_contact_merges m WHERE m.merged_id = c.hubspot_id)
      ORDER BY c.hubspot_id LIMIT $2`,
    [afterId, limit],
  );
  return rows.map((row) => row.id);
}

export interface AssociationRow {
  fromId: string;
  toId: string;
  typeId: number;
  category: string;
  label: string | null;
}

/**
 * Replaces the links from `fromIds` (contacts) to objects of `toType` with `rows`: links no longer reported are
 * deleted, new ones inserted, the rest left alone.
 */
const REPLACE_ASSOCIATIONS = `
  WITH incoming AS (
    SELECT * FROM jsonb_to_recordset($3::jsonb)
      AS i("fromId" bigint, "toId" bigint, "typeId" integer, category text, label text)),
  removed AS (
    DELETE FROM hubspot_associations a
     WHERE a.from_type = 'contacts' AND a.to_type = $1 AND a.from_id = ANY($2::bigint[])
       AND NOT EXISTS (SELECT 1 FROM incoming i
                        WHERE i."fromId" = a.from_id AND i."toId" = a.to_id AND i."typeId" = a.association_type_id
                          AND i.category = a.category AND i.label IS NOT DISTINCT FROM a.label)
    RETURNING 1),
  added AS (
    INSERT INTO hubspot_associations (from_type, from_id, to_type, to_id, association_type_id, category, label)
    SELECT 'contacts', "fromId", $1, "toId", "typeId", category, label FROM incoming
    ON CONFLICT (from_type, from_id, to_type, to_id, association_type_id, category, (coalesce(label, '')))
    DO NOTHING
    RETURNING 1)
  SELECT (SELECT count(*) FROM removed)::int AS removed, (SELECT count(*) FROM added)::int AS added`;

export interface AssociationBatchWrite {
  sets: { toType: HubspotObjectType; fromIds: string[]; rows: AssociationRow[] }[];
  checkpoint: Checkpoint;
  runId: number;
  counts: Record<string, number>;
}

export async function writeAssociationBatch(pool: Pool, batch: AssociationBatchWrite): Promise<void> {
  await withTransaction(pool, async (client) => {
    for (const set of batch.sets) {
      if (set.fromIds.length === 0) continue;
      const { rows } = await client.query<{ removed: number; added: number }>(REPLACE_ASSOCIATIONS, [
        set.toType,
        set.fromIds,
        JSON.stringify(set.rows),
      ]);
      batch.counts.added = (batch.counts.added ?? 0) + (rows[0]?.added ?? 0);
      batch.counts.removed = (batch.counts.removed ?? 0) + (rows[0]?.removed ?? 0);
    }
    await writeCheckpoint(client, batch.checkpoint);
    await saveRunCounts(client, batch.runId, batch.counts);
  });
}

/** End of a full association pass: links of contacts that are archived, merged or gone are dropped. */
export async function dropLinksOfInactiveContacts(pool: Pool): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM hubspot_associations a
      WHERE a.from_type = 'contacts'
        AND (NOT EXISTS (SELECT 1 FROM hubspot_contacts c WHERE c.hubspot_id = a.from_id AND NOT c.archived)
             OR EXISTS (SELECT 1 FROM hubspot_contact_merges m WHERE m.merged_id = a.from_id))`,
  );
  return rowCount ?? 0;
}
