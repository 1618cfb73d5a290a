import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import pg from 'pg';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { AppContext } from '../../src/context';
import { DatabaseState } from '../../src/db';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { deferredProcessor } from '../../src/ingest/processor';
import { createLogger } from '../../src/logger';
import { benchDatabase, machine, saveReport } from './lib';

/**
 * Latency of `GET /api/health/dashboard?fresh=true` (every figure recomputed, no cache) on a database seeded
 * directly with SQL `generate_series`: N live persons, ~1.5 N observations (visits and scans, plus skipped,
 * dead, pending and ignored ones), ~4 aliases per person, N/20 companies, merges, conflicts and dead letters.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx scripts/bench/dashboard.ts 200000
 *
 * Arguments: N (default 200000), then the number of timed requests (default 30). BENCH_KEEP=1 keeps the
 * database (its URL is printed) for EXPLAIN sessions; BENCH_SEEDED_URL=<that URL> measures it again (no
 * migration, no seeding).
 */
const PERSONS = Number(process.argv[2] ?? process.env.BENCH_PERSONS ?? 200_000);
const REQUESTS = Number(process.argv[3] ?? process.env.BENCH_REQUESTS ?? 30);
const OTHER_ENDPOINTS = [
  'ingestion',
  'parity',
  'metrics',
  'data-quality',
  'coverage-breakdown',
  'canonical-coverage',
  'company-coverage',
  'location-coverage',
];

/** A number in [0, 1000) that is a fixed pseudo-random function of the row number and a salt. */
const pick = (row: string, salt: number) => `(abs(hashint4(${row} * 31 + ${salt})) % 1000)`;

/** The log columns every seeded observation's SELECT starts with, in this order. */
const SEEDED_LOG_COLUMNS =
  'id, source, kind, event, dux_user_id, event_time, received_at, event_key, payload';

/** Observations from a SELECT of the seeded log columns then `stateColumns`, written to both tables at once. */
function insertObservations(stateColumns: string[], select: string): string {
  const state = ['id', 'kind', ...stateColumns].join(', ');
  return `WITH seed (${SEEDED_LOG_COLUMNS}, ${stateColumns.join(', ')}) AS (${select}),
          logged AS (INSERT INTO observation_log (${SEEDED_LOG_COLUMNS}) SELECT ${SEEDED_LOG_COLUMNS} FROM seed)
          INSERT INTO observation_state (${state}) SELECT ${state} FROM seed`;
}

