import type { Pool } from '../db/pool';
import type {
  ExportClaim,
  ExportEntity,
  ExportFormat,
  ExportJob,
  ExportRequest,
  ExportSettings,
  ExportStatus,
} from './types';

interface JobRow {
  id: string;
  entity: ExportEntity;
  format: ExportFormat;
  request: ExportRequest;
  owner_key_hash: string | null;
  status: ExportStatus;
  attempt: number;
  claim_token: string | null;
  rows_done: number;
  rows_total: number | null;
  size_bytes: number;
  chunk_count: number;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  expires_at: Date;
}

const JOB_COLUMNS = `id, entity, format, request, owner_key_hash, status, attempt, claim_token, rows_done, rows_total,
  size_bytes, chunk_count, error, created_at, started_at, completed_at, expires_at`;

function jobOf(row: JobRow): ExportJob {
  return {
    id: row.id,
    entity: row.entity,
    format: row.format,
    request: row.request,
    ownerKeyHash: row.owner_key_hash,
    status: row.status,
    attempt: row.attempt,
    rowsDone: row.rows_done,
    rowsTotal: row.rows_total,
    sizeBytes: row.size_bytes,
    chunkCount: row.chunk_count,
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    expiresAt: row.expires_at,
  };
}

export interface NewExportJob {
  id: string;
  entity: ExportEntity;
  format: ExportFormat;
  request: ExportRequest;
  ownerKeyHash: string | null;
  ttlMs: number;
}

export async function insertExportJob(pool: Pool, job: NewExportJob): Promise<ExportJob> {
  const { rows } = await pool.query<JobRow>(
    `INSERT INTO export_jobs (id, entity, format, request, owner_key_hash, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 millisecond')
     RETURNING ${JOB_COLUMNS}`,
    [job.id, job.entity, job.format, JSON.stringify(job.request), job.ownerKeyHash, job.ttlMs],
  );
  return jobOf(rows[0]!);
}

/** A job that has not expired yet (an expired one is gone for its owner even before the cleanup deletes it). */
export async function findExportJob(pool: Pool, id: string): Promise<ExportJob | null> {
  const { rows } = await pool.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM export_jobs WHERE id = $1 AND expires_at > now()`,
    [id],
  );
  return rows[0] ? jobOf(rows[0]) : null;
}

/** Jobs of one owner that are still queued or running. */
export async function countActiveJobs(pool: Pool, ownerKeyHash: string | null): Promise<number> {
  const { rows } = await pool.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM export_jobs
      WHERE owner_key_hash IS NOT DISTINCT FROM $1 AND status IN ('pending', 'processing') AND expires_at > now()`,
    [ownerKeyHash],
  );
  return rows[0]?.count ?? 0;
}

/**
 * Claims the oldest job that is pending, or processing with a heartbeat older than `staleAfterMs` (its worker
 * died). SKIP LOCKED hands each job to exactly one worker across all instances. A job that has already been
 * claimed `maxAttempts` times is failed instead of being claimed again.
 */
export async function claimNextExport(pool: Pool, settings: ExportSettings): Promise<ExportClaim | null> {
  await pool.query(
    `WITH abandoned AS (
       UPDATE export_jobs
          SET status = 'failed', claim_token = NULL, completed_at = now(),
              error = 'the export was abandoned ' || attempt || ' times by a worker that stopped while producing it'
        WHERE status = 'processing' AND attempt >= $2
          AND heartbeat_at < now() - $1 * interval '1 millisecond'
        RETURNING id)
     DELETE FROM export_chunks c USING abandoned WHERE c.job_id = abandoned.id`,
    [settings.staleAfterMs, settings.maxAttempts],
  );
  const { rows } = await pool.query<JobRow>(
    `UPDATE export_jobs j
        SET status = 'processing', attempt = j.attempt + 1, claim_token = gen_random_uuid(), claimed_by = $2,
            heartbeat_at = now(), started_at = now(), rows_done = 0, rows_total = NULL, size_bytes = 0,
            chunk_count = 0
      WHERE j.id = (
        SELECT id FROM export_jobs
         WHERE expires_at > now()
           AND (status = 'pending'
                OR (status = 'processing' AND heartbeat_at < now() - $1 * interval '1 millisecond'))
         ORDER BY created_at
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
      RETURNING ${JOB_COLUMNS}`,
    [settings.staleAfterMs, settings.workerId],
  );
  const row = rows[0];
  return row ? { job: jobOf(row), token: row.claim_token! } : null;
}

/** False once the claim is lost (reclaimed by another worker, or the job was deleted). */
export async function heartbeat(pool: Pool, claim: ExportClaim): Promise<boolean> {
  const result = await pool.query(
    `UPDATE export_jobs SET heartbeat_at = now() WHERE id = $1 AND claim_token = $2`,
    [claim.job.id, claim.token],
  );
  return result.rowCount === 1;
}

export async function recordTotal(pool: Pool, claim: ExportClaim, rowsTotal: number): Promise<boolean> {
  const result = await pool.query(
    `UPDATE export_jobs SET rows_total = $3, heartbeat_at = now() WHERE id = $1 AND claim_token = $2`,
    [claim.job.id, claim.token, rowsTotal],
  );
  return result.rowCount === 1;
}

