import { Writable } from 'node:stream';
import pg from 'pg';
import { loadConfig } from '../../src/config';
import { migrate } from '../../src/db/migrate';
import type { Pool } from '../../src/db/pool';
import type { ExportFormat } from '../../src/exports';
import {
  createExport,
  defaultColumns,
  exportSettingsFromConfig,
  findExportJob,
  pipeChunks,
  runExportJobOnce,
} from '../../src/exports';
import { benchDatabase, machine, processCpuSeconds, saveReport } from './lib';

const ROWS = Number(process.env.BENCH_EXPORT_ROWS ?? 200_000);
const SEED_BATCH = 50_000;
const POOL_SIZE = 6;

/**
 * Exports of N people (default 200 000; BENCH_EXPORT_ROWS) seeded directly with SQL, realistic snapshots
 * included (_meta provenance, roles, education, skills, a summary): rows/s of the worker producing the file into
 * PostgreSQL, rows/s of a download streaming it back, and the process's peak RSS during each. Targets
 * (issue 3, at 1 000 000 rows): >= 50 000 rows/s and RSS < 300 MB.
 *
 * CPU time per row (this process, and the PostgreSQL backends when the server runs on this machine) is reported
 * too: on a machine shared with other work it says more than wall-clock figures.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx scripts/bench/export.ts
 */
async function main(): Promise<void> {
  const database = await benchDatabase();
  // As the service's pool, but connections are never closed for idleness: their backends' CPU is measured.
  const pool = new pg.Pool({
    connectionString: database.url,
    max: POOL_SIZE,
    connectionTimeoutMillis: 5000,
    query_timeout: 600_000,
    idleTimeoutMillis: 0,
    application_name: 'bench-export',
  });
  try {
    await migrate(pool);
    const seedStarted = performance.now();
    await seedPeople(pool, ROWS);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const { rows: size } = await pool.query<{ table: string; avg_snapshot: number }>(
      `SELECT pg_size_pretty(pg_total_relation_size('persons')) AS table,
              (SELECT avg(pg_column_size(snapshot))::int FROM persons) AS avg_snapshot`,
    );

    const report: Record<string, unknown> = {
      benchmark: 'export',
      date: new Date().toISOString(),
      machine: machine(),
      database: database.mode,
      rows: ROWS,
      seedSeconds: round(seedSeconds),
      personsTable: size[0]?.table,
      averageStoredSnapshotBytes: size[0]?.avg_snapshot,
      baselineRssMb: mb(process.memoryUsage().rss),
    };
    for (const format of ['csv', 'json'] as ExportFormat[]) {
      report[format] = await exportOnce(pool, format);
    }
    // The linkedInUrl column is the one default column not in the snapshot (an alias look-up per row): its cost.
    const withoutLinkedInUrl = defaultColumns('people').filter((name) => name !== 'linkedInUrl');
    report.csvWithoutLinkedInUrl = await exportOnce(pool, 'csv', withoutLinkedInUrl);
    console.log(JSON.stringify(report, null, 2));
    saveReport('export', report);
  } finally {
    await pool.end();
    await database.close();
  }
}

async function exportOnce(
  pool: Pool,
  format: ExportFormat,
  fields?: readonly string[],
): Promise<Record<string, unknown>> {
  const config = loadConfig({ EXPORT_MAX_ROWS: String(Math.max(ROWS, 1)) });
  const settings = exportSettingsFromConfig(config);
  const job = await createExport(
    pool,
    {
      entity: 'people',
      format,
      filters: undefined,
      fields,
      sort: undefined,
      bom: false,
      ownerKeyHash: null,
    },
    { ttlMs: settings.ttlMs, maxActivePerOwner: 0 },
  );

  const produce = await measured(pool, () => runExportJobOnce(pool, settings));
  if (produce.result?.outcome !== 'completed')
    throw new Error(`export did not complete: ${JSON.stringify(produce.result)}`);
  const done = await findExportJob(pool, job.id);
  if (!done) throw new Error('the job vanished');

  let downloaded = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      downloaded += chunk.length;
      setImmediate(callback);
    },
  });
  const download = await measured(pool, () => pipeChunks(pool, done, sink));
  if (downloaded !== done.sizeBytes) throw new Error(`downloaded ${downloaded} of ${done.sizeBytes} bytes`);

  return {
    rows: done.rowsDone,
    fileMb: round(done.sizeBytes / 1024 / 1024),
    chunks: done.chunkCount,
    produceSeconds: round(produce.seconds),
    produceRowsPerSecond: Math.round(done.rowsDone / produce.seconds),
    producePeakRssMb: produce.peakRssMb,
    produceCpuMicrosecondsPerRow: perRow(produce.cpu, done.rowsDone),
    downloadSeconds: round(download.seconds),
    downloadRowsPerSecond: Math.round(done.rowsDone / download.seconds),
    downloadPeakRssMb: download.peakRssMb,
    downloadCpuMicrosecondsPerRow: perRow(download.cpu, done.rowsDone),
  };
}

