import pg from 'pg';
import { loadConfig, durationMs } from '../../src/config';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { phase2FromConfig } from '../../src/ingest/phase2';
import { createLogger } from '../../src/logger';
import { rebuildFromLog } from '../../src/rebuild';
import { benchDatabase, machine, saveReport, visitBodyTemplates } from './lib';

const OBSERVATIONS = Number(process.env.BENCH_OBSERVATIONS ?? 100_000);
const PER_PERSON = Number(process.env.BENCH_OBSERVATIONS_PER_PERSON ?? 4);

/**
 * `rebuild` throughput: seeds OBSERVATIONS real-shaped visit and scan observations (the shared fixtures with
 * distinct identities, PER_PERSON observations per person) straight into the log with SQL, marked processed as a
 * log being rebuilt is (so the reset pays for rewriting every row, as it would for real), then rebuilds every
 * person, company and location from it and prints observations/s and peak RSS.
 */
async function main(): Promise<void> {
  const db = await benchDatabase();
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: db.url });
  const pool = createPool({
    connectionString: db.url,
    max: 4,
    connectTimeoutMs: 5000,
    queryTimeoutMs: 600_000,
  });
  try {
    await migrate(pool);
    const seeded = Date.now();
    await seed(db.url);
    const seedSeconds = (Date.now() - seeded) / 1000;
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
    let lastPrinted = 0;
    const summary = await rebuildFromLog(pool, {
      namespace: config.CANONICAL_ID_NAMESPACE,
      settings: {
        policy: { visitWindowMs: durationMs(config.VISIT_PRECEDENCE_WINDOW) },
        defaultPhoneCountry: config.DEFAULT_PHONE_COUNTRY,
      },
      processor: phase2FromConfig(pool, config, createLogger(config)),
      batchSize: Number(process.env.BENCH_BATCH ?? 2000),
      onProgress: (done, total) => {
        if (done - lastPrinted >= 50_000 || done === total) {
          lastPrinted = done;
          process.stderr.write(`  ${done}/${total}\n`);
        }
      },
    });
    clearInterval(sampler);
    const counts = await pool.query<{ persons: number; companies: number; locations: number }>(
      `SELECT (SELECT count(*)::int FROM persons WHERE merged_into IS NULL) AS persons,
              (SELECT count(*)::int FROM companies WHERE merged_into IS NULL) AS companies,
              (SELECT count(*)::int FROM locations) AS locations`,
    );
    const report = {
      benchmark: 'rebuild',
      machine: machine(),
      database: db.mode,
      seeded: OBSERVATIONS,
      seedSeconds,
      ...summary,
      ...counts.rows[0],
      peakRssMb: Math.round(peakRss / 1024 / 1024),
    };
    console.log(JSON.stringify(report, null, 2));
    saveReport('rebuild', report);
    console.log(
      `rebuild: ${summary.observationsPerSecond} observations/s over ${summary.observations} (target 10000/s); ` +
        `${summary.fullPath} through the full path; peak RSS ${report.peakRssMb} MB`,
    );
  } finally {
    await pool.end();
    await db.close();
  }
}

/** Distinct persons from the fixture templates, PER_PERSON observations each, a minute apart. */
async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const templates = visitBodyTemplates();
    await client.query('CREATE TEMP TABLE bench_templates (n int, body text)');
    await client.query('INSERT INTO bench_templates SELECT * FROM unnest($1::int[], $2::text[])', [
      templates.map((_, index) => index),
      templates,
    ]);
    const chunk = 100_000;
    for (let from = 1; from <= OBSERVATIONS; from += chunk) {
      const to = Math.min(OBSERVATIONS, from + chunk - 1);
      await client.query(
        `INSERT INTO observations (source, kind, event, dux_user_id, event_time, event_key, payload, status)
         SELECT 'duxsoup', p.payload->>'type', 'create', 'bench', to_timestamp((1751500000000 + g::bigint * 60000) / 1000.0),
                'bench-' || g, p.payload, 'processed'
           FROM generate_series($1::int, $2::int) AS g
           JOIN bench_templates t ON t.n = (g / $3) % $4
          CROSS JOIN LATERAL (SELECT replace(replace(t.body, '__MEMBER__', (1000000000 + g / $3)::text),
                                             '__VISIT__', (1751500000000 + g::bigint * 60000)::text)::jsonb AS payload) AS p`,
        [from, to, PER_PERSON, templates.length],
      );
      process.stderr.write(`  seeded ${to}\n`);
    }
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
