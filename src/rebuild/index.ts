import type { Pool } from '../db/pool';
import type { Phase2Processor } from '../ingest/phase2';
import { resetDerivedState } from '../ingest/rebuild';
import { drainRefreshQueue } from '../snapshots/refresh';
import type { FoldSettings } from '../snapshots/store';
import { BatchResolver, runWrites } from './batch';
import { ObservationFeed } from './feed';
import { deferIndexes, restoreDeferredIndexes } from './indexes';

export interface RebuildOptions {
  namespace: string;
  settings: FoldSettings;
  processor: Phase2Processor;
  /** Continue the latest unfinished run from its checkpoint instead of starting over. */
  resume?: boolean;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface RebuildSummary {
  runId: number;
  observations: number;
  batched: number;
  fullPath: number;
  skipped: number;
  /** Read-only indexes and alias foreign keys dropped while writing and restored at the end. */
  indexesRebuilt: number;
  seconds: number;
  /** Where the seconds went: the reset (and index drops), the batches, and rebuilding the indexes at the end. */
  phaseSeconds: { reset: number; batches: number; indexes: number };
  observationsPerSecond: number;
}

/**
 * Rebuilds persons, companies and locations from the observation log, in observation-id order: what live
 * processing does, batched. Observations the batch resolver can take are written set-based; the rest (merges,
 * conflicts) go through the live full path one by one. Every batch commits with its checkpoint, so a stopped
 * rebuild resumes where it stopped. The indexes costly to maintain row by row and the alias tables' foreign keys
 * are dropped while it writes and restored once at the end (an interrupted rebuild leaves them listed in
 * deferred_indexes; the resumed or next run restores them).
 * Webhooks keep being stored meanwhile; stop the service, or run it with PHASE2_MODE=deferred, while rebuilding,
 * and let the sweeper resolve what arrived once the rebuild is done.
 */
export async function rebuildFromLog(pool: Pool, options: RebuildOptions): Promise<RebuildSummary> {
  const started = Date.now();
  const batchSize = options.batchSize ?? 2000;
  // Before the reset: it rewrites every observation, and should not maintain indexes the end rebuilds anyway.
  await deferIndexes(pool);
  const run = await openRun(pool, options.resume ?? false);
  const batchesStarted = Date.now();
  let indexesStarted: number;
  const totals = { batched: 0, fullPath: 0, skipped: 0 };
  let indexesRebuilt: number;
  let checkpoint = run.lastObservationId;
  const remaining = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM observation_state WHERE id > $1 AND status <> 'ignored'`,
    [checkpoint],
  );
  const total = remaining.rows[0]!.n;
  let done = 0;
  const feed = new ObservationFeed(pool, options.settings, checkpoint, batchSize);
  const resolver = new BatchResolver(options.namespace, options.settings);
  // The batch before is written while the next one is read and applied: PostgreSQL and this process work at once.
  let writing: Promise<void> | null = null;
  const finishWriting = async () => {
    const previous = writing;
    writing = null;
    await previous;
  };
  try {
    for (;;) {
      const batch = await feed.take(batchSize);
      if (batch.length === 0) break;
      const client = await pool.connect();
      let released = false;
      const release = (error?: Error) => {
        if (!released) client.release(error);
        released = true;
      };
      let applied = 0;
      try {
        await client.query('BEGIN; SET LOCAL synchronous_commit = off');
        await resolver.load(client, batch);
        while (applied < batch.length && resolver.apply(batch[applied]!)) applied += 1;
        const writes = resolver.prepareWrites();
        await finishWriting();
        resolver.retainCurrentBatch();
        const last = applied > 0 ? batch[applied - 1]!.id : checkpoint;
        writing = (async () => {
          try {
            await runWrites(client, writes);
            await client.query(
              `UPDATE rebuild_runs SET last_observation_id = $2, batched = batched + $3, skipped = skipped + $4
                WHERE id = $1`,
              [run.id, last, writes.linked, writes.skipped],
            );
            await client.query('COMMIT');
            release();
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            release(error as Error);
            throw error;
          }
          totals.batched += writes.linked;
          totals.skipped += writes.skipped;
          checkpoint = last;
        })();
        writing.catch(() => undefined); // awaited (and thrown) before the next batch writes
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        release(error as Error);
        throw error;
      }
      done += applied;
      const stoppedAt = applied < batch.length ? batch[applied]! : null;
      if (stoppedAt) {
        await finishWriting();
        feed.putBack(batch.slice(applied + 1));
        await options.processor.process(stoppedAt.id);
        resolver.clear(); // the full path changed the database under what memory holds
        await pool.query(
          'UPDATE rebuild_runs SET last_observation_id = $2, full_path = full_path + 1 WHERE id = $1',
          [run.id, stoppedAt.id],
        );
        totals.fullPath += 1;
        checkpoint = stoppedAt.id;
        done += 1;
      }
      options.onProgress?.(done, total);
    }
    await finishWriting();
    await drainRefreshQueue(pool, options.settings);
    indexesStarted = Date.now();
    indexesRebuilt = await restoreDeferredIndexes(pool);
    await pool.query(`UPDATE rebuild_runs SET status = 'completed', finished_at = now() WHERE id = $1`, [
      run.id,
    ]);
  } catch (error) {
    await writing?.catch(() => undefined);
    await pool
      .query(`UPDATE rebuild_runs SET status = 'failed', error = $2 WHERE id = $1`, [
        run.id,
        (error as Error).message,
      ])
      .catch(() => undefined);
    throw error;
  }
  const finished = Date.now();
  const seconds = (finished - started) / 1000;
  return {
    runId: run.id,
    observations: done,
    ...totals,
    indexesRebuilt,
    seconds,
    phaseSeconds: {
      reset: (batchesStarted - started) / 1000,
      batches: (indexesStarted - batchesStarted) / 1000,
      indexes: (finished - indexesStarted) / 1000,
    },
    observationsPerSecond: Math.round(done / Math.max(seconds, 0.001)),
  };
}

async function openRun(pool: Pool, resume: boolean): Promise<{ id: number; lastObservationId: number }> {
  if (resume) {
    const { rows } = await pool.query<{ id: number; last_observation_id: number }>(
      `SELECT id, last_observation_id FROM rebuild_runs WHERE status <> 'completed' ORDER BY id DESC LIMIT 1`,
    );
    const run = rows[0];
    if (run) {
      await pool.query(`UPDATE rebuild_runs SET status = 'running', error = NULL WHERE id = $1`, [run.id]);
      return { id: run.id, lastObservationId: run.last_observation_id };
    }
  }
  await resetDerivedState(pool);
  const { rows } = await pool.query<{ id: number }>('INSERT INTO rebuild_runs DEFAULT VALUES RETURNING id');
  return { id: rows[0]!.id, lastObservationId: 0 };
}