interface CpuSeconds {
  node: number;
  /** Every backend of the pool (the cursor, the chunk writes); null when PostgreSQL is not on this machine. */
  postgres: number | null;
}

/**
 * Runs `work`, sampling this process's RSS every 10 ms, and the CPU time it and the PostgreSQL backends of
 * `pool` spent: on a machine shared with other work, CPU per row says more than wall-clock rows/s.
 */
async function measured<T>(
  pool: Pool,
  work: () => Promise<T>,
): Promise<{ result: T; seconds: number; peakRssMb: number; cpu: CpuSeconds }> {
  const backends = await warmBackends(pool);
  const postgresBefore = backendCpuSeconds(backends);
  const nodeBefore = process.cpuUsage();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const started = performance.now();
  try {
    const result = await work();
    const seconds = (performance.now() - started) / 1000;
    peak = Math.max(peak, process.memoryUsage().rss);
    const node = process.cpuUsage(nodeBefore);
    const postgresAfter = backendCpuSeconds(backends);
    return {
      result,
      seconds,
      peakRssMb: mb(peak),
      cpu: {
        node: (node.user + node.system) / 1e6,
        postgres: postgresBefore === null || postgresAfter === null ? null : postgresAfter - postgresBefore,
      },
    };
  } finally {
    clearInterval(sampler);
  }
}

