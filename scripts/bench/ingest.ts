import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { LoadResult } from './lib';
import {
  averageBodyBytes,
  benchDatabase,
  hasWrk,
  loadGet,
  loadWebhook,
  loadWebhookWithWrk,
  machine,
  ROOT,
  runConcurrently,
  startService,
  visitBodyFactory,
} from './lib';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION = Number(process.env.BENCH_DURATION ?? 20);
const SECRET = 'bench-secret';

type Ceiling = Awaited<ReturnType<typeof runConcurrently>>;

/**
 * Webhook intake under load, against database ceilings measured in the same run through node-postgres at the
 * same concurrency:
 * - Phase 1 only (PHASE2_MODE=deferred) against a plain INSERT ... ON CONFLICT DO NOTHING of the same rows;
 * - the full path (Phase 1 + identity resolution + snapshots) against a plain 3-statement transaction
 *   (observation, person, alias).
 */
async function main(): Promise<void> {
  const bodyFor = visitBodyFactory();
  const useWrk = hasWrk();
  const report: Record<string, unknown> = {
    benchmark: 'ingest',
    date: new Date().toISOString(),
    machine: machine(),
    loadGenerator: useWrk ? 'wrk' : 'autocannon',
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    averagePayloadBytes: averageBodyBytes(),
  };

  const phase1Db = await benchDatabase();
  report.database = phase1Db.mode;
  try {
    const phase1 = await loadService(phase1Db.url, 'deferred', bodyFor, useWrk);
    const insertCeiling = await ceiling(phase1Db.url, bodyFor, 'insert');
    report.phase1 = { webhook: phase1.webhook, framework: phase1.framework, ceiling: insertCeiling };
    report.phase1Ratio = ratio(phase1.webhook, insertCeiling);
  } finally {
    await phase1Db.close();
  }

  const fullDb = await benchDatabase();
  try {
    const full = await loadService(fullDb.url, 'inline', bodyFor, useWrk);
    const duplicates = await duplicatePersons(fullDb.url);
    const txCeiling = await ceiling(fullDb.url, bodyFor, 'tx3');
    report.fullPath = { webhook: full.webhook, ceiling: txCeiling, duplicatePersons: duplicates };
    report.fullPathRatio = ratio(full.webhook, txCeiling);
  } finally {
    await fullDb.close();
  }

  const phase1 = report.phase1 as { webhook: LoadResult; framework: LoadResult; ceiling: Ceiling };
  const full = report.fullPath as { webhook: LoadResult; ceiling: Ceiling; duplicatePersons: number };
  const row = (result: LoadResult & { walBytesPerRequest?: number }) => ({
    'req/s': result.requestsPerSecond,
    'p50 ms': result.p50Ms,
    'p99 ms': result.p99Ms,
    errors: result.errors + result.non2xx,
    'WAL bytes/req': result.walBytesPerRequest ?? '',
  });
  const ceilingRow = (result: Ceiling) => ({
    'req/s': result.perSecond,
    'p50 ms': result.p50Ms,
    'p99 ms': result.p99Ms,
    errors: result.errors,
  });
  console.table({
    'webhook, Phase 1 only': row(phase1.webhook),
    'ceiling: INSERT ON CONFLICT': ceilingRow(phase1.ceiling),
    'webhook, full path': row(full.webhook),
    'ceiling: 3-statement tx': ceilingRow(full.ceiling),
    'GET /health (framework + SELECT 1)': row(phase1.framework),
  });
  console.log(
    `Phase 1: ${String(report.phase1Ratio)}% of its ceiling (target 50%); full path: ${String(report.fullPathRatio)}% of its ceiling (target 35%); duplicate persons: ${full.duplicatePersons}; database: ${phase1Db.mode}`,
  );
  fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'docs', 'bench-ingest.json'), `${JSON.stringify(report, null, 2)}\n`);
}

