import type { Pool } from '../../db/pool';
import { isDatabaseUnavailable } from '../../db/pool';
import type { ObservationProcessor } from '../../ingest/processor';
import { deferredProcessor } from '../../ingest/processor';
import { processStoredRequest } from './intake';

export interface RedriveOptions {
  /** LEAD_DEDUP_WINDOW_MINUTES: the same rule as the intake, applied to the request's own received_at. */
  windowMinutes: number;
  /** Only requests at least this old are taken (younger ones may still be in their intake). */
  olderThanSeconds: number;
  batchSize?: number;
  /** Phase 2 for the leads created; without it their observations wait for the pending sweeper. */
  processor?: ObservationProcessor;
  onProcessorError?: (observationId: number, error: unknown) => void;
}

export interface RedriveResult {
  examined: number;
  created: number;
  duplicates: number;
  rejected: number;
  failed: number;
}

interface ReceivedRow {
  id: number;
  received_at: Date;
  request_id: string;
  x_request_id: string | null;
  idempotency_key: string | null;
  content_type: string | null;
  body: Buffer | null;
}

/**
 * Finishes requests left `received`: stored raw, but never turned into a lead or a rejection (a crash, an outage
 * or a failure between the two steps). Safe on every instance at once: each step only moves a request out of
 * `received`, and the lead itself is unique by its key, which is derived from the stored request alone.
 */
export async function redriveLeads(pool: Pool, options: RedriveOptions): Promise<RedriveResult> {
  const { rows } = await pool.query<ReceivedRow>(
    `SELECT id, received_at, request_id, x_request_id, idempotency_key, content_type, body
       FROM lead_requests
      WHERE state = 'received' AND received_at < now() - $1 * interval '1 second'
      ORDER BY id LIMIT $2`,
    [options.olderThanSeconds, options.batchSize ?? 100],
  );
  const result: RedriveResult = { examined: rows.length, created: 0, duplicates: 0, rejected: 0, failed: 0 };
  const deps = {
    pool,
    processor: options.processor ?? deferredProcessor,
    windowMinutes: options.windowMinutes,
    onProcessorError: options.onProcessorError ?? (() => undefined),
  };
  for (const row of rows) {
    try {
      const outcome = await processStoredRequest(deps, {
        id: Number(row.id),
        receivedAt: row.received_at,
        requestId: row.request_id,
        xRequestId: row.x_request_id,
        idempotencyKeyHeader: row.idempotency_key,
        contentType: row.content_type,
        body: row.body ?? Buffer.alloc(0),
      });
      if (outcome.kind === 'created') result.created += 1;
      else if (outcome.kind === 'duplicate') result.duplicates += 1;
      else result.rejected += 1;
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      result.failed += 1;
    }
  }
  return result;
}