const SEED_STATEMENTS: { label: string; sql: string }[] = [
  {
    label: 'companies',
    sql: `INSERT INTO companies (id, anchor_observation_id, snapshot, observations_count, name, first_observed_at,
                             last_observed_at)
          SELECT md5('company:' || c)::uuid, c,
                 jsonb_strip_nulls(jsonb_build_object(
                   'name', 'Company ' || c,
                   'linkedinId', CASE WHEN ${pick('c', 1)} < 800 THEN (5000000 + c)::text END,
                   'domain', CASE WHEN ${pick('c', 2)} < 500 THEN 'company' || c || '.example' END,
                   'industry', CASE WHEN ${pick('c', 3)} < 700 THEN 'Industry ' || (c % 40) END)),
                 20, 'Company ' || c, now() - interval '300 days', now() - interval '1 day'
            FROM generate_series(1, greatest(10, $1 / 20)) c`,
  },
  {
    label: 'company aliases',
    sql: `INSERT INTO company_aliases (kind, value, company_id, display, first_observation_id)
          SELECT kind, value, id, value, 1 FROM (
            SELECT 'name' AS kind, 'company ' || c AS value, md5('company:' || c)::uuid AS id
              FROM generate_series(1, greatest(10, $1 / 20)) c
            UNION ALL
            SELECT 'linkedin_id', (5000000 + c)::text, md5('company:' || c)::uuid
              FROM generate_series(1, greatest(10, $1 / 20)) c) a`,
  },
  {
    label: 'locations',
    sql: `INSERT INTO locations (id, key, snapshot, observations_count)
          SELECT md5('location:' || l)::uuid, 'city-' || l,
                 jsonb_strip_nulls(jsonb_build_object(
                   'label', 'City ' || l || ', State ' || (l % 50) || ', Country ' || (l % 30),
                   'city', CASE WHEN ${pick('l', 4)} < 900 THEN 'City ' || l END,
                   'state', CASE WHEN ${pick('l', 5)} < 700 THEN 'State ' || (l % 50) END,
                   'country', 'Country ' || (l % 30), 'countryCode', 'C' || chr(65 + l % 26))),
                 100
            FROM generate_series(1, greatest(10, least(5000, $1 / 100))) l`,
  },
  {
    label: 'location aliases',
    sql: `INSERT INTO location_aliases (value, location_id)
          SELECT 'city ' || l || ', state ' || (l % 50), md5('location:' || l)::uuid
            FROM generate_series(1, greatest(10, least(5000, $1 / 100))) l`,
  },
  {
    // Realistic snapshots (~3 KB of JSON with provenance for every field), so the table is as wide as a real one.
    label: 'persons',
    sql: `WITH base AS (
            SELECT i,
                   now() - (abs(hashint4(i)) % (180 * 1440)) * interval '1 minute' AS last_at,
                   2 - (i % 2) AS observations,
                   md5('company:' || (1 + abs(hashint4(i * 3)) % greatest(10, $1 / 20)))::uuid AS company_id,
                   md5('location:' || (1 + abs(hashint4(i * 5)) % greatest(10, least(5000, $1 / 100))))::uuid
                     AS location_id
              FROM generate_series(1, $1) i),
          fields AS (
            SELECT i, last_at, observations,
                   jsonb_strip_nulls(jsonb_build_object(
                     'firstName', 'First' || i, 'lastName', 'Last' || i,
                     'fullName', CASE WHEN ${pick('i', 6)} < 985 THEN 'First' || i || ' Last' || i END,
                     'currentTitle', CASE WHEN ${pick('i', 7)} < 920 THEN 'Director of Things ' || (i % 97) END,
                     'currentCompany', CASE WHEN ${pick('i', 8)} < 900 THEN 'Company ' || i END,
                     'companyId', CASE WHEN ${pick('i', 8)} < 850 THEN company_id::text END,
                     'location', CASE WHEN ${pick('i', 9)} < 850 THEN 'City, State, Country' END,
                     'locationId', CASE WHEN ${pick('i', 9)} < 850 THEN location_id::text END,
                     'city', 'City', 'state', 'State', 'country', 'Country', 'countryCode', 'US',
                     'email', CASE WHEN ${pick('i', 10)} < 150 THEN 'person' || i || '@example.org' END,
                     'seniorityTier', CASE WHEN ${pick('i', 7)} < 900 THEN 'Director' END,
                     'seniorityLevel', CASE WHEN ${pick('i', 7)} < 900 THEN 6 END,
                     'department', 'Operations', 'connections', i % 500, 'degree', 2,
                     'industry', 'Industry ' || (i % 40),
                     'summary', repeat(md5(i::text), 4),
                     'skills', to_jsonb(ARRAY['Skill A', 'Skill B', 'Skill C', 'Skill D', 'Skill ' || (i % 50)]),
                     'roles', jsonb_build_array(
                       jsonb_build_object('title', 'Director', 'company', 'Company ' || i, 'startYear', 2020,
                                          'isCurrent', true),
                       jsonb_build_object('title', 'Manager', 'company', 'Other ' || i, 'startYear', 2015,
                                          'endYear', 2020, 'isCurrent', false)))) AS snapshot
              FROM base)
          INSERT INTO persons (id, anchor_observation_id, snapshot, observations_count, first_observed_at,
                               last_observed_at, full_name, current_title, current_company, current_company_id,
                               location_id, created_at, updated_at)
          SELECT md5('person:' || i)::uuid, i,
                 snapshot || jsonb_build_object('_meta', (
                   SELECT jsonb_object_agg(key, jsonb_build_object('value', value, 'observedAt', last_at,
                                                                   'source', 'visit', 'observationId', i))
                     FROM jsonb_each(snapshot))),
                 observations, last_at - (observations - 1) * interval '20 days', last_at,
                 snapshot->>'fullName', snapshot->>'currentTitle', snapshot->>'currentCompany',
                 (snapshot->>'companyId')::uuid, (snapshot->>'locationId')::uuid,
                 last_at - (observations - 1) * interval '20 days', last_at
            FROM fields`,
  },
  {
    label: 'tombstones and merges',
    sql: `WITH tombstones AS (
            INSERT INTO persons (id, anchor_observation_id, merged_into, merged_at, snapshot, observations_count)
            SELECT md5('tombstone:' || t)::uuid, $1 * 3 + t, md5('person:' || (t * 50))::uuid, now(),
                   jsonb_build_object('fullName', 'Tomb ' || t), 0
              FROM generate_series(1, $1 / 100) t
            RETURNING id, merged_into)
          INSERT INTO merges (entity, survivor_id, merged_ids, reason, before_images)
          SELECT 'person', merged_into, ARRAY[id], 'shared identifier', '[]' FROM tombstones`,
  },
  {
    label: 'observations (linked)',
    sql: insertObservations(
      ['status', 'person_id', 'processed_at', 'company_id', 'location_id'],
      `SELECT o.id, 'duxsoup', o.kind, 'create', 'user-1', o.at - interval '1 minute', o.at, md5('obs:' || o.id),
                 jsonb_build_object('type', o.kind, 'event', 'create', 'data', jsonb_build_object(
                   'id', 'id.' || (1000000000 + o.i), 'First Name', 'First' || o.i, 'Last Name', 'Last' || o.i,
                   'Title', p.current_title, 'Company', p.current_company, 'Summary', repeat(md5(o.id::text), 8))),
                 'processed', p.id, o.at, p.current_company_id, p.location_id
            FROM (SELECT i, i AS id, CASE WHEN ${pick('i', 11)} < 700 THEN 'visit' ELSE 'scan' END AS kind,
                         md5('person:' || i)::uuid AS person, 0 AS second
                    FROM generate_series(1, $1) i
                  UNION ALL
                  SELECT i, $1 + i, CASE WHEN ${pick('i', 12)} < 700 THEN 'visit' ELSE 'scan' END,
                         md5('person:' || i)::uuid, 1
                    FROM generate_series(2, $1, 2) i) o0
            JOIN persons p ON p.id = o0.person
            CROSS JOIN LATERAL (SELECT o0.i, o0.id, o0.kind,
                                       CASE WHEN o0.second = 1 OR p.observations_count = 1 THEN p.last_observed_at
                                            ELSE p.first_observed_at END AS at) o`,
    ),
  },
  {
    label: 'observations (skipped, dead, pending, ignored)',
    sql: insertObservations(
      ['status', 'status_reason'],
      `SELECT id, 'duxsoup', kind, 'create', 'user-1', at, at, md5('obs:' || id),
                 jsonb_build_object('type', kind, 'data', jsonb_build_object('Summary', repeat(md5(id::text), 8))),
                 status, CASE WHEN status = 'skipped' THEN 'no usable identifier' END
            FROM (SELECT $1 * 2 + k AS id, 'visit' AS kind, 'skipped' AS status,
                         now() - (abs(hashint4(k)) % (180 * 1440)) * interval '1 minute' AS at
                    FROM generate_series(1, $1 / 100) k
                  UNION ALL
                  SELECT $1 * 2 + $1 / 100 + k, 'scan', 'dead', now() - (abs(hashint4(k)) % (7 * 1440)) * interval '1 minute'
                    FROM generate_series(1, $1 / 1000) k
                  UNION ALL
                  SELECT $1 * 2 + $1 / 50 + k, 'visit', 'pending',
                         now() - CASE WHEN k % 2 = 0 THEN interval '30 seconds' ELSE interval '1 hour' END
                    FROM generate_series(1, $1 / 2000) k
                  UNION ALL
                  SELECT $1 * 2 + $1 / 25 + k, 'rccommand', 'ignored',
                         now() - (abs(hashint4(k)) % (180 * 1440)) * interval '1 minute'
                    FROM generate_series(1, $1 / 30) k) extra`,
    ),
  },
  {
    label: 'dead letters',
    sql: `INSERT INTO dead_letters (observation_id, error, attempts, status, next_attempt_at, created_at)
          SELECT id, 'simulated failure', 1 + id % 5, CASE WHEN id % 4 = 0 THEN 'failed' ELSE 'pending' END,
                 now() + interval '10 minutes', received_at
            FROM observations WHERE status = 'dead'`,
  },
  {
    label: 'person aliases',
    sql: `INSERT INTO person_aliases (kind, value, person_id, display, first_observation_id)
          SELECT kind, value, md5('person:' || i)::uuid, value, i FROM (
            SELECT i, 'profile_url' AS kind, 'linkedin.com/in/person-' || i AS value FROM generate_series(1, $1) i
            UNION ALL
            SELECT i, 'username', 'person-' || i FROM generate_series(1, $1) i WHERE ${pick('i', 13)} < 900
            UNION ALL
            SELECT i, 'member_id', (1000000000 + i)::text FROM generate_series(1, $1) i WHERE ${pick('i', 14)} < 800
            UNION ALL
            SELECT i, 'sales_nav_id', 'acwaaa' || md5(i::text) FROM generate_series(1, $1) i
             WHERE ${pick('i', 15)} < 600
            UNION ALL
            SELECT i, 'duxsoup_id', 'id.' || (1000000000 + i) FROM generate_series(1, $1) i
             WHERE ${pick('i', 16)} < 700
            UNION ALL
            SELECT i, 'email', 'person' || i || '@example.org' FROM generate_series(1, $1) i
             WHERE ${pick('i', 10)} < 150) a`,
  },
  {
    label: 'identity conflicts',
    sql: `INSERT INTO identity_conflicts (entity, observation_id, kind, entity_ids, detail)
          SELECT 'person', k, 'hard_identifier', ARRAY[md5('person:' || k)::uuid, md5('person:' || (k + 1))::uuid],
                 '{}'
            FROM generate_series(1, greatest(1, $1 / 2000)) k`,
  },
  {
    label: 'entity refresh queue',
    sql: `INSERT INTO entity_refresh (entity, id)
          SELECT 'company', md5('company:' || c)::uuid FROM generate_series(1, 10) c`,
  },
  {
    label: 'sequences',
    sql: `SELECT setval('observations_id_seq', (SELECT max(id) FROM observations))`,
  },
];

