import os from 'node:os';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DatabaseState, Pool } from '../db';

/** Each database figure is one query, cut off after this long so a slow scrape never loads the database. */
export const COLLECT_TIMEOUT_MS = 2000;

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The process's own figures (CPU, memory, event loop, GC): one registry per process, shared by every app. */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Phase 2's path counters (Phase2Processor.paths). */
export interface PathCounts {
  fast: number;
  full: number;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status_class'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_class'>;
  readonly phase2Duration: Histogram<'status'>;
  /** Where the processor in use keeps its path counters (read at scrape time). */
  phase2Paths: () => PathCounts | null;
  /** The exposition text: this app's metrics and the process's. */
  scrape(): Promise<string>;
  readonly contentType: string;
}

/**
 * One registry per app (never prom-client's global one), so several apps in one process never collide.
 * Database gauges are read at scrape time, each by one time-bounded query; a query that fails or times out
 * leaves its gauge empty and counts `duxsoup_metrics_collect_errors_total`.
 */
export function createMetrics(database: DatabaseState): ServiceMetrics {
  const registry = new Registry();
  const collectErrors = new Counter({
    name: 'duxsoup_metrics_collect_errors_total',
    help: 'Database figures that could not be read at scrape time (timeout, outage)',
    labelNames: ['collector'],
    registers: [registry],
  });

  /** Runs the collector's query under a statement timeout; null when the database is not there or fails. */
  const read = async <T extends object>(collector: string, sql: string): Promise<T[] | null> => {
    const pool = database.ready ? database.pool : null;
    if (!pool) return null;
    try {
      return await boundedQuery<T>(pool, sql);
    } catch {
      collectErrors.inc({ collector });
      return null;
    }
  };

  const httpRequests = new Counter({
    name: 'duxsoup_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern (or "unmatched") and status class',
    labelNames: ['method', 'route', 'status_class'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'duxsoup_http_request_duration_seconds',
    help: 'HTTP request latency, from arrival to the last byte sent',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const phase2Duration = new Histogram({
    name: 'duxsoup_phase2_duration_seconds',
    help: 'Phase 2 (identity resolution and snapshots) of one observation on the request path, by outcome',
    labelNames: ['status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  const metrics: ServiceMetrics = {
    registry,
    httpRequests,
    httpDuration,
    phase2Duration,
    phase2Paths: () => null,
    contentType: registry.contentType,
    scrape: async () => `${await processMetrics().metrics()}\n${await registry.metrics()}`,
  };

  // Counts the paths the processor has taken since the last scrape (the processor's counters only grow; a new
  // processor starts again from zero).
  const seen = new WeakMap<PathCounts, PathCounts>();
  new Counter({
    name: 'duxsoup_phase2_paths_total',
    help: 'Observations Phase 2 finished, by path: fast (one read, one apply) or full (merges, conflicts, ...)',
    labelNames: ['path'] as const,
    registers: [registry],
    collect() {
      const paths = metrics.phase2Paths();
      if (!paths) return;
      const last = seen.get(paths) ?? { fast: 0, full: 0 };
      for (const path of ['fast', 'full'] as const) {
        this.inc({ path }, Math.max(0, paths[path] - last[path]));
      }
      seen.set(paths, { ...paths });
    },
  });

  new Gauge({
    name: 'duxsoup_observations',
    help: 'Observations stored, by event kind and status (pending, processed, skipped, dead, ignored)',
    labelNames: ['kind', 'status'] as const,
    registers: [registry],
    async collect() {
      const rows = await read<{ kind: string; status: string; n: number }>(
        'observations',
        'SELECT kind, status, count(*)::float8 AS n FROM observations GROUP BY kind, status',
      );
      this.reset();
      for (const row of rows ?? []) this.set({ kind: row.kind, status: row.status }, row.n);
    },
  });

  new Gauge({
    name: 'duxsoup_dead_letters',
    help: 'Dead-letter backlog: pending (waiting for replay), due (pending and due now), failed (given up)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const rows = await read<{ pending: number; due: number; failed: number }>(
        'dead_letters',
        `SELECT count(*) FILTER (WHERE status = 'pending')::float8 AS pending,
                count(*) FILTER (WHERE status = 'pending' AND next_attempt_at <= now())::float8 AS due,
                count(*) FILTER (WHERE status = 'failed')::float8 AS failed
           FROM dead_letters WHERE status <> 'resolved'`,
      );
      this.reset();
      const row = rows?.[0];
      if (!row) return;
      for (const state of ['pending', 'due', 'failed'] as const) this.set({ state }, row[state]);
    },
  });

  const leaderInfo = new Gauge({
    name: 'duxsoup_scheduler_leader_info',
    help: 'The instance that leads the scheduler (1), as it records itself in scheduler_leader',
    labelNames: ['instance_id'] as const,
    registers: [registry],
  });
  const leaderHeartbeatAge = new Gauge({
    name: 'duxsoup_scheduler_leader_heartbeat_age_seconds',
    help: 'Seconds since the leader last heartbeated (much more than LEADER_CHECK_SECONDS: it died)',
    registers: [registry],
  });
  new Gauge({
    name: 'duxsoup_scheduler_leader',
    help: '1 when this process leads the scheduler, else 0',
    registers: [registry],
    async collect() {
      const rows = await read<{ instance_id: string; age: number }>(
        'scheduler_leader',
        'SELECT instance_id, extract(epoch FROM now() - heartbeat_at)::float8 AS age FROM scheduler_leader',
      );
      leaderInfo.reset();
      leaderHeartbeatAge.reset();
      this.reset();
      if (rows === null) return;
      const leader = rows[0];
      this.set(leader && isThisProcess(leader.instance_id) ? 1 : 0);
      if (!leader) return;
      leaderInfo.set({ instance_id: leader.instance_id }, 1);
      leaderHeartbeatAge.set(leader.age);
    },
  });

  return metrics;
}

/** Instance ids are `hostname:pid:random` (src/jobs/leader.ts newInstanceId). */
export function isThisProcess(instanceId: string): boolean {
  return instanceId.startsWith(`${os.hostname()}:${process.pid}:`);
}

async function boundedQuery<T extends object>(pool: Pool, sql: string): Promise<T[]> {
  const client = await pool.connect();
  let healthy = true;
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${COLLECT_TIMEOUT_MS}`);
    const { rows } = await client.query<T>(sql);
    await client.query('COMMIT');
    return rows;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      healthy = false;
    });
    throw error;
  } finally {
    client.release(!healthy);
  }
}
