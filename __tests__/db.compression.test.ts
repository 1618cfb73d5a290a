import request from 'supertest';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';

const LZ4_COLUMNS = [
  'companies.snapshot',
  'locations.snapshot',
  'merges.before_images',
  'observation_log.payload',
  'persons.snapshot',
];

describe('snapshot and payload compression (migration 022)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('compresses large values with lz4 where the server offers it, and keeps working where it does not', async () => {
    const offered = await db.pool.query<{ lz4: boolean }>(
      `SELECT 'lz4' = ANY (enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'`,
    );
    const lz4 = offered.rows[0]!.lz4;
    const columns = await db.pool.query<{ name: string; compression: string }>(
      `SELECT c.relname || '.' || a.attname AS name, a.attcompression::text AS compression
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
          AND c.relname || '.' || a.attname = ANY($1::text[])
        ORDER BY 1`,
      [LZ4_COLUMNS],
    );
    expect(columns.rows).toEqual(
      LZ4_COLUMNS.map((name) => ({ name, compression: lz4 ? 'l' : expect.not.stringMatching('l') })),
    );

    const { app } = buildTestApp(db, {}, { phase2: true });
    const visit = distinctVisit();
    // A long summary makes the payload large enough to be compressed, as many real About sections are.
    (visit.data as Record<string, unknown>).Summary = 'Built growth teams across three continents. '.repeat(
      80,
    );
    const res = await request(app)
      .post('/api/webhook')
      .set('content-type', 'application/json')
      .send(JSON.stringify(visit));
    expect(res.status).toBe(200);
    expect(res.body.person_id).toEqual(expect.any(String));
    const stored = await db.pool.query<{ payload: string; snapshot: string; summary: string }>(
      `SELECT pg_column_compression(o.payload) AS payload, pg_column_compression(p.snapshot) AS snapshot,
              p.snapshot ->> 'summary' AS summary
         FROM observations o JOIN persons p ON p.id = o.person_id`,
    );
    const method = lz4 ? 'lz4' : 'pglz';
    expect(stored.rows).toEqual([
      { payload: method, snapshot: method, summary: expect.stringContaining('three continents') },
    ]);
  });
});
