import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { QueryConfig } from 'pg';
import { ApiError } from '../api/errors';
import type { Config } from '../config';
import type { Pool } from '../db/pool';
import { isDatabaseUnavailable } from '../db/pool';
import { runEvery } from '../jobs/loop';
import type { Logger } from '../logger';
import { ChunkSink, ClaimLostError } from './chunks';
import { encoderFor } from './formats';
import type { ExportProgress } from './jobs';
import {
  claimNextExport,
  cleanupExpiredExports,
  completeExport,
  failExport,
  heartbeat,
  recordTotal,
  releaseExport,
} from './jobs';
import type { ExportPlan } from './sources';
import { planExport } from './sources';
import type { ExportClaim, ExportSettings } from './types';

const CHUNK_BYTES = 1024 * 1024;
const FETCH_ROWS = 2000;
const ENCODE_ROWS = 100;
const MAX_ATTEMPTS = 3;
/** A FETCH behind a selective, unindexed filter may scan far: the pool's timeout is sized for requests, not this. */
const EXPORT_QUERY_TIMEOUT_MS = 30 * 60_000;
/** The worker loop also deletes expired exports, at most this often per instance. */
const CLEANUP_EVERY_MS = 10 * 60_000;

export function exportSettingsFromConfig(config: Config): ExportSettings {
  return {
    ttlMs: config.EXPORT_TTL_HOURS * 3_600_000,
    maxRows: config.EXPORT_MAX_ROWS,
    staleAfterMs: config.EXPORT_HEARTBEAT_TIMEOUT_SECONDS * 1000,
    maxAttempts: MAX_ATTEMPTS,
    chunkBytes: CHUNK_BYTES,
    fetchRows: FETCH_ROWS,
    workerId: `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
  };
}

/** More rows match than EXPORT_MAX_ROWS allows: the job fails (a silently truncated file would mislead). */
export class ExportTooLargeError extends Error {
  constructor(total: number, max: number) {
    super(
      `${total} rows match the filters; exports are limited to ${max} rows (EXPORT_MAX_ROWS): narrow the filters`,
    );
  }
}

export type ExportOutcome = 'completed' | 'failed' | 'released' | 'lost';

export interface ExportRun {
  jobId: string;
  attempt: number;
  outcome: ExportOutcome;
  rows: number;
  error?: string;
}

export interface RunOptions {
  /** Aborting it (the instance is stopping) hands the job back to the queue. */
  signal?: AbortSignal;
  logger?: Logger;
}

/** Claims one job (pending, or abandoned by a dead worker) and produces it. Null when there was nothing to do. */
export async function runExportJobOnce(
  pool: Pool,
  settings: ExportSettings,
  options: RunOptions = {},
): Promise<ExportRun | null> {
  const claim = await claimNextExport(pool, settings);
  return claim ? runClaimedExport(pool, claim, settings, options) : null;
}

/** Runs jobs until none is left to claim (tests, and each tick of the worker loop). */
export async function drainExports(
  pool: Pool,
  settings: ExportSettings,
  options: RunOptions = {},
): Promise<ExportRun[]> {
  const runs: ExportRun[] = [];
  while (!options.signal?.aborted) {
    const run = await runExportJobOnce(pool, settings, options);
    if (!run) break;
    runs.push(run);
  }
  return runs;
}

/** Produces a claimed job, heart-beating while it runs; every failure ends in a recorded state, never a throw. */
export async function runClaimedExport(
  pool: Pool,
  claim: ExportClaim,
  settings: ExportSettings,
  options: RunOptions = {},
): Promise<ExportRun> {
  const { job } = claim;
  const lost = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal;
  const beat = setInterval(
    () => {
      heartbeat(pool, claim).then(
        (held) => held || lost.abort(new ClaimLostError()),
        () => undefined, // a missed beat is harmless; the next one (or the next chunk) refreshes it
      );
    },
    Math.max(Math.floor(settings.staleAfterMs / 3), 10),
  );
  const result = (outcome: ExportOutcome, rows = 0, error?: string): ExportRun => ({
    jobId: job.id,
    attempt: job.attempt,
    outcome,
    rows,
    ...(error === undefined ? {} : { error }),
  });
  try {
    const plan = planExport(job.entity, job.request);
    const progress = await produce(pool, claim, plan, settings, signal);
    const completed = await completeExport(pool, claim, progress, settings.ttlMs);
    return result(completed ? 'completed' : 'lost', progress.rowsDone);
  } catch (error) {
    if (error instanceof ClaimLostError || lost.signal.aborted) return result('lost');
    if (options.signal?.aborted || (isDatabaseUnavailable(error) && job.attempt < settings.maxAttempts)) {
      await releaseExport(pool, claim).catch(() => undefined); // else it is reclaimed once its heartbeat is stale
      return result('released');
    }
    const message = failureMessage(error);
    options.logger?.warn('export failed', { jobId: job.id, error: (error as Error).message });
    const recorded = await failExport(pool, claim, message).catch(() => false);
    return result(recorded ? 'failed' : 'lost', 0, message);
  } finally {
    clearInterval(beat);
  }
}

/**
 * Reads the rows from a cursor in one REPEATABLE READ transaction (so the count and the rows agree), FETCHing a
 * batch at a time: memory stays constant whatever the size of the export.
 */
async function produce(
  pool: Pool,
  claim: ExportClaim,
  plan: ExportPlan,
  settings: ExportSettings,
  signal: AbortSignal,
): Promise<ExportProgress> {
  const client = await pool.connect();
  let inTransaction = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    inTransaction = true;
    // JIT compilation took longer (about 1 s) than it saved on these simple expressions at every size measured.
    await client.query('SET LOCAL jit = off');
    const counted = await client.query<{ count: number }>(longQuery(plan.countSql, plan.params));
    const total = counted.rows[0]?.count ?? 0;
    if (total > settings.maxRows) throw new ExportTooLargeError(total, settings.maxRows);
    if (!(await recordTotal(pool, claim, total))) throw new ClaimLostError();
    await client.query(longQuery(`DECLARE export_rows NO SCROLL CURSOR FOR ${plan.rowsSql}`, plan.params));

    const { request } = claim.job;
    const encoder = encoderFor(claim.job.format, plan.columns, request.bom);
    const sink = new ChunkSink(pool, claim, settings.chunkBytes);
    await sink.write(encoder.start(), 0);
    const fetchBatch = () =>
      client.query<unknown[]>({
        ...longQuery(`FETCH ${settings.fetchRows} FROM export_rows`),
        rowMode: 'array',
      });
    // PostgreSQL reads the next batch while this process encodes and stores the current one.
    let next = fetchBatch();
    let rowsDone = 0;
    try {
      for (;;) {
        const batch = await next;
        if (batch.rows.length === 0) break;
        signal.throwIfAborted();
        next = fetchBatch();
        // Encoded a slice at a time: short strings die young, where a whole batch's text would be a large object
        // that only a full collection frees (hundreds of MB of them before one ran, at a million rows).
        for (let start = 0; start < batch.rows.length; start += ENCODE_ROWS) {
          const rows = batch.rows.slice(start, start + ENCODE_ROWS);
          rowsDone += rows.length;
          await sink.write(encoder.encode(rows), rowsDone);
        }
      }
    } finally {
      await next.catch(() => undefined); // never leave a FETCH in flight on a connection going back to the pool
    }
    await sink.write(encoder.end(), rowsDone);
    await client.query('COMMIT');
    inTransaction = false;
    return await sink.finish();
  } finally {
    let broken: Error | undefined; // a connection that cannot even roll back is discarded, not pooled
    if (inTransaction) await client.query('ROLLBACK').catch((error: Error) => (broken = error));
    client.release(broken);
  }
}

/** pg honours a per-query `query_timeout` that its type definitions do not declare. */
function longQuery(text: string, values: unknown[] = []): QueryConfig {
  return { text, values, query_timeout: EXPORT_QUERY_TIMEOUT_MS } as QueryConfig;
}

/** What the job's status says about a failure: the user's mistake in full, our own failures without internals. */
function failureMessage(error: unknown): string {
  if (error instanceof ExportTooLargeError || error instanceof ApiError) return error.message;
  const code = (error as { code?: unknown }).code;
  // Class 22 (data exception: an invalid regular expression, a bad cast of a filter value) is about the request.
  if (typeof code === 'string' && code.startsWith('22')) {
    return `the filters could not be applied: ${(error as Error).message}`;
  }
  return 'the export could not be produced (internal error); create it again';
}

/**
 * The background worker: every EXPORT_WORKER_INTERVAL_MS it produces the queued exports one after another and,
 * now and then, deletes expired ones. Any number of instances can run it. Returns a stop function that hands a
 * job in progress back to the queue and waits for the loop to finish.
 */
export function startExportWorker(pool: Pool, config: Config, logger: Logger): () => Promise<void> {
  const settings = exportSettingsFromConfig(config);
  const stopping = new AbortController();
  let lastCleanup = 0;
  const stopLoop = runEvery(
    'export worker',
    config.EXPORT_WORKER_INTERVAL_MS,
    async () => {
      if (Date.now() - lastCleanup >= CLEANUP_EVERY_MS) {
        lastCleanup = Date.now();
        const removed = await cleanupExpiredExports(pool);
        if (removed.jobs > 0) logger.info('expired exports deleted', { ...removed });
      }
      const runs = await drainExports(pool, settings, { signal: stopping.signal, logger });
      for (const run of runs) logger.info('export job finished', { ...run });
    },
    logger,
  );
  return async () => {
    stopping.abort();
    await stopLoop();
  };
}
