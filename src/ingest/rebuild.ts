import type { Pool } from '../db/pool';
import type { ObservationProcessor } from './processor';

/**
 * Everything Phase 2 derives from the observation log. Clearing it and processing the log again must reproduce
 * the same persons, companies and locations (ids and snapshots): that is the replay-determinism guarantee.
 */
export async function resetDerivedState(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `TRUNCATE person_aliases, company_aliases, location_aliases, merges, identity_conflicts, dead_letters, entity_refresh CASCADE`,
    );
    // Rows already in that state are left alone: rewriting them would only cost a new version of each.
    await client.query(`UPDATE observations
                           SET status = 'pending', status_reason = NULL, person_id = NULL, company_id = NULL,
                               location_id = NULL, processed_at = NULL
                         WHERE status <> 'ignored'
                           AND NOT (status = 'pending' AND status_reason IS NULL AND person_id IS NULL
                                    AND company_id IS NULL AND location_id IS NULL AND processed_at IS NULL)`);
    await client.query('TRUNCATE persons, companies, locations CASCADE');
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/** Processes the given observation ids one by one (in the order given) and reports how many ended where. */
export async function reprocess(
  processor: ObservationProcessor,
  observationIds: readonly number[],
): Promise<{ processed: number; other: number }> {
  let processed = 0;
  for (const id of observationIds) {
    const result = await processor.process(id);
    if (result.processed) processed += 1;
  }
  return { processed, other: observationIds.length - processed };
}
