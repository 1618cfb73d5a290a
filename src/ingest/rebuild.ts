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
    // Every observation is pending again, except the ignored ones. Written afresh rather than updated: a
    // rebuild then finds one live version of each row, not two.
    await client.query(
      `CREATE TEMP TABLE ignored_observations ON COMMIT DROP AS
         SELECT * FROM observation_state WHERE status = 'ignored'`,
    );
    await client.query('TRUNCATE observation_state');
    await client.query(`INSERT INTO observation_state
                             (id, kind, status, status_reason, person_id, company_id, location_id, processed_at)
                        SELECT l.id, l.kind, COALESCE(i.status, 'pending'), i.status_reason, i.person_id,
                               i.company_id, i.location_id, i.processed_at
                          FROM observation_log l LEFT JOIN ignored_observations i ON i.id = l.id`);
    // TRUNCATE left the planner believing the table empty: the rebuild's reads would be planned for no rows.
    await client.query('ANALYZE observation_state');
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
