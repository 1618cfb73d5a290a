import { HubspotStandIn, testClientOptions } from '../../__tests__/helpers/hubspot-standin';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { phase2FromConfig } from '../../src/ingest/phase2';
import { deferredProcessor } from '../../src/ingest/processor';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import type { RunnerDeps, RunRecord } from '../../src/sources/hubspot';
import { HubspotClient, runToEnd } from '../../src/sources/hubspot';
import { benchDatabase, machine } from './lib';

const CONTACTS = Number(process.env.BENCH_HUBSPOT_CONTACTS ?? 25_000);
const EDITED = Number(process.env.BENCH_HUBSPOT_EDITED ?? Math.round(CONTACTS * 0.48));
const COMPANIES = Number(process.env.BENCH_HUBSPOT_COMPANIES ?? Math.max(1, Math.round(CONTACTS / 25)));
const CONCURRENCY = Number(process.env.BENCH_HUBSPOT_PHASE2_CONCURRENCY ?? 8);
const PAGE_SIZE = Number(process.env.BENCH_HUBSPOT_PAGE_SIZE ?? 100);

/**
 * Contact sync throughput against the local HubSpot stand-in (no rate limits, no search pacing) into a fresh
 * database: records/s of the first sync (the list endpoint, N contacts, default 25 000) and of an incremental
 * run (search, EDITED contacts changed, default 48 %, so more than 10 000 at the default N), each with Phase 2
 * deferred (the mirror and its observations only) and inline (every contact also resolved to a person).
 * BENCH_HUBSPOT_PHASE2=deferred|inline runs one of the two; BENCH_HUBSPOT_COMPANIES (default N / 25) spreads the
 * contacts over that many company names; BENCH_HUBSPOT_PHASE2_CONCURRENCY (default 8, as the service).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx scripts/bench/hubspot-sync.ts
 */
async function main(): Promise<void> {
  const report: Record<string, unknown> = {
    benchmark: 'hubspot-sync',
    date: new Date().toISOString(),
    machine: machine(),
    contacts: CONTACTS,
    edited: EDITED,
    pageSize: PAGE_SIZE,
  };
  const wanted = process.env.BENCH_HUBSPOT_PHASE2 ?? 'both';
  for (const phase2 of ['deferred', 'inline'] as const) {
    if (wanted !== 'both' && wanted !== phase2) continue;
    report[`phase2_${phase2}`] = await scenario(phase2);
  }
  console.log(JSON.stringify(report, null, 2));
}

async function scenario(phase2: 'deferred' | 'inline'): Promise<Record<string, unknown>> {
  const database = await benchDatabase();
  const pool = createPool({
    connectionString: database.url,
    max: 10,
    connectTimeoutMs: 5000,
    queryTimeoutMs: 600_000,
    applicationName: 'bench-hubspot',
  });
  const standIn = await new HubspotStandIn({
    seed: 1,
    limits: { tenSecondly: null, searchSecondly: null },
  }).listen();
  try {
    await migrate(pool);
    const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent' });
    const logger = createLogger(config);
    const processor = phase2 === 'inline' ? phase2FromConfig(pool, config, logger) : null;
    const deps: RunnerDeps = {
      pool,
      client: new HubspotClient(testClientOptions(standIn)),
      processor: processor ?? deferredProcessor,
      settings: {
        pageSize: PAGE_SIZE,
        batchSize: 1000,
        lookbackMinutes: 5,
        searchCap: 10_000,
        phase2Concurrency: CONCURRENCY,
      },
      logger,
    };
    const generated = performance.now();
    standIn.generate({ contacts: CONTACTS, companies: COMPANIES });
    const generateMs = performance.now() - generated;

    const first = await timed(() => runToEnd(deps, 'contacts', { trigger: 'cli' }));
    const contacts = standIn.all('contacts');
    for (let i = 0; i < EDITED; i += 1) {
      standIn.update('contacts', contacts[(i * 2) % contacts.length]!.id, { jobtitle: `Edited ${i}` });
    }
    const incremental = await timed(() => runToEnd(deps, 'contacts', { trigger: 'cli' }));
    return {
      ...(processor ? { phase2Paths: processor.paths } : {}),
      standInGenerateMs: Math.round(generateMs),
      firstSync: figures(first.run, first.ms),
      incremental: figures(incremental.run, incremental.ms),
    };
  } finally {
    await standIn.close();
    await pool.end();
    await database.close();
  }
}

async function timed(work: () => Promise<RunRecord>): Promise<{ run: RunRecord; ms: number }> {
  const started = performance.now();
  const run = await work();
  if (run.outcome !== 'success') throw new Error(`run ${run.job} ended ${run.outcome}: ${run.error ?? ''}`);
  return { run, ms: performance.now() - started };
}

function figures(run: RunRecord, ms: number): Record<string, unknown> {
  const records = run.counts.records ?? 0;
  return {
    seconds: Math.round(ms) / 1000,
    records,
    pages: run.counts.pages,
    windows: run.counts.windows ?? 0,
    recordsPerSecond: Math.round(records / (ms / 1000)),
    peopleLinked: run.counts.people_linked ?? 0,
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
