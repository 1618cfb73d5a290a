import type { Pool } from '../db/pool';
import type { FoldSettings } from './store';
import { refoldCompany, refoldLocation } from './store';

export type RefreshEntity = 'company' | 'location';

/**
 * Claims queued companies and locations (in a short transaction of its own, so senders never wait on a
 * refold) and refolds each from its observations. Safe on every instance: SKIP LOCKED hands each entity to one.
 * A failed refold is queued again.
 */
export async function refreshQueuedEntities(
  pool: Pool,
  settings: FoldSettings,
  batchSize = 200,
): Promise<number> {
  const claimed = await pool.query<{ entity: RefreshEntity; id: string }>(
    `DELETE FROM entity_refresh
      WHERE (entity, id) IN (SELECT entity, id FROM entity_refresh ORDER BY queued_at LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING entity, id`,
    [batchSize],
  );
  for (const { entity, id } of claimed.rows) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      if (entity === 'company') await refoldCompany(client, id, settings);
      else await refoldLocation(client, id, settings);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      await pool
        .query('INSERT INTO entity_refresh (entity, id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [entity, id])
        .catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
  return claimed.rowCount ?? 0;
}

/** Refreshes until the queue is empty (tests and rebuilds). */
export async function drainRefreshQueue(pool: Pool, settings: FoldSettings): Promise<number> {
  let total = 0;
  for (;;) {
    const refreshed = await refreshQueuedEntities(pool, settings);
    if (refreshed === 0) return total;
    total += refreshed;
  }
}