export interface ExportProgress {
  rowsDone: number;
  sizeBytes: number;
  chunkCount: number;
}

/** Stores one chunk of the file and the progress it represents, in one statement fenced by the claim. */
export async function storeChunk(
  pool: Pool,
  claim: ExportClaim,
  seq: number,
  data: Buffer,
  progress: ExportProgress,
): Promise<boolean> {
  const result = await pool.query(
    `WITH job AS (
       UPDATE export_jobs SET rows_done = $5, size_bytes = $6, chunk_count = $7, heartbeat_at = now()
        WHERE id = $1 AND claim_token = $2
        RETURNING id, attempt)
     INSERT INTO export_chunks (job_id, attempt, seq, data)
     SELECT id, attempt, $3, $4 FROM job`,
    [claim.job.id, claim.token, seq, data, progress.rowsDone, progress.sizeBytes, progress.chunkCount],
  );
  return result.rowCount === 1;
}

/**
 * Marks the job completed (its download now lives `ttlMs` from now) and drops chunks left by earlier, abandoned
 * attempts. False when the claim was lost meanwhile: the output of this attempt is then discarded.
 */
export async function completeExport(
  pool: Pool,
  claim: ExportClaim,
  progress: ExportProgress,
  ttlMs: number,
): Promise<boolean> {
  const { rows } = await pool.query<{ completed: number }>(
    `WITH done AS (
       UPDATE export_jobs
          SET status = 'completed', claim_token = NULL, completed_at = now(), heartbeat_at = now(),
              rows_done = $3, rows_total = $3, size_bytes = $4, chunk_count = $5,
              expires_at = now() + $6 * interval '1 millisecond'
        WHERE id = $1 AND claim_token = $2
        RETURNING id, attempt),
     stale AS (
       DELETE FROM export_chunks c USING done WHERE c.job_id = done.id AND c.attempt <> done.attempt)
     SELECT count(*)::int AS completed FROM done`,
    [claim.job.id, claim.token, progress.rowsDone, progress.sizeBytes, progress.chunkCount, ttlMs],
  );
  if (rows[0]?.completed === 1) return true;
  await discardAttempt(pool, claim);
  return false;
}

/** The job failed for good: record why and drop whatever it had written. */
export async function failExport(pool: Pool, claim: ExportClaim, message: string): Promise<boolean> {
  const { rows } = await pool.query<{ failed: number }>(
    `WITH failed AS (
       UPDATE export_jobs
          SET status = 'failed', claim_token = NULL, completed_at = now(), error = $3
        WHERE id = $1 AND claim_token = $2
        RETURNING id),
     purged AS (DELETE FROM export_chunks c USING failed WHERE c.job_id = failed.id)
     SELECT count(*)::int AS failed FROM failed`,
    [claim.job.id, claim.token, message],
  );
  if (rows[0]?.failed === 1) return true;
  await discardAttempt(pool, claim);
  return false;
}

/** Hands the job back to the queue (this instance is stopping, or the database blinked) for any worker to redo. */
export async function releaseExport(pool: Pool, claim: ExportClaim): Promise<void> {
  await pool.query(
    `WITH released AS (
       UPDATE export_jobs
          SET status = 'pending', claim_token = NULL, claimed_by = NULL, heartbeat_at = NULL,
              rows_done = 0, rows_total = NULL, size_bytes = 0, chunk_count = 0
        WHERE id = $1 AND claim_token = $2
        RETURNING id)
     DELETE FROM export_chunks c USING released WHERE c.job_id = released.id AND c.attempt = $3`,
    [claim.job.id, claim.token, claim.job.attempt],
  );
}

async function discardAttempt(pool: Pool, claim: ExportClaim): Promise<void> {
  await pool.query(
    `DELETE FROM export_chunks c USING export_jobs j
      WHERE c.job_id = $1 AND c.attempt = $2 AND j.id = c.job_id
        AND NOT (j.status = 'completed' AND j.attempt = $2)`,
    [claim.job.id, claim.job.attempt],
  );
}

export interface CleanupResult {
  jobs: number;
  chunks: number;
}

/**
 * Deletes expired jobs and their chunks, a bounded batch per statement so no transaction grows with the backlog.
 * Safe on every instance at once (SKIP LOCKED). Also called by the scheduler (issue 4).
 */
export async function cleanupExpiredExports(pool: Pool, batchSize = 100): Promise<CleanupResult> {
  const total: CleanupResult = { jobs: 0, chunks: 0 };
  for (;;) {
    const { rows } = await pool.query<{ jobs: number; chunks: number }>(
      `WITH expired AS (
         SELECT id FROM export_jobs WHERE expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED),
       chunks AS (DELETE FROM export_chunks c USING expired WHERE c.job_id = expired.id RETURNING 1),
       jobs AS (DELETE FROM export_jobs j USING expired WHERE j.id = expired.id RETURNING 1)
       SELECT (SELECT count(*) FROM jobs)::int AS jobs, (SELECT count(*) FROM chunks)::int AS chunks`,
      [batchSize],
    );
    const { jobs = 0, chunks = 0 } = rows[0] ?? {};
    total.jobs += jobs;
    total.chunks += chunks;
    if (jobs < batchSize) return total;
  }
}
