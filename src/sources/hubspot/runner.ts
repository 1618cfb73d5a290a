/**
 * Runs of HubSpot jobs, whoever starts them (CLI, HTTP trigger, scheduler). A run holds its job's session
 * advisory lock on a connection of its own for its whole life, so two runs of one job never overlap, on any
 * instance; a second start while one runs is refused with RunInProgressError. Every run is a row of
 * `hubspot_sync_runs` (outcome `running`, then `success`, `partial` (some records failed), `failed`, or
 * `interrupted`: the caller's signal told it to stop (shutdown, Ctrl-C), and it stopped after its last saved page,
 * which its checkpoint names).
 */
import type { Pool, PoolClient } from '../../db/pool';
import type { ObservationProcessor } from '../../ingest/processor';
import type { Logger } from '../../logger';
import { ASSOCIATIONS_JOB, syncContactAssociations } from './associations';
import type { HubspotClient } from './client';
import { runPush } from './push';
import type { SyncSettings } from './settings';
import type { Counts, PageProgress, SyncContext } from './sync';
import { syncArchived, syncUpdated } from './sync';

/** The sync jobs in the order `all` runs them (the original ETL's order). */
export const SYNC_JOBS = [
  'companies',
  'companies:deleted',
  'contacts',
  'contacts:deleted',
  'deals',
  'deals:deleted',
  'associations:contacts',
] as const;

export type SyncJobName = (typeof SYNC_JOBS)[number];
export type JobName = SyncJobName | 'push';
export type Trigger = 'cli' | 'http' | 'schedule';
export type RunOutcome = 'running' | 'success' | 'partial' | 'failed' | 'interrupted';

export const JOB_NAMES: readonly JobName[] = [...SYNC_JOBS, 'push'];

/** First key of the two-key advisory lock of a job's runs (the second is hashtext('hubspot:' || job)). */
export const HUBSPOT_LOCK_NAMESPACE = 72_410_006;

export interface RunnerDeps {
  pool: Pool;
  client: HubspotClient;
  processor: ObservationProcessor;
  settings: SyncSettings;
  logger: Logger;
  /** Called after every saved page or batch. */
  onProgress?: (event: PageProgress) => void;
}

export interface RunOptions {
  trigger: Trigger;
  /** push only: send the changes (default: a dry run that only reports them). */
  execute?: boolean;
  /** Stops the run at its next page boundary; the run ends `interrupted`. */
  signal?: AbortSignal;
}

export interface RunRecord {
  id: number;
  job: string;
  trigger: Trigger;
  options: Record<string, unknown>;
  startedAt: string;
  finishedAt: string | null;
  outcome: RunOutcome;
  counts: Counts;
  error: string | null;
  result: unknown;
}

export interface StartedRun {
  runId: number;
  /** Settles when the run has ended and its row says how; never rejects. */
  finished: Promise<RunRecord>;
}

export class RunInProgressError extends Error {
  constructor(
    readonly job: JobName,
    readonly runId: number | null,
  ) {
    super(`a ${job} run is already in progress${runId === null ? '' : ` (run ${runId})`}`);
  }
}

export function isJobName(value: string): value is JobName {
  return (JOB_NAMES as readonly string[]).includes(value);
}

/**
 * Takes the job's lock and records the run; the work then goes on in the background (`finished`). Throws
 * RunInProgressError when another run of the job holds the lock.
 */
