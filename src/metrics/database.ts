import os from 'node:os';
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import type { Pool } from '../db';

/** Each database figure is one query, cut off after this long so a scrape never loads the database. */
export const COLLECT_TIMEOUT_MS = 2000;

/** Instance ids are `hostname:pid:random` (newInstanceId in src/jobs/leader.ts). */
export function isThisProcess(instanceId: string): boolean {
  return instanceId.startsWith(`${os.hostname()}:${process.pid}:`);
}

async function boundedQuery<T extends object>(pool: Pool, sql: string): Promise<T[]> {
  const client = await pool.connect();
  let reusable = true;
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${COLLECT_TIMEOUT_MS}`);
    const { rows } = await client.query<T>(sql);
    await client.query('COMMIT');
    return rows;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      reusable = false;
    });
    throw error;
  } finally {
    client.release(!reusable);
  }
}

/**
 * The query behind each database figure: each reads a partial index, the catalogue or a one-row table, so what a
 * scrape costs follows the backlog, never the number of observations stored.
 */
export const FIGURE_QUERIES = {
  // Only the unfinished statuses: their partial index keeps this proportional to the backlog, not the table.
  observations: `SELECT kind, status, count(*)::float8 AS n
                   FROM observation_state WHERE status IN ('pending', 'dead')
                  GROUP BY kind, status`,
  // Observations are never deleted, so the higher of the two is the fresher: the live-row count follows every
  // insert but restarts from zero after a crash or pg_stat_reset(), reltuples survives both but lags.
  observations_estimated: `SELECT greatest(reltuples::float8, pg_stat_get_live_tuples(oid)::float8) AS estimate
                             FROM pg_class WHERE oid = to_regclass('observation_log')`,
  // One count per partial index (resolved letters accumulate and are never read here).
  dead_letters: `SELECT (SELECT count(*) FROM dead_letters WHERE status = 'pending')::float8 AS pending,
                        (SELECT count(*) FROM dead_letters
                          WHERE status = 'pending' AND next_attempt_at <= now())::float8 AS due,
                        (SELECT count(*) FROM dead_letters WHERE status = 'failed')::float8 AS failed`,
  scheduler_leader:
    'SELECT instance_id, extract(epoch FROM now() - heartbeat_at)::float8 AS age FROM scheduler_leader',
} as const;

interface Collector<T extends object> {
  name: keyof typeof FIGURE_QUERIES;
  /** Clears the collector's gauges (before every read: a failed read leaves them empty, never stale). */
  reset(): void;
  apply(rows: T[]): void;
}

function collector<T extends object>(spec: Collector<T>): Collector<object> {
  return spec;
}

export interface DatabaseFigures {
  /** Reads every figure (in parallel, each time-bounded); without a database they are all left empty. */
  refresh(pool: Pool | null): Promise<void>;
}

/** Gauges read from the database at scrape time: the observation backlog and total, dead letters, the leader. */
export function databaseFigures(registry: Registry): DatabaseFigures {
  const registers = [registry];
  const collectErrors = new Counter({
    name: 'duxsoup_metrics_collect_errors_total',
    help: 'Database figures that could not be read at scrape time (timeout, outage); they are left out',
    labelNames: ['collector'] as const,
    registers,
  });
  const observations = new Gauge({
    name: 'duxsoup_observations',
    help:
      'Observations waiting for Phase 2 (status pending) or failed in it (status dead), by event kind: exact, ' +
      'counted on the partial index of unfinished observations. All statuses together: duxsoup_observations_estimated',
    labelNames: ['kind', 'status'] as const,
    registers,
  });
  const observationsEstimated = new Gauge({
    name: 'duxsoup_observations_estimated',
    help:
      'Observations stored, every kind and status: an ESTIMATE, the higher of pg_class.reltuples (as of the last ' +
      "(auto)VACUUM / ANALYZE) and the statistics system's live-row count (follows inserts within seconds)",
    registers,
  });
  const deadLetters = new Gauge({
    name: 'duxsoup_dead_letters',
    help: 'Dead-letter backlog: pending (waiting for replay), due (pending and due now), failed (given up)',
    labelNames: ['state'] as const,
    registers,
  });
  const leader = new Gauge({
    name: 'duxsoup_scheduler_leader',
    help: '1 when this process leads the scheduler, else 0',
    registers,
  });
  const leaderInfo = new Gauge({
    name: 'duxsoup_scheduler_leader_info',
    help: 'The instance leading the scheduler (value 1), as it records itself in scheduler_leader',
    labelNames: ['instance_id'] as const,
    registers,
  });
  const leaderHeartbeatAge = new Gauge({
    name: 'duxsoup_scheduler_leader_heartbeat_age_seconds',
    help: 'Seconds since the leader last heartbeated (far above LEADER_CHECK_SECONDS: it died)',
    registers,
  });

  const collectors = [
    collector<{ kind: string; status: string; n: number }>({
      name: 'observations',
      reset: () => observations.reset(),
      apply: (rows) => {
        for (const row of rows) observations.set({ kind: row.kind, status: row.status }, row.n);
      },
    }),
    collector<{ estimate: number }>({
      name: 'observations_estimated',
      reset: () => observationsEstimated.reset(),
      apply: ([row]) => {
        if (row) observationsEstimated.set(row.estimate);
      },
    }),
    collector<{ pending: number; due: number; failed: number }>({
      name: 'dead_letters',
      reset: () => deadLetters.reset(),
      apply: ([row]) => {
        for (const state of ['pending', 'due', 'failed'] as const)
          deadLetters.set({ state }, row?.[state] ?? 0);
      },
    }),
    collector<{ instance_id: string; age: number }>({
      name: 'scheduler_leader',
      reset: () => {
        leader.reset();
        leaderInfo.reset();
        leaderHeartbeatAge.reset();
      },
      apply: ([row]) => {
        leader.set(row && isThisProcess(row.instance_id) ? 1 : 0);
        if (!row) return;
        leaderInfo.set({ instance_id: row.instance_id }, 1);
        leaderHeartbeatAge.set(row.age);
      },
    }),
  ];

  return {
    async refresh(pool) {
      await Promise.all(
        collectors.map(async (figure) => {
          figure.reset();
          if (!pool) return;
          try {
            figure.apply(await boundedQuery(pool, FIGURE_QUERIES[figure.name]));
          } catch {
            collectErrors.inc({ collector: figure.name });
          }
        }),
      );
    },
  };
}
