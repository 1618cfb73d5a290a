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
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
/**
 * Seconds of load before each measured one, the same for the service and the ceilings. The service's hot path is
 * far more code than a ceiling's loop: after 3 s, V8's optimising compiler still took 18 % of the service's CPU in
 * the next 8 s (perf, full path), and 3.6 % after 20 s. A deployed service runs for days; what is measured is that.
 */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
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
    warmupSeconds: WARMUP,
    rounds: ROUNDS,
    averagePayloadBytes: averageBodyBytes(),
  };

  const phase1Db = await benchDatabase();
  report.database = phase1Db.mode;
  try {
    const phase1 = await pairedRounds(phase1Db.url, 'deferred', 'insert', bodyFor, useWrk);
    report.phase1 = {
      webhook: phase1.webhook,
      framework: phase1.framework,
      ceiling: phase1.ceiling,
      rounds: phase1.rounds,
    };
    report.phase1Ratio = phase1.ratio;
  } finally {
    await phase1Db.close();
  }

  const fullDb = await benchDatabase();
  try {
    const full = await pairedRounds(fullDb.url, 'inline', 'tx3', bodyFor, useWrk);
    const duplicates = await duplicatePersons(fullDb.url);
    report.fullPath = {
      webhook: full.webhook,
      ceiling: full.ceiling,
      rounds: full.rounds,
      duplicatePersons: duplicates,
    };
    report.fullPathRatio = full.ratio;
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

interface Round {
  webhook: LoadResult & { walBytesPerRequest: number };
  ceiling: Ceiling;
  ratio: number;
}

/**
 * The service and its database ceiling, measured in ROUNDS back-to-back pairs on one warm service. This machine's
 * speed drifts by up to half within minutes; a pair is measured seconds apart, so the drift mostly cancels in its
 * ratio. The reported ratio is the median pair's, and every pair is reported. Each measurement starts on a
 * vacuumed database (see settle).
 */
async function pairedRounds(
  databaseUrl: string,
  mode: 'inline' | 'deferred',
  shape: CeilingShape,
  bodyFor: (seed: number) => string,
  useWrk: boolean,
): Promise<{
  webhook: Round['webhook'];
  ceiling: Ceiling;
  ratio: number;
  rounds: { webhookPerSecond: number; ceilingPerSecond: number; ratio: number }[];
  framework: LoadResult;
}> {
  const service = await startService({
    DATABASE_URL: databaseUrl,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_RATE_LIMIT: '0',
    DATABASE_POOL_SIZE: '32',
    PHASE2_MODE: mode,
    PENDING_SWEEP_AGE_SECONDS: '86400',
  });
  const ceiling = ceilingLoad(databaseUrl, bodyFor, shape);
  try {
    const url = `${service.baseUrl}/api/webhook?secret=${SECRET}`;
    // Each autocannon load starts at seeds of its own, so no round resends a body an earlier one sent (wrk runs carry
    // their own prefix).
    let seeds = 0;
    const loadService = async (seconds: number) =>
      useWrk
        ? loadWebhookWithWrk(url, CONNECTIONS, seconds)
        : await loadWebhook(url, bodyFor, CONNECTIONS, seconds, (seeds += 10_000_000));
    // The service is frozen (SIGSTOP) while its ceiling runs: its background loops must not take the ceiling's CPU.
    const ceilingAlone = async (seconds: number) => {
      await settle(databaseUrl);
      service.child.kill('SIGSTOP');
      try {
        return await ceiling.run(seconds);
      } finally {
        service.child.kill('SIGCONT');
      }
    };
    await loadService(WARMUP);
    await ceilingAlone(WARMUP);
    const rounds: Round[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      await settle(databaseUrl);
      const walBefore = await walPosition(databaseUrl);
      const loaded = await loadService(DURATION);
      const walBytes = (await walPosition(databaseUrl)) - walBefore;
      const webhook = { ...loaded, walBytesPerRequest: Math.round(walBytes / Math.max(1, loaded.requests)) };
      const measured = await ceilingAlone(DURATION);
      const paired = { webhook, ceiling: measured, ratio: ratio(webhook, measured) };
      rounds.push(paired);
      process.stderr.write(
        `  ${mode} round ${round + 1}/${ROUNDS}: ${webhook.requestsPerSecond} vs ${measured.perSecond} req/s (${paired.ratio}%)\n`,
      );
    }
    const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor((rounds.length - 1) / 2)]!;
    const framework = await loadGet(`${service.baseUrl}/health`, CONNECTIONS, Math.min(DURATION, 10));
    return {
      webhook: median.webhook,
      ceiling: median.ceiling,
      ratio: median.ratio,
      rounds: rounds.map((round) => ({
        webhookPerSecond: round.webhook.requestsPerSecond,
        ceilingPerSecond: round.ceiling.perSecond,
        ratio: round.ratio,
      })),
      framework,
    };
  } finally {
    await ceiling.close();
    await service.stop();
  }
}