export async function startRun(deps: RunnerDeps, job: JobName, options: RunOptions): Promise<StartedRun> {
  const lock = await deps.pool.connect();
  const lockLost = new AbortController();
  const onError = (error: Error) => lockLost.abort(new Error(`run lock connection lost: ${error.message}`));
  lock.on('error', onError);
  const release = () => {
    lock.off('error', onError);
    lock.release(lockLost.signal.aborted);
  };
  let runId: number;
  try {
    const { rows } = await lock.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
      [HUBSPOT_LOCK_NAMESPACE, `hubspot:${job}`],
    );
    if (!rows[0]?.locked) throw new RunInProgressError(job, await runningRunId(lock, job));
    runId = await recordStart(lock, job, options);
  } catch (error) {
    if (!(error instanceof RunInProgressError)) await unlock(lock, job);
    release();
    throw error;
  }
  const signal = options.signal ? AbortSignal.any([options.signal, lockLost.signal]) : lockLost.signal;
  const counts: Counts = {};
  const finished = (async (): Promise<RunRecord> => {
    let outcome: RunOutcome = 'success';
    let error: string | null = null;
    let result: unknown = null;
    try {
      const context: SyncContext = {
        pool: deps.pool,
        client: deps.client,
        processor: deps.processor,
        settings: deps.settings,
        logger: deps.logger.child({ hubspotJob: job, runId }),
        signal,
        runId,
        counts,
        progress: (event) => deps.onProgress?.(event),
      };
      result = await runJob(context, job, options);
      if ((counts.failed ?? 0) > 0 || (counts.errors ?? 0) > 0) outcome = 'partial';
    } catch (failure) {
      // Told to stop by its caller (not a lost lock): whatever was saved stands and the checkpoint says where.
      const stopped = options.signal?.aborted === true && !lockLost.signal.aborted;
      outcome = stopped ? 'interrupted' : 'failed';
      error = signal.aborted
        ? `${stopped ? 'interrupted' : 'aborted'}: ${reasonOf(signal)}`
        : (failure as Error).message;
      deps.logger.warn(stopped ? 'hubspot run interrupted' : 'hubspot run failed', { job, runId, error });
    }
    try {
      return await recordFinish(deps.pool, runId, outcome, counts, error, result);
    } catch (failure) {
      deps.logger.error('hubspot run end could not be recorded', {
        job,
        runId,
        error: (failure as Error).message,
      });
      return {
        id: runId,
        job,
        trigger: options.trigger,
        options: {},
        startedAt: new Date().toISOString(),
        finishedAt: null,
        outcome: 'failed',
        counts,
        error: `${error ?? outcome}; the run's end could not be recorded: ${(failure as Error).message}`,
        result,
      };
    } finally {
      await unlock(lock, job);
      release();
    }
  })();
  return { runId, finished };
}

async function runJob(context: SyncContext, job: JobName, options: RunOptions): Promise<unknown> {
  switch (job) {
    case 'contacts':
    case 'companies':
    case 'deals':
      return syncUpdated(context, job);
    case 'contacts:deleted':
      return syncArchived(context, 'contacts');
    case 'companies:deleted':
      return syncArchived(context, 'companies');
    case 'deals:deleted':
      return syncArchived(context, 'deals');
    case ASSOCIATIONS_JOB:
      return syncContactAssociations(context);
    case 'push':
      return runPush(context, { execute: options.execute === true });
  }
}

/** Starts a run and waits for its end. */
export async function runToEnd(deps: RunnerDeps, job: JobName, options: RunOptions): Promise<RunRecord> {
  const started = await startRun(deps, job, options);
  return started.finished;
}

export type SequenceEntry = RunRecord | { job: JobName; skipped: string };

/**
 * Jobs one after the other; a job already running elsewhere is skipped (reported), a failed one does not stop
 * the others. Stops early only when `signal` is aborted.
 */
export async function runSequence(
  deps: RunnerDeps,
  jobs: readonly JobName[],
  options: RunOptions,
): Promise<SequenceEntry[]> {
  const entries: SequenceEntry[] = [];
  for (const job of jobs) {
    if (options.signal?.aborted) break;
    try {
      entries.push(await runToEnd(deps, job, options));
    } catch (error) {
      if (!(error instanceof RunInProgressError)) throw error;
      entries.push({ job, skipped: error.message });
    }
  }
  return entries;
}