/** Opens every connection of the pool now, so the backends doing the work are known before it starts. */
async function warmBackends(pool: Pool): Promise<number[]> {
  const clients = await Promise.all(Array.from({ length: POOL_SIZE }, () => pool.connect()));
  try {
    const pids = await Promise.all(
      clients.map(
        async (client) =>
          (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid,
      ),
    );
    return pids;
  } finally {
    for (const client of clients) client.release();
  }
}

/** utime + stime of the backends, from /proc (Linux, PostgreSQL on this machine); null when one is not there. */
function backendCpuSeconds(pids: number[]): number | null {
  let seconds = 0;
  for (const pid of pids) {
    const cpu = processCpuSeconds(pid);
    if (cpu === null) return null;
    seconds += cpu.own;
  }
  return seconds;
}

function perRow(cpu: CpuSeconds, rows: number): Record<string, number | null> {
  const micro = (seconds: number | null) => (seconds === null ? null : round((seconds * 1e6) / rows));
  return { node: micro(cpu.node), postgres: micro(cpu.postgres) };
}

/**
 * N live persons shaped like real folded snapshots, each with the eight aliases a Dux-Soup visit gives (the
 * linkedInUrl column looks them up), in batches so no single statement grows with N.
 */
export async function seedPeople(pool: Pool, count: number): Promise<void> {
  for (let from = 1; from <= count; from += SEED_BATCH) {
    const to = Math.min(from + SEED_BATCH - 1, count);
    await pool.query(
      `WITH base AS (
         SELECT i,
                md5('bench-person-' || i)::uuid AS id,
                (ARRAY['Anna','Bob','Zoë','李','José','Amélie','Mohammed','Olga','Siobhán','Priya'])[1 + i % 10] AS first,
                (ARRAY['Smith','O''Brien','Núñez-García','小龙','Müller','Kowalski, Jr','Dubois','Ivanova'])[1 + i % 8] AS last,
                (ARRAY['VP, Sales','Chief Technology Officer','Senior Software Engineer','Head of "Growth"',
                       'Account Executive','Product Manager','Director of Marketing','Founder & CEO'])[1 + i % 8] AS title,
                (ARRAY['Orchard Cyber','Quartz & Co','Café Lumière, Inc.','Ipê Tecnologia','Northwind Group'])[1 + i % 5] AS company,
                (ARRAY['Los Angeles|California|CA|United States|US','Munich|Bavaria|BY|Germany|DE',
                       'São Paulo|São Paulo|SP|Brazil|BR','Manchester|England|ENG|United Kingdom|GB'])[1 + i % 4] AS place,
                timestamptz '2025-01-01' + (i % 500000) * interval '37 seconds' AS seen
           FROM generate_series($1::int, $2::int) AS i),
       shaped AS (
         SELECT b.*, split_part(place, '|', 1) AS city, split_part(place, '|', 2) AS state,
                split_part(place, '|', 3) AS state_code, split_part(place, '|', 4) AS country,
                split_part(place, '|', 5) AS country_code
           FROM base b),
       fields AS (
         SELECT s.*, jsonb_build_object(
                  'firstName', first, 'lastName', last, 'fullName', first || ' ' || last,
                  'currentTitle', title, 'currentCompany', company, 'companyProfileUrl',
                  'https://www.linkedin.com/company/' || (10000 + i % 5000) || '/',
                  'currentCompanyLinkedinId', (10000 + i % 5000)::text,
                  'location', city || ', ' || state || ', ' || country, 'city', city, 'state', state,
                  'stateCode', state_code, 'country', country, 'countryCode', country_code,
                  'locationKey', lower(city || '|' || state || '|' || country),
                  'email', CASE WHEN i % 3 = 0 THEN 'person' || i || '@example.com' END,
                  'phone', CASE WHEN i % 4 = 0 THEN '+1415555' || lpad((i % 10000)::text, 4, '0') END,
                  'connections', (i * 37) % 3000, 'connectionsCapped', false, 'degree', 1 + i % 3,
                  'industry', (ARRAY['Software Development','Computer and Network Security','Financial Services'])[1 + i % 3],
                  'seniorityTier', (ARRAY['VP','CXO','Individual Contributor','Manager'])[1 + i % 4],
                  'seniorityLevel', (ARRAY[5, 7, 1, 3])[1 + i % 4],
                  'department', (ARRAY['sales','engineering','marketing','product'])[1 + i % 4],
                  'summary', 'Leader focused on pragmatic outcomes, measurable results and teams that ship. ' ||
                             'Experienced in cloud, identity and go-to-market. Person number ' || i || '.',
                  'skills', jsonb_build_array('Leadership','Sales','Strategy','Cloud Computing','Negotiation',
                             'B2B, SaaS','Team Building','Public Speaking','Go-to-market Strategy','Analytics'),
                  'roles', jsonb_build_array(
                    jsonb_build_object('title', title, 'companyName', company, 'location', NULL,
                      'description', 'Leads the team through growth and change.', 'startYear', 2021,
                      'startMonth', 1 + i % 12, 'endYear', NULL, 'endMonth', NULL, 'isCurrent', true),
                    jsonb_build_object('title', 'Senior Manager', 'companyName', 'Westgate Pictures',
                      'location', NULL, 'description', 'Built the regional business from scratch.',
                      'startYear', 2016, 'startMonth', 3, 'endYear', 2020, 'endMonth', 12, 'isCurrent', false),
                    jsonb_build_object('title', 'Analyst', 'companyName', 'Granite Peak', 'location', NULL,
                      'description', NULL, 'startYear', 2012, 'startMonth', 9, 'endYear', 2016,
                      'endMonth', 2, 'isCurrent', false)),
                  'education', jsonb_build_array(
                    jsonb_build_object('school', 'Northfield University', 'degree', 'MBA',
                      'field', 'Business', 'startYear', 2010, 'endYear', 2012)),
                  'currentRoleStartYear', 2021) AS snap
           FROM shaped s),
       persons_in AS (
         INSERT INTO persons (id, anchor_observation_id, snapshot, observations_count, first_observed_at,
                              last_observed_at, full_name, current_title, current_company, created_at, updated_at)
         SELECT id, i, snap || jsonb_build_object('_meta', (
                  SELECT jsonb_object_agg(key, jsonb_build_object('value', value, 'observedAt', seen,
                           'source', 'visit', 'observationId', i))
                    FROM jsonb_each(snap))),
                1 + i % 3, seen - interval '90 days', seen, first || ' ' || last, title, company, seen, seen
           FROM fields
         RETURNING id, anchor_observation_id AS i)
       INSERT INTO person_aliases (kind, value, person_id, display, first_observation_id)
       SELECT kind, lower(display), id, display, i
         FROM persons_in,
              LATERAL (VALUES
                ('sales_nav_id', 'ACwAAA' || i || 'Xy'),
                ('member_id', (100000000 + i)::text),
                ('username', 'bench-person-' || i),
                ('profile_url', 'https://www.linkedin.com/in/bench-person-' || i),
                ('recruiter_url', 'https://www.linkedin.com/talent/profile/ACwAAA' || i || 'Xy'),
                ('sales_url', 'https://www.linkedin.com/sales/lead/ACwAAA' || i || 'Xy'),
                ('duxsoup_id', 'id.' || (100000000 + i)),
                ('email', 'person' || i || '@example.com')) AS a(kind, display)`,
      [from, to],
    );
  }
  await pool.query('VACUUM ANALYZE persons');
  await pool.query('VACUUM ANALYZE person_aliases');
}

function mb(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

if (require.main === module)
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
