import { rebuildFromLog } from '../src/rebuild';
import { buildTestApp, sendFixtures, testRebuildOptions } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

jest.setTimeout(120_000);

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await sendFixtures(buildTestApp(db, {}, { phase2: true }).app);
});
afterAll(() => db.drop());

async function indexes(): Promise<string[]> {
  const { rows } = await db.pool.query<{ definition: string }>(
    `SELECT indexdef AS definition FROM pg_indexes
      WHERE schemaname = current_schema() AND tablename IN ('persons', 'person_aliases', 'observation_log', 'observation_state')
      ORDER BY indexname`,
  );
  return rows.map((row) => row.definition);
}

async function foreignKeys(): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>(
    `SELECT conname || CASE WHEN convalidated THEN '' ELSE ' (not valid)' END AS name FROM pg_constraint
      WHERE contype = 'f' AND connamespace = current_schema()::regnamespace
        AND conrelid::regclass::text IN ('person_aliases', 'company_aliases', 'location_aliases')
      ORDER BY conname`,
  );
  return rows.map((row) => row.name);
}

async function deferred(): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM deferred_indexes ORDER BY name');
  return rows.map((row) => row.name);
}

describe('rebuild and the read-only indexes', () => {
  it('drops them while writing, keeps their definitions through an interruption, and builds them at the end', async () => {
    const before = await indexes();
    const keysBefore = await foreignKeys();
    expect(keysBefore).toEqual([
      'company_aliases_company_id_fkey',
      'location_aliases_location_id_fkey',
      'person_aliases_person_id_fkey',
    ]);
    expect(before.some((definition) => definition.includes('gin'))).toBe(true);
    const options = testRebuildOptions(db, 4);

    const stopped = rebuildFromLog(db.pool, {
      ...options,
      onProgress: (done) => {
        if (done >= 8) throw new Error('stopped by the test');
      },
    });
    await expect(stopped).rejects.toThrow('stopped by the test');
    const midway = await indexes();
    const missingMidway = before.filter((definition) => !midway.includes(definition));
    // The GIN indexes and the state's indexes by status are gone and listed; the unique ones, the btree ones and
    // the state's links (the full path reads them) remain.
    expect(missingMidway.length).toBe(5);
    expect(missingMidway.every((definition) => / USING gin |observation_state_/.test(definition))).toBe(true);
    // So are the alias tables' foreign keys, checked once at the end instead of row by row.
    expect(await foreignKeys()).toEqual([]);
    expect((await deferred()).length).toBe(missingMidway.length + keysBefore.length);
    expect(midway.some((definition) => definition.includes('persons_pkey'))).toBe(true);
    expect(midway.some((definition) => definition.includes('person_aliases_pkey'))).toBe(true);
    expect(midway.some((definition) => definition.includes('persons_merged_into_idx'))).toBe(true);
    expect(midway.some((definition) => definition.includes('person_aliases_person_idx'))).toBe(true);
    expect(midway.some((definition) => definition.includes('persons_live_idx'))).toBe(true);
    for (const column of ['person', 'company', 'location']) {
      expect(midway.some((definition) => definition.includes(`observation_state_${column}_idx`))).toBe(true);
    }
    // The log itself is never written by a rebuild: its indexes all stay.
    expect(midway.some((definition) => definition.includes('observations_event_key'))).toBe(true);
    expect(midway.some((definition) => definition.includes('observations_received_idx'))).toBe(true);
    expect(await deferred()).toEqual(
      expect.arrayContaining([
        'observation_state_unfinished_idx',
        'observation_state_skipped_idx',
        'persons_search_vector_idx',
        'persons_query_title_trgm_idx',
      ]),
    );

    // An alias naming no person (a defect the row-by-row check would have caught) fails the end of the rebuild,
    // and the key stays listed; once the alias is gone, the resumed rebuild finishes.
    await db.pool.query(
      `INSERT INTO person_aliases (kind, value, person_id, display, first_observation_id)
       VALUES ('email', 'dangling@example.com', '00000000-0000-4000-8000-000000000000', 'dangling@example.com', 1)`,
    );
    await expect(rebuildFromLog(db.pool, { ...options, resume: true })).rejects.toThrow(
      /person_aliases_person_id_fkey/,
    );
    expect(await deferred()).toEqual(['person_aliases_person_id_fkey']);
    expect(await indexes()).toEqual(before);
    await db.pool.query(`DELETE FROM person_aliases WHERE value = 'dangling@example.com'`);

    const resumed = await rebuildFromLog(db.pool, { ...options, resume: true });
    expect(resumed.indexesRebuilt).toBe(missingMidway.length + keysBefore.length);
    expect(await indexes()).toEqual(before);
    expect(await foreignKeys()).toEqual(keysBefore);
    expect(await deferred()).toEqual([]);

    // A fresh run after a crash that left some dropped builds them too.
    await db.pool.query(
      `INSERT INTO deferred_indexes (name, definition) SELECT indexname, indexdef FROM pg_indexes
        WHERE indexname = 'persons_live_idx'`,
    );
    await db.pool.query('DROP INDEX persons_live_idx');
    const fresh = await rebuildFromLog(db.pool, options);
    expect(fresh.observations).toBeGreaterThan(8);
    expect(await indexes()).toEqual(before);
    expect(await deferred()).toEqual([]);
  });
});
