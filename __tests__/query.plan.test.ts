import type { Pool } from '../src/db/pool';
import { planExport } from '../src/exports/sources';
import { COMPANY_FIELDS, PEOPLE_FIELDS, runQuery } from '../src/query';
import type { FieldCatalogue } from '../src/query';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

/**
 * The catalogue's SQL expressions must be exactly the ones 004_query.sql indexes, or the planner cannot use
 * the indexes. With sequential scans disabled, each query below must reach its index: a plan check, not a timing.
 */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  // Realistic skew: most people in a few countries, titles that repeat with variations.
  await db.pool.query(`
    INSERT INTO persons (id, anchor_observation_id, snapshot, last_observed_at, full_name, current_title)
    SELECT md5('plan' || g)::uuid, g,
           jsonb_build_object('countryCode', country.code, 'country', country.name),
           timestamptz '2025-01-01' + g * interval '1 minute',
           'Person ' || g,
           (ARRAY['Software Engineer', 'VP of Sales', 'Account Executive', 'Designer', 'Data Analyst'])[1 + g % 5]
             || ' ' || (g % 1000)
      FROM generate_series(1, 20000) AS g,
           LATERAL (SELECT (ARRAY['US', 'US', 'US', 'GB', 'IN', 'BR', 'FR', 'CA'])[1 + g % 8] AS code) AS pick,
           LATERAL (SELECT CASE WHEN g % 97 = 0 THEN 'DE' ELSE pick.code END AS code,
                           CASE WHEN g % 97 = 0 THEN 'Germany' ELSE 'Elsewhere ' || pick.code END AS name) AS country`);
  await db.pool.query(`
    UPDATE persons SET current_title = 'Legal Counsel ' || anchor_observation_id WHERE anchor_observation_id % 500 = 0`);
  await db.pool.query(`
    INSERT INTO companies (id, anchor_observation_id, name, last_observed_at)
    SELECT md5('company' || g)::uuid, g, 'Company ' || g, timestamptz '2025-01-01' + g * interval '1 hour'
      FROM generate_series(1, 2000) AS g`);
  await db.pool.query('VACUUM ANALYZE persons'); // also empties the GIN pending list, as autovacuum would
  await db.pool.query('VACUUM ANALYZE companies');
});
afterAll(() => db.drop());

/** The plans (text) of the page queries runQuery sends for `body`, planned without sequential scans. */
async function pagePlan(catalogue: FieldCatalogue, body: Record<string, unknown>): Promise<string> {
  const sent: { sql: string; params: unknown[] }[] = [];
  const spy = {
    query: (sql: string, params: unknown[]) => {
      sent.push({ sql, params });
      return db.pool.query(sql, params);
    },
    connect: () => db.pool.connect(),
  } as unknown as Pool;
  await runQuery(spy, catalogue, body, { countLimit: 100, countTimeoutMs: 10_000, countMaxCost: 1e9 });
  const page = sent.find((query) => query.sql.includes('ORDER BY'));
  if (!page) throw new Error('no page query was sent');
  const client = await db.pool.connect();
  try {
    await client.query('SET enable_seqscan = off');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${page.sql}`, page.params);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await client.query('RESET enable_seqscan');
    client.release();
  }
}

it('country code equality in the default order reads persons_query_country_code_idx', async () => {
  const plan = await pagePlan(PEOPLE_FIELDS, { filters: { countryCode: 'DE' } });
  expect(plan).toMatch(/Index Scan Backward using persons_query_country_code_idx/);
  expect(plan).not.toMatch(/Sort Key/);
});

it('title regex plus country, newest first (the benchmark query) reads the country index in order', async () => {
  const plan = await pagePlan(PEOPLE_FIELDS, {
    filters: { currentTitle: { $regex: 'VP|Vice President', $options: 'i' }, countryCode: 'DE' },
    sort: { lastObservedAt: -1 },
  });
  expect(plan).toMatch(/persons_query_country_code_idx/);
});

it('country name equality reads persons_query_country_idx', async () => {
  const plan = await pagePlan(PEOPLE_FIELDS, { filters: { country: 'Germany' } });
  expect(plan).toMatch(/persons_query_country_idx/);
});

it('a title regex reads the trigram index', async () => {
  const plan = await pagePlan(PEOPLE_FIELDS, {
    filters: { currentTitle: { $regex: 'legal counsel', $options: 'i' } },
    sort: { fullName: 1 },
  });
  expect(plan).toMatch(/Bitmap Index Scan on persons_query_title_trgm_idx/);
});

it('a cursor page starts its index range at the cursor', async () => {
  const first = await runQuery(
    db.pool,
    PEOPLE_FIELDS,
    { filters: { countryCode: 'DE' }, limit: 10 },
    {
      countLimit: 100,
      countTimeoutMs: 10_000,
      countMaxCost: 1e9,
    },
  );
  const plan = await pagePlan(PEOPLE_FIELDS, {
    filters: { countryCode: 'DE' },
    limit: 10,
    cursor: first.pagination.nextCursor,
  });
  expect(plan).toMatch(
    /Index Cond: \(\(\(snapshot ->> 'countryCode'::text\) = 'DE'::text\) AND \(last_observed_at <= /,
  );
});

it('companies in the default order read companies_query_recent_idx', async () => {
  const plan = await pagePlan(COMPANY_FIELDS, { fields: ['name'] });
  expect(plan).toMatch(/Index Scan Backward using companies_query_recent_idx/);
});

it("an export's LinkedIn URL column reads person_aliases_linkedin_idx alone (no heap visit per person)", async () => {
  await db.pool.query(`
    INSERT INTO person_aliases (kind, value, person_id, display, first_observation_id)
    SELECT kind, kind || ':' || g, md5('plan' || g)::uuid, 'https://www.linkedin.com/in/p' || g, g
      FROM generate_series(1, 20000) AS g, unnest(ARRAY['member_id', 'profile_url', 'sales_url', 'email']) AS kind`);
  await db.pool.query('VACUUM ANALYZE person_aliases'); // index-only scans need the visibility map
  const plan = planExport('people', { filters: {}, fields: ['id', 'linkedInUrl'], sort: null, bom: false });
  const { rows } = await db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${plan.rowsSql}`, plan.params);
  const text = rows.map((row) => row['QUERY PLAN']).join('\n');
  expect(text).toMatch(/Index Only Scan using person_aliases_linkedin_idx on person_aliases/);
});