async function unlock(lock: PoolClient, job: string): Promise<void> {
  await lock
    .query('SELECT pg_advisory_unlock($1, hashtext($2))', [HUBSPOT_LOCK_NAMESPACE, `hubspot:${job}`])
    .catch(() => undefined);
}

async function runningRunId(db: PoolClient, job: string): Promise<number | null> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM hubspot_sync_runs WHERE job = $1 AND outcome = 'running' ORDER BY id DESC LIMIT 1`,
    [job],
  );
  return rows[0]?.id ?? null;
}

/**
 * Runs of this job still `running` were left by a process that died (we hold the job's lock): they are closed
 * as failed, with no finish time since nobody knows when they stopped.
 */
async function recordStart(lock: PoolClient, job: string, options: RunOptions): Promise<number> {
  await lock.query(
    `UPDATE hubspot_sync_runs SET outcome = 'failed', error = 'abandoned: its process stopped before the run finished'
      WHERE job = $1 AND outcome = 'running'`,
    [job],
  );
  const { rows } = await lock.query<{ id: number }>(
    `INSERT INTO hubspot_sync_runs (job, trigger, options) VALUES ($1, $2, $3) RETURNING id`,
    [job, options.trigger, JSON.stringify(job === 'push' ? { execute: options.execute === true } : {})],
  );
  return rows[0]!.id;
}

const RUN_COLUMNS = `id, job, trigger, options, started_at AS "startedAt", finished_at AS "finishedAt", outcome, counts,
                     error, result`;

interface RunRow extends Omit<RunRecord, 'startedAt' | 'finishedAt'> {
  startedAt: Date;
  finishedAt: Date | null;
}

function recordOf(row: RunRow): RunRecord {
  return {
    ...row,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

async function recordFinish(
  pool: Pool,
  runId: number,
  outcome: RunOutcome,
  counts: Counts,
  error: string | null,
  result: unknown,
): Promise<RunRecord> {
  const { rows } = await pool.query<RunRow>(
    `UPDATE hubspot_sync_runs
        SET finished_at = clock_timestamp(), outcome = $2, counts = $3, error = $4, result = $5
      WHERE id = $1
      RETURNING ${RUN_COLUMNS}`,
    [
      runId,
      outcome,
      JSON.stringify(counts),
      error?.slice(0, 2000) ?? null,
      result === undefined || result === null ? null : JSON.stringify(result),
    ],
  );
  return recordOf(rows[0]!);
}

/**
 * Runs that did not stop within a shutdown's time limit, closed as interrupted so that no row is left `running`
 * (the checkpoint of their last saved page stands). A run that still records its own end later overwrites this.
 * Never waits: a row a stuck statement of the run holds locked is skipped (shutdown must not hang on it).
 */
export async function recordInterrupted(
  pool: Pool,
  runIds: readonly number[],
  reason: string,
): Promise<number> {
  if (runIds.length === 0) return 0;
  const { rowCount } = await pool.query(
    `UPDATE hubspot_sync_runs SET outcome = 'interrupted', finished_at = clock_timestamp(), error = $2
      WHERE id IN (SELECT id FROM hubspot_sync_runs WHERE id = ANY($1::bigint[]) AND outcome = 'running'
                      FOR UPDATE SKIP LOCKED)`,
    [runIds, reason.slice(0, 2000)],
  );
  return rowCount ?? 0;
}

export async function loadRun(pool: Pool, id: number): Promise<RunRecord | null> {
  const { rows } = await pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM hubspot_sync_runs WHERE id = $1`, [
    id,
  ]);
  return rows[0] ? recordOf(rows[0]) : null;
}

export async function recentRuns(pool: Pool, job: string | null, limit: number): Promise<RunRecord[]> {
  const { rows } = await pool.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM hubspot_sync_runs WHERE $1::text IS NULL OR job = $1 ORDER BY id DESC LIMIT $2`,
    [job, limit],
  );
  return rows.map(recordOf);
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason);
}