/**
 * Vacuums the bench database between measurements, untimed, so that neither pays for the other's maintenance:
 * autovacuum of the rows one wrote (and, after the full path, merging the GIN indexes' pending lists of the persons
 * it created) would otherwise run during the next one.
 */
async function settle(databaseUrl: string): Promise<void> {
  await queryOnce(databaseUrl, 'VACUUM');
}

/** The server's WAL position in bytes (server-wide: on a shared server other work adds to it). */
async function walPosition(databaseUrl: string): Promise<number> {
  const rows = await queryOnce<{ bytes: string }>(
    databaseUrl,
    `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS bytes`,
  );
  return Number(rows[0]!.bytes);
}

/** One statement on a connection of its own, outside the measured pools. */
async function queryOnce<Row extends pg.QueryResultRow = pg.QueryResultRow>(
  databaseUrl: string,
  sql: string,
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}

type CeilingShape = 'insert' | 'tx3';

/** What the database does at the same concurrency through node-postgres alone, with nothing of the service. */
function ceilingLoad(
  databaseUrl: string,
  bodyFor: (seed: number) => string,
  shape: CeilingShape,
): { run: (seconds: number) => Promise<Ceiling>; close: () => Promise<void> } {
  // Connections are kept between rounds, as the frozen service keeps its own: closing them while the service ran
  // made every ceiling round open 32 new connections to cold backends, 25-30 % of its throughput.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: CONNECTIONS, idleTimeoutMillis: 0 });
  pool.on('error', () => undefined);
  const insertObservation = `WITH logged AS (
       INSERT INTO observation_log (source, kind, event, dux_user_id, event_time, event_key, request_id, payload)
       VALUES ('duxsoup', 'visit', 'create', 'bench', $1, $2, $3, $4) ON CONFLICT (event_key) DO NOTHING RETURNING id, kind)
     INSERT INTO observation_state (id, kind, status) SELECT id, kind, 'pending' FROM logged RETURNING id`;
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
  let seeds = 30_000_000;
  return {
    run: async (seconds) => {
      const result = await runConcurrently(CONNECTIONS, seconds, work, seeds);
      seeds += 1_000_000;
      return result;
    },
    close: () => pool.end(),
  };
}

/**
 * Every request was a distinct person: more live persons than distinct member ids would be a duplicate. The
 * ceiling's own persons (member ids 'bench-N') are not the service's and are left out.
 */
async function duplicatePersons(databaseUrl: string): Promise<number> {
  const rows = await queryOnce<{ persons: number; members: number }>(
    databaseUrl,
    `SELECT (SELECT count(*)::int FROM persons p
              WHERE merged_into IS NULL
                AND NOT EXISTS (SELECT 1 FROM person_aliases a
                                 WHERE a.person_id = p.id AND a.kind = 'member_id' AND a.value LIKE 'bench-%')) AS persons,
            (SELECT count(DISTINCT payload->'data'->>'id')::int FROM observations WHERE status = 'processed') AS members`,
  );
  return rows[0]!.persons - rows[0]!.members;
}

function ratio(webhook: LoadResult, ceilingResult: Ceiling): number {
  return Math.round((webhook.requestsPerSecond / ceilingResult.perSecond) * 1000) / 10;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
