import pg from 'pg';
import type { Pool } from '../db/pool';
import { withTransaction } from '../db/pool';

/**
 * The tables a rebuild rewrites, and the secondary indexes it still needs while doing so: the full path follows
 * tombstones through persons.merged_into, reads a person's (stable) aliases by person_id, and refolds an entity
 * from the observations linked to it. Every other non-unique index of these tables serves readers (or the sweeper,
 * which does not run beside a rebuild) only; maintaining them row by row cost the rebuild more than building them
 * once at the end: the GIN trigram and full-text indexes of persons above all, and the observations' state's
 * indexes by status, whose every row the rebuild writes twice (reset, then linked).
 */
const DEFERRABLE_TABLES = ['persons', 'person_aliases', 'observation_state'];
const NEEDED_WHILE_REBUILDING = [
  'persons_merged_into_idx',
  'person_aliases_person_idx',
  'person_aliases_stable_idx',
  'observation_state_person_idx',
  'observation_state_company_idx',
  'observation_state_location_idx',
];

/** Drops the deferrable indexes, recording each definition in the same transaction. Returns how many. */
export async function deferIndexes(pool: Pool): Promise<number> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ name: string; definition: string }>(
      `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1::text[])
          AND NOT x.indisunique AND NOT (i.relname = ANY($2::text[]))
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)`,
      [DEFERRABLE_TABLES, NEEDED_WHILE_REBUILDING],
    );
    for (const index of rows) {
      await client.query(
        'INSERT INTO deferred_indexes (name, definition) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
        [index.name, index.definition],
      );
      await client.query(`DROP INDEX ${pg.escapeIdentifier(index.name)}`);
    }
    return rows.length;
  });
}

/**
 * Builds every index still listed as deferred, two at a time (builds are CPU-bound; two cores is the small
 * deployment), and forgets each once it exists. Safe to repeat after any interruption.
 */
export async function restoreDeferredIndexes(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ name: string; definition: string }>(
    'SELECT name, definition FROM deferred_indexes ORDER BY deferred_at, name',
  );
  const queue = [...rows];
  const build = async (): Promise<void> => {
    for (let index = queue.shift(); index; index = queue.shift()) {
      const { name, definition } = index;
      await withTransaction(pool, async (client) => {
        await client.query(`SELECT set_config('maintenance_work_mem', '256MB', true)`);
        await client.query(definition.replace(/^CREATE (UNIQUE )?INDEX /, 'CREATE $1INDEX IF NOT EXISTS '));
        await client.query('DELETE FROM deferred_indexes WHERE name = $1', [name]);
      });
    }
  };
  await Promise.all([build(), build()]);
  return rows.length;
}
