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

interface Collector<T extends object> {
  name: string;
  sql: string;
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

/** Gauges read from the database at scrape time: observations, the dead-letter backlog, the scheduler leader. */
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
    help: 'Observations stored, by event kind and status (pending, processed, skipped, dead, ignored)',
    labelNames: ['kind', 'status'] as const,
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
      sql: 'SELECT kind, status, count(*)::float8 AS n FROM observations GROUP BY kind, status',
      reset: () => observations.reset(),
      apply: (rows) => {
        for (const row of rows) observations.set({ kind: row.kind, status: row.status }, row.n);
      },
    }),
    collector<{ pending: number; due: number; failed: number }>({
      name: 'dead_letters',
      sql: `SELECT count(*) FILTER (WHERE status = 'pending')::float8 AS pending,
                   count(*) FILTER (WHERE status = 'pending' AND next_attempt_at <= now())::float8 AS due,
                   count(*) FILTER (WHERE status = 'failed')::float8 AS failed
              FROM dead_letters WHERE status <> 'resolved'`,
      reset: () => deadLetters.reset(),
      apply: ([row]) => {
        for (const state of ['pending', 'due', 'failed'] as const)
          deadLetters.set({ state }, row?.[state] ?? 0);
      },
    }),
    collector<{ instance_id: string; age: number }>({
      name: 'scheduler_leader',
      sql: 'SELECT instance_id, extract(epoch FROM now() - heartbeat_at)::float8 AS age FROM scheduler_leader',
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
            figure.apply(await boundedQuery(pool, figure.sql));
          } catch {
            collectErrors.inc({ collector: figure.name });
          }
        }),
      );
    },
  };
}