async function loadService(
  databaseUrl: string,
  mode: 'inline' | 'deferred',
  bodyFor: (seed: number) => string,
  useWrk: boolean,
): Promise<{ webhook: LoadResult & { walBytesPerRequest: number }; framework: LoadResult }> {
  const service = await startService({
    DATABASE_URL: databaseUrl,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_RATE_LIMIT: '0',
    DATABASE_POOL_SIZE: '32',
    PHASE2_MODE: mode,
    PENDING_SWEEP_AGE_SECONDS: '86400',
  });
  try {
    const url = `${service.baseUrl}/api/webhook?secret=${SECRET}`;
    if (useWrk) loadWebhookWithWrk(url, CONNECTIONS, 3);
    else await loadWebhook(url, bodyFor, CONNECTIONS, 3, 10_000_000);
    const walBefore = await walPosition(databaseUrl);
    const loaded = useWrk
      ? loadWebhookWithWrk(url, CONNECTIONS, DURATION)
      : await loadWebhook(url, bodyFor, CONNECTIONS, DURATION, 0);
    const walBytes = (await walPosition(databaseUrl)) - walBefore;
    const webhook = { ...loaded, walBytesPerRequest: Math.round(walBytes / Math.max(1, loaded.requests)) };
    const framework = await loadGet(`${service.baseUrl}/health`, CONNECTIONS, Math.min(DURATION, 10));
    return { webhook, framework };
  } finally {
    await service.stop();
  }
}

/** The server's WAL position in bytes (server-wide: on a shared server other work adds to it). */
async function walPosition(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ bytes: string }>(
      `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS bytes`,
    );
    return Number(rows[0]!.bytes);
  } finally {
    await client.end();
  }
}

async function ceiling(
  databaseUrl: string,
  bodyFor: (seed: number) => string,
  shape: 'insert' | 'tx3',
): Promise<Ceiling> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: CONNECTIONS });
  pool.on('error', () => undefined);
  const insertObservation = `INSERT INTO observations (source, kind, event, dux_user_id, event_time, event_key, request_id, payload, status)
     VALUES ('duxsoup', 'visit', 'create', 'bench', $1, $2, $3, $4, 'pending') ON CONFLICT (event_key) DO NOTHING RETURNING id`;
  const work = async (seed: number) => {
    const body = bodyFor(40_000_000 + seed);
    const params = [
      new Date(1_751_500_000_000 + seed),
      createHash('sha256').update(body).digest('hex'),
      `bench-${seed}`,
      body,
    ];
    if (shape === 'insert') {
      await pool.query(insertObservation, params);
      return;
    }
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const inserted = await client.query<{ id: number }>(insertObservation, params);
      const personId = randomUUID();
      await client.query(
        `INSERT INTO persons (id, anchor_observation_id, snapshot) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET snapshot = EXCLUDED.snapshot`,
        [personId, inserted.rows[0]?.id ?? 0, '{"firstName":"Bench"}'],
      );
      await client.query(
        `INSERT INTO person_aliases (kind, value, person_id, display, first_observation_id) VALUES ('member_id', $1, $2, $1, 0)
         ON CONFLICT (kind, value) DO UPDATE SET person_id = EXCLUDED.person_id`,
        [`bench-${seed}`, personId],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  };
  await runConcurrently(CONNECTIONS, 3, work, 30_000_000);
  const result = await runConcurrently(CONNECTIONS, DURATION, work);
  await pool.end();
  return result;
}

/** Every request was a distinct person: more live persons than distinct member ids would be a duplicate. */
async function duplicatePersons(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ persons: number; members: number }>(
    `SELECT (SELECT count(*)::int FROM persons WHERE merged_into IS NULL) AS persons,
            (SELECT count(DISTINCT payload->'data'->>'id')::int FROM observations WHERE status = 'processed') AS members`,
  );
  await client.end();
  return rows[0]!.persons - rows[0]!.members;
}

function ratio(webhook: LoadResult, ceilingResult: Ceiling): number {
  return Math.round((webhook.requestsPerSecond / ceilingResult.perSecond) * 1000) / 10;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
