import type { Pool } from '../db/pool';
import type { Logger } from '../logger';
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

/** Runs the sweep on an interval until stopped; one sweep at a time per process. */
export function startSweeper(
  pool: () => Pool | null,
  processor: ObservationProcessor,
  logger: Logger,
  options: { intervalSeconds: number; olderThanSeconds: number; batchSize: number },
): () => void {
  let running = false;
  const timer = setInterval(() => {
    const current = pool();
    if (running || !current) return;
    running = true;
    sweepPending(current, processor, options)
      .then((result) => {
        if (result.examined > 0) logger.info('pending observations swept', { ...result });
      })
      .catch((error: unknown) => logger.warn('sweep failed', { error: (error as Error).message }))
      .finally(() => (running = false));
  }, options.intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