/** Tables seeded in bulk: their secondary indexes are dropped first and rebuilt after (far faster than row by row). */
const BULK_TABLES = ['persons', 'observation_log', 'observation_state', 'person_aliases'];

async function seed(url: string, persons: number): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const timings: Record<string, number> = {};
  const timed = async (label: string, work: () => Promise<unknown>) => {
    const started = Date.now();
    await work();
    timings[label] = Date.now() - started;
    process.stderr.write(`  ${label}: ${timings[label]} ms\n`);
  };
  try {
    const { rows: indexes } = await client.query<{ name: string; definition: string }>(
      `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
        WHERE schemaname = current_schema() AND tablename = ANY($1)
          AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
      [BULK_TABLES],
    );
    for (const index of indexes) await client.query(`DROP INDEX ${client.escapeIdentifier(index.name)}`);
    for (const statement of SEED_STATEMENTS) {
      await timed(statement.label, () =>
        client.query(statement.sql, statement.sql.includes('$1') ? [persons] : []),
      );
    }
    await timed('indexes', async () => {
      for (const index of indexes) await client.query(index.definition);
    });
    // What autovacuum would have done on a live database: statistics and the visibility map.
    await timed('vacuum', () => client.query('VACUUM (ANALYZE)'));
  } finally {
    await client.end();
  }
  return timings;
}

function percentile(sorted: number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, index)]! * 10) / 10;
}

async function timeRequests(
  baseUrl: string,
  path: string,
  count: number,
): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = process.hrtime.bigint();
    const response = await fetch(`${baseUrl}${path}`);
    if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

async function main(): Promise<void> {
  if (!Number.isInteger(PERSONS) || PERSONS < 1000) throw new Error('N must be an integer of at least 1000');
  const seededUrl = process.env.BENCH_SEEDED_URL;
  const database = seededUrl
    ? { url: seededUrl, mode: 'external' as const, close: () => Promise.resolve() }
    : await benchDatabase();
  const report: Record<string, unknown> = {
    benchmark: 'dashboard',
    date: new Date().toISOString(),
    machine: machine(),
    database: database.mode,
    persons: PERSONS,
    requests: REQUESTS,
  };
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    READ_RATE_LIMIT: '0',
  });
  const pool = createPool({
    connectionString: database.url,
    max: 10,
    connectTimeoutMs: 5000,
    queryTimeoutMs: 600_000,
  });
  let server: Server | null = null;
  try {
    if (!seededUrl) {
      await migrate(pool);
      const seedStarted = Date.now();
      report.seedMs = await seed(database.url, PERSONS);
      report.seedSeconds = Math.round((Date.now() - seedStarted) / 100) / 10;
    }
    const sizes = await pool.query<{ name: string; rows: number; mb: number }>(
      `SELECT relname AS name, reltuples::bigint AS rows, round(pg_total_relation_size(oid) / 1048576.0) AS mb
         FROM pg_class WHERE relname IN ('persons', 'observation_log', 'observation_state', 'person_aliases', 'companies', 'locations')
        ORDER BY relname`,
    );
    report.tables = Object.fromEntries(
      sizes.rows.map((row) => [row.name, { rows: row.rows, mb: Number(row.mb) }]),
    );

    const state = new DatabaseState('external');
    state.pool = pool;
    state.migrated = true;
    const logger = createLogger(config);
    const context: AppContext = { config, logger, database: state, processor: deferredProcessor };
    const app = createApp(context);
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    await timeRequests(baseUrl, '/api/health/dashboard?fresh=true', 3); // warm-up
    report.dashboardFresh = await timeRequests(baseUrl, '/api/health/dashboard?fresh=true', REQUESTS);
    report.dashboardCached = await timeRequests(baseUrl, '/api/health/dashboard', REQUESTS);
    const endpoints: Record<string, unknown> = {};
    for (const endpoint of OTHER_ENDPOINTS) {
      await timeRequests(baseUrl, `/api/health/${endpoint}?fresh=true`, 1);
      endpoints[endpoint] = await timeRequests(
        baseUrl,
        `/api/health/${endpoint}?fresh=true`,
        Math.min(REQUESTS, 10),
      );
    }
    report.endpointsFresh = endpoints;
    if (process.env.BENCH_KEEP === '1') report.keptDatabase = database.url;
  } finally {
    if (server) await new Promise((resolve) => server!.close(resolve));
    await pool.end();
    if (process.env.BENCH_KEEP !== '1') await database.close();
  }
  console.log(JSON.stringify(report, null, 2));
  saveReport('dashboard', report);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
