import type { Pool } from '../db/pool';
import type { ObservationProcessor } from './processor';

export interface SweepResult {
  examined: number;
  processed: number;
  failed: number;
}

/**
 * Finishes observations a crash (or an outage) left `pending` after Phase 1. Safe on every instance at once:
 * the processor locks each observation with SKIP LOCKED and skips the ones already done.
 */
export async function sweepPending(
  pool: Pool,
  processor: ObservationProcessor,
  options: { olderThanSeconds: number; batchSize: number },
): Promise<SweepResult> {
  const { rows } = await pool.query<{ id: number }>(
    `SELECT id FROM observations
      WHERE status = 'pending' AND received_at < now() - $1 * interval '1 second'
      ORDER BY id LIMIT $2`,
    [options.olderThanSeconds, options.batchSize],
  );
  let processed = 0;
  let failed = 0;
  for (const { id } of rows) {
    try {
      const result = await processor.process(id);
      if (result.processed) processed += 1;
    } catch {
      failed += 1;
    }
  }
  return { examined: rows.length, processed, failed };
}
