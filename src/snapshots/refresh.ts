import type { Pool, PoolClient } from '../db/pool';
import type { FoldRow, FoldSettings, RefreshEntity } from './store';
import { FOLD_COLUMNS, foldedEntityOf, foldQueued, refoldEntity } from './store';

export type { RefreshEntity } from './store';

interface QueuedRow {
  observation_id: number | null;
  source: string | null;
  observed_at: Date | null;
  fields: Record<string, unknown> | null;
}

const TABLES: Record<RefreshEntity, 'companies' | 'locations'> = {
  company: 'companies',
  location: 'locations',
};

/**
 * Refreshes the companies and locations that have queued observations, oldest first. Each entity is locked,
 * its queue entries claimed and folded into it in one REPEATABLE READ transaction: a crash loses no entry, two
 * instances never fold the same entity at once (SKIP LOCKED hands it to one of them), and a full refold sees
 * exactly the observations whose entries it claimed (one snapshot), so nothing is ever counted twice.
 */
export async function refreshQueuedEntities(
  pool: Pool,
  settings: FoldSettings,
  batchSize = 200,
): Promise<number> {
  const { rows } = await pool.query<{ entity: RefreshEntity; id: string }>(
    `SELECT entity, id FROM entity_refresh GROUP BY entity, id ORDER BY min(seq) LIMIT $1`,
    [batchSize],
  );
  let refreshed = 0;
  for (const { entity, id } of rows) {
    if (await refreshEntity(pool, entity, id, settings)) refreshed += 1;
  }
  return refreshed;
}

async function refreshEntity(
  pool: Pool,
  entity: RefreshEntity,
  id: string,
  settings: FoldSettings,
): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ; SET LOCAL synchronous_commit = off');
    const done = await refreshLocked(client, entity, id, settings);
    await client.query('COMMIT');
    return done;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if ((error as { code?: string }).code === '40001') return false; // changed under us: next round
    throw error;
  } finally {
    client.release();
  }
}

async function refreshLocked(
  client: PoolClient,
  entity: RefreshEntity,
  id: string,
  settings: FoldSettings,
): Promise<boolean> {
  const table = TABLES[entity];
  const locked = await client.query<FoldRow>(
    `SELECT ${FOLD_COLUMNS} FROM ${table} WHERE id = $1 FOR UPDATE SKIP LOCKED`,
    [id],
  );
  const current = locked.rows[0];
  if (!current) {
    const exists = await client.query(`SELECT 1 FROM ${table} WHERE id = $1`, [id]);
    if (exists.rowCount !== 0) return false; // another instance is refreshing it right now
  }
  const claimed = await client.query<QueuedRow>(
    `DELETE FROM entity_refresh WHERE entity = $1 AND id = $2
     RETURNING observation_id, source, observed_at, fields`,
    [entity, id],
  );
  if (!current || claimed.rows.length === 0) return false;
  if (claimed.rows.some((row) => row.observation_id === null || row.observed_at === null)) {
    await refoldEntity(client, entity, id, settings);
  } else {
    const base = foldedEntityOf(current);
    const queued = claimed.rows
      .map((row) => ({
        observationId: row.observation_id!,
        source: row.source ?? '',
        observedAt: row.observed_at!,
        fields: row.fields,
      }))
      .sort((a, b) => a.observationId - b.observationId);
    await foldQueued(client, entity, id, base, queued, settings);
  }
  return true;
}

/** Refreshes until the queue is empty (tests and rebuilds). */
export async function drainRefreshQueue(pool: Pool, settings: FoldSettings): Promise<number> {
  let total = 0;
  for (;;) {
    const refreshed = await refreshQueuedEntities(pool, settings);
    if (refreshed === 0) {
      const left = await pool.query('SELECT 1 FROM entity_refresh LIMIT 1');
      if (left.rowCount === 0) return total;
      await new Promise((resolve) => setTimeout(resolve, 20)); // held by a concurrent refresher
      continue;
    }
    total += refreshed;
  }
}
