import type { Pool, PoolClient } from '../db/pool';
import { withTransaction } from '../db/pool';

/**
 * The indexes a rebuild drops while it writes and builds once at the end: the GIN (trigram and full-text) indexes
 * of the tables it refills, costly to maintain row by row, and the observations' state's indexes by status, whose
 * every row the rebuild writes twice (reset, then linked). The state's indexes by person, company and location stay:
 * the full path refolds an entity from the observations linked to it. Btree indexes of persons and aliases stay too:
 * maintaining them cost the writes no measurable time, while building one at the end reads and decompresses every
 * snapshot again for its expression (0.1 to 0.2 s each per 25 000 persons), on the critical path.
 */
const GIN_DEFERRED_TABLES = ['persons', 'person_aliases'];
const STATE_INDEXES_NEEDED = [
  'observation_state_person_idx',
  'observation_state_company_idx',
  'observation_state_location_idx',
];

/**
 * The alias tables' foreign keys to the rows a rebuild writes. Checking one costs a trigger and an index probe per
 * alias row (40 % of the alias inserts' time); validating it once at the end is one anti-join. The rebuild writes
 * a person before its aliases in the same transaction, so the check can only fail on a defect, and then the rebuild
 * fails at its end rather than at the row.
 */
const DEFERRABLE_FOREIGN_KEYS = ['person_aliases', 'company_aliases', 'location_aliases'];

/**
 * Drops the deferrable indexes and foreign keys, recording each definition in the same transaction. Returns how
 * many.
 */
export async function deferIndexes(pool: Pool): Promise<number> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ name: string; definition: string; drop: string }>(
      `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition,
              format('DROP INDEX %I', i.relname) AS drop
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relnamespace = current_schema()::regnamespace AND NOT x.indisunique
          AND ((t.relname = ANY($1::text[]) AND i.relam = (SELECT oid FROM pg_am WHERE amname = 'gin'))
               OR (t.relname = 'observation_state' AND NOT (i.relname = ANY($2::text[]))))
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
       UNION ALL
       SELECT c.conname, format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.relname, c.conname,
                                pg_get_constraintdef(c.oid)),
              format('ALTER TABLE %I DROP CONSTRAINT %I', t.relname, c.conname)
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
        WHERE c.contype = 'f' AND t.relnamespace = current_schema()::regnamespace
          AND t.relname = ANY($3::text[])`,
      [GIN_DEFERRED_TABLES, STATE_INDEXES_NEEDED, DEFERRABLE_FOREIGN_KEYS],
    );
    for (const deferred of rows) {
      await client.query(
        'INSERT INTO deferred_indexes (name, definition) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
        [deferred.name, deferred.definition],
      );
      await client.query(deferred.drop);
    }
    return rows.length;
  });
}

/**
 * Builds every index still listed as deferred, two at a time (builds are CPU-bound; two cores is the small
 * deployment), then adds the foreign keys back, validating each; forgets each once it exists. Safe to repeat
 * after any interruption.
 */
export async function restoreDeferredIndexes(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ name: string; definition: string }>(
    'SELECT name, definition FROM deferred_indexes ORDER BY deferred_at, name',
  );
  const createIndex = /^CREATE (UNIQUE )?INDEX /;
  const restore = (name: string, apply: (client: PoolClient) => Promise<unknown>) =>
    withTransaction(pool, async (client) => {
      await apply(client);
      await client.query('DELETE FROM deferred_indexes WHERE name = $1', [name]);
    });
  const queue = rows.filter((row) => createIndex.test(row.definition));
  const build = async (): Promise<void> => {
    for (let index = queue.shift(); index; index = queue.shift()) {
      const { definition } = index;
      await restore(index.name, async (client) => {
        await client.query(`SELECT set_config('maintenance_work_mem', '256MB', true)`);
        await client.query(definition.replace(createIndex, 'CREATE $1INDEX IF NOT EXISTS '));
      });
    }
  };
  await Promise.all([build(), build()]);
  for (const { name, definition } of rows.filter((row) => !createIndex.test(row.definition))) {
    await restore(name, async (client) => {
      const exists = await client.query(
        `SELECT 1 FROM pg_constraint WHERE conname = $1 AND connamespace = current_schema()::regnamespace`,
        [name],
      );
      if (exists.rowCount === 0) await client.query(definition);
    });
  }
  return rows.length;
}
