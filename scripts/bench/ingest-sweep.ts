import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { throughputLatencySvg } from './chart';
import type { SweepPoint } from './chart';
import type { LoadResult } from './lib';
import {
  averageBodyBytes,
  benchDatabase,
  hasWrk,
  loadWebhook,
  loadWebhookWithWrk,
  machine,
  ROOT,
  saveReport,
  startService,
  visitBodyFactory,
} from './lib';

/**
 * Webhook throughput and latency against connection count: the full path (Phase 1 + identity resolution +
 * snapshots, PHASE2_MODE=inline, as deployed) at each level, one service and one database for the sweep, a short
 * warm-up before each level. Writes docs/bench-ingest-sweep.json and the chart docs/bench-ingest.svg.
 *
 *   BENCH_SWEEP_CONNECTIONS=1,8,32,128  BENCH_SWEEP_DURATION=8 (s per level)  BENCH_SWEEP_WARMUP=2 (s)
 *   BENCH_SWEEP_MODE=inline|deferred    BENCH_POOL_SIZE=32
 */
const LEVELS = (process.env.BENCH_SWEEP_CONNECTIONS ?? '1,8,32,128').split(',').map(Number);
const DURATION = Number(process.env.BENCH_SWEEP_DURATION ?? 8);
const WARMUP = Number(process.env.BENCH_SWEEP_WARMUP ?? 2);
const MODE = process.env.BENCH_SWEEP_MODE === 'deferred' ? 'deferred' : 'inline';
const POOL_SIZE = process.env.BENCH_POOL_SIZE ?? '32';
const SECRET = 'bench-secret';

async function main(): Promise<void> {
  if (LEVELS.some((level) => !Number.isInteger(level) || level < 1)) {
    throw new Error('BENCH_SWEEP_CONNECTIONS must list positive integers, e.g. 1,8,32,128');
  }
  const useWrk = hasWrk();
  const bodyFor = visitBodyFactory();
  const database = await benchDatabase();
  const levels: LoadResult[] = [];
  try {
    const service = await startService({
      DATABASE_URL: database.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_RATE_LIMIT: '0',
      DATABASE_POOL_SIZE: POOL_SIZE,
      PHASE2_MODE: MODE,
      PENDING_SWEEP_AGE_SECONDS: '86400',
    });
    try {
      const url = `${service.baseUrl}/api/webhook?secret=${SECRET}`;
      let seed = 0;
      const load = async (connections: number, seconds: number) => {
        if (useWrk) return loadWebhookWithWrk(url, connections, seconds);
        const result = await loadWebhook(url, bodyFor, connections, seconds, seed);
        seed += result.requests + connections;
        return result;
      };
      for (const connections of LEVELS) {
        if (WARMUP > 0) await load(connections, WARMUP);
        const result = await load(connections, DURATION);
        levels.push(result);
        console.log(
          `${String(connections).padStart(4)} connections: ${result.requestsPerSecond} req/s, ` +
            `p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, errors ${result.errors + result.non2xx}`,
        );
      }
    } finally {
      await service.stop();
    }
  } finally {
    await database.close();
  }

  const report = {
    benchmark: 'ingest-sweep',
    date: new Date().toISOString(),
    machine: machine(),
    loadAverage: os.loadavg().map((value) => Math.round(value * 100) / 100),
    database: database.mode,
    loadGenerator: useWrk ? 'wrk' : 'autocannon',
    path: MODE === 'inline' ? 'full path (Phase 1 + Phase 2 inline)' : 'Phase 1 only (Phase 2 deferred)',
    durationSeconds: DURATION,
    warmupSeconds: WARMUP,
    databasePoolSize: Number(POOL_SIZE),
    averagePayloadBytes: averageBodyBytes(),
    levels,
  };
  saveReport('ingest-sweep', report);
  fs.writeFileSync(path.join(ROOT, 'docs', 'bench-ingest.svg'), sweepChart(report));
  console.log(JSON.stringify(report, null, 2));
}

/** The chart of a sweep report (also used by all.ts to redraw it with the database ceiling of the same run). */
export function sweepChart(
  report: { levels: LoadResult[]; path: string; durationSeconds: number; date: string; machine: object },
  reference?: { requestsPerSecond: number; label: string },
): string {
  const points: SweepPoint[] = report.levels.map((level) => ({
    connections: level.connections,
    requestsPerSecond: level.requestsPerSecond,
    p50Ms: level.p50Ms,
    p99Ms: level.p99Ms,
    errors: level.errors + level.non2xx,
  }));
  const { cpu, cores } = report.machine as { cpu?: string; cores?: number };
  return throughputLatencySvg(points, {
    title: `POST /api/webhook, ${report.path}`,
    subtitle: `${report.durationSeconds} s per level, ${report.date.slice(0, 10)}, ${cores ?? '?'} cores (${cpu ?? 'unknown CPU'})`,
    ...(reference ? { reference } : {}),
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
