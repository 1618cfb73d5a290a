import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../src/db/migrate';
import { createPool } from '../src/db/pool';
import type { TestDatabase } from './helpers/database';
import { adminUrl, createTestDatabase } from './helpers/database';

/** What EXPLAIN VERBOSE shows PostgreSQL evaluating for immutable_unaccent(column). */
async function evaluated(query: (sql: string) => Promise<pg.QueryResult>): Promise<string> {
  const { rows } = await query(
    'EXPLAIN (VERBOSE, COSTS OFF) SELECT public.immutable_unaccent(full_name) FROM persons',
  );
  return rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
}

describe('immutable_unaccent (migration 021)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('folds accents exactly as unaccent() does', async () => {
    const samples = [
      'José Núñez',
      'Siobhán Ó Briain',
      'Ipê Tecnologia',
      'Łódź',
      'Ærøskøbing',
      'plain ascii',
      '',
    ];
    const { rows } = await db.pool.query<{ wrapped: string; direct: string }>(
      `SELECT public.immutable_unaccent(s) AS wrapped, public.unaccent(s) AS direct FROM unnest($1::text[]) AS s`,
      [samples],
    );
    expect(rows.map((row) => row.wrapped)).toEqual(rows.map((row) => row.direct));
    expect(rows[0]!.wrapped).toBe('Jose Nunez');
  });

  it('is inlined into the statement that uses it, so it never runs as a statement of its own', async () => {
    const plan = await evaluated((sql) => db.pool.query(sql));
    expect(plan).toContain('unaccent_immutable(');
    expect(plan).not.toContain('immutable_unaccent(');
  });

  it('stays a working SQL wrapper when the migrations run without a superuser', async () => {
    const suffix = randomBytes(4).toString('hex');
    const role = `duxsoup_owner_${suffix}`;
    const database = `duxsoup_managed_${suffix}`;
    const password = randomBytes(12).toString('hex');
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
      await admin.query(`CREATE DATABASE ${database} OWNER ${role} TEMPLATE template0`);
      const url = new URL(adminUrl());
      url.username = role;
      url.password = password;
      url.pathname = `/${database}`;
      const pool = createPool({
        connectionString: url.toString(),
        max: 2,
        connectTimeoutMs: 5000,
        queryTimeoutMs: 30000,
      });
      try {
        await migrate(pool);
        const { rows } = await pool.query<{ folded: string }>(
          `SELECT public.immutable_unaccent('José Núñez') AS folded`,
        );
        expect(rows[0]!.folded).toBe('Jose Nunez');
        expect(await evaluated((sql) => pool.query(sql))).toContain('immutable_unaccent(');
      } finally {
        await pool.end();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });
});
