import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import {
  averageBodyBytes,
  loadGet,
  benchDatabase,
  hasWrk,
  loadWebhookWithWrk,
  loadWebhook,
  machine,
  ROOT,
  runConcurrently,
  startService,
  visitBodyFactory,
} from './lib';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION = Number(process.env.BENCH_DURATION ?? 20);

/**
 * Webhook intake under load against the database ceiling measured in the same run: the same rows written
 * with a plain INSERT ... ON CONFLICT DO NOTHING through node-postgres at the same concurrency.
 */
async function main(): Promise<void> {
  const db = await benchDatabase();
  const bodyFor = visitBodyFactory();
  try {
    const secret = 'bench-secret';
    const service = await startService({
      DATABASE_URL: db.url,
      WEBHOOK_SECRET: secret,
      WEBHOOK_RATE_LIMIT: '0',
      DATABASE_POOL_SIZE: '32',
    });
    const url = `${service.baseUrl}/api/webhook?secret=${secret}`;
    const useWrk = hasWrk();
    if (useWrk) loadWebhookWithWrk(url, CONNECTIONS, 3);
    else await loadWebhook(url, bodyFor, CONNECTIONS, 3, 10_000_000); // warm-up
    const webhook = useWrk
      ? loadWebhookWithWrk(url, CONNECTIONS, DURATION)
      : await loadWebhook(url, bodyFor, CONNECTIONS, DURATION, 0);
    const framework = await loadGet(`${service.baseUrl}/health`, CONNECTIONS, Math.min(DURATION, 10));
    await service.stop();

    const pool = new pg.Pool({ connectionString: db.url, max: CONNECTIONS });
    pool.on('error', () => undefined);
    const userid = (JSON.parse(bodyFor(0)) as { userid: string }).userid;
    const insert = (seed: number) => {
      const body = bodyFor(20_000_000 + seed);
      return pool
        .query(
          `INSERT INTO observations (source, kind, event, dux_user_id, event_time, event_key, request_id, payload, status)
           VALUES ('duxsoup', 'visit', 'create', $1, $2, $3, $4, $5, 'pending') ON CONFLICT (event_key) DO NOTHING`,
          [
            userid,
            new Date(1_751_500_000_000 + seed),
            createHash('sha256').update(body).digest('hex'),
            `bench-${seed}`,
            body,
          ],
        )
        .then(() => undefined);
    };
    await runConcurrently(CONNECTIONS, 3, insert, 30_000_000); // warm-up
    const ceiling = await runConcurrently(CONNECTIONS, DURATION, insert);
    await pool.end();

    const ratio = Math.round((webhook.requestsPerSecond / ceiling.perSecond) * 1000) / 10;
    const report = {
      benchmark: 'ingest',
      date: new Date().toISOString(),
      machine: machine(),
      database: db.mode,
      loadGenerator: useWrk ? 'wrk' : 'autocannon',
      averagePayloadBytes: averageBodyBytes(),
      webhook,
      frameworkReference: { route: 'GET /health', ...framework },
      databaseCeiling: { ...ceiling, statement: 'INSERT ... ON CONFLICT (event_key) DO NOTHING' },
      ratioPercent: ratio,
      target: 'webhook >= 50% of the database ceiling, zero errors',
      met: ratio >= 50 && webhook.errors === 0 && webhook.non2xx === 0,
    };
    console.table({
      'POST /api/webhook': {
        'req/s': webhook.requestsPerSecond,
        'p50 ms': webhook.p50Ms,
        'p99 ms': webhook.p99Ms,
        errors: webhook.errors + webhook.non2xx,
      },
      'GET /health (framework + SELECT 1)': {
        'req/s': framework.requestsPerSecond,
        'p50 ms': framework.p50Ms,
        'p99 ms': framework.p99Ms,
        errors: framework.errors + framework.non2xx,
      },
      'database ceiling': {
        'req/s': ceiling.perSecond,
        'p50 ms': ceiling.p50Ms,
        'p99 ms': ceiling.p99Ms,
        errors: ceiling.errors,
      },
    });
    console.log('webhook status codes', webhook.statusCodes);
    console.log(
      `webhook / ceiling = ${ratio}% (${report.met ? 'target met' : 'target NOT met'}); database: ${db.mode}`,
    );
    fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'docs', 'bench-ingest.json'), `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
