import type { Pool } from '../db/pool';
import { isDatabaseUnavailable } from '../db/pool';
import type { NewObservation, StoredObservation } from './observations';
import { appendObservation, observationValues } from './observations';

interface Pending {
  observation: NewObservation;
  resolve: (stored: StoredObservation) => void;
  reject: (error: unknown) => void;
}

export interface ObservationWriterOptions {
  maxBatch?: number;
  maxConcurrentFlushes?: number;
}

/**
 * Group commit for Phase 1. Observations that arrive while earlier ones are being written are appended together
 * with one multi-row INSERT (one round trip, one commit) instead of one each; an idle writer flushes at once, so
 * a lone webhook waits for nothing. Every caller still gets its own answer only after its row is committed.
 */
export class ObservationWriter {
  private readonly queue: Pending[] = [];
  private flushing = 0;
  private readonly maxBatch: number;
  private readonly maxConcurrentFlushes: number;

  constructor(
    private readonly pool: Pool,
    options: ObservationWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 64;
    this.maxConcurrentFlushes = options.maxConcurrentFlushes ?? 4;
  }

  append(observation: NewObservation): Promise<StoredObservation> {
    return new Promise((resolve, reject) => {
      this.queue.push({ observation, resolve, reject });
      this.startFlushes();
    });
  }

  private startFlushes(): void {
    while (this.flushing < this.maxConcurrentFlushes && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.flushing += 1;
      void this.flush(batch).finally(() => {
        this.flushing -= 1;
        this.startFlushes();
      });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Pending];
      await appendObservation(this.pool, only.observation).then(only.resolve, only.reject);
      return;
    }
    try {
      const stored = await appendObservations(
        this.pool,
        batch.map((item) => item.observation),
      );
      batch.forEach((item, index) => item.resolve(stored[index]!));
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        batch.forEach((item) => item.reject(error));
        return;
      }
      // One unexpected row must not fail its neighbours: fall back to writing each on its own.
      await Promise.all(
        batch.map((item) => appendObservation(this.pool, item.observation).then(item.resolve, item.reject)),
      );
    }
  }
}

const COLUMNS = 10;

/** One INSERT for many observations; rows whose key already existed (or repeats within the batch) are duplicates. */
export async function appendObservations(
  pool: Pool,
  observations: NewObservation[],
): Promise<StoredObservation[]> {
  const values: unknown[] = [];
  const tuples = observations.map((observation, row) => {
    values.push(...observationValues(observation));
    const base = row * COLUMNS;
    return `(${Array.from({ length: COLUMNS }, (_, column) => `$${base + column + 1}`).join(', ')})`;
  });
  const inserted = await pool.query<{ id: number; event_key: string }>(
    `INSERT INTO observations
       (source, kind, event, dux_user_id, event_time, event_key, request_id, payload, raw_body, status)
     VALUES ${tuples.join(', ')}
     ON CONFLICT (event_key) DO NOTHING
     RETURNING id, event_key`,
    values,
  );
  const created = new Map(inserted.rows.map((row) => [row.event_key, row.id]));
  const missing = observations.map((o) => o.eventKey).filter((key) => !created.has(key));
  const existing = new Map<string, number>();
  if (missing.length > 0) {
    const found = await pool.query<{ id: number; event_key: string }>(
      'SELECT id, event_key FROM observations WHERE event_key = ANY($1)',
      [missing],
    );
    for (const row of found.rows) existing.set(row.event_key, row.id);
  }
  const claimed = new Set<string>();
  return observations.map((observation) => {
    const newId = created.get(observation.eventKey);
    if (newId !== undefined && !claimed.has(observation.eventKey)) {
      claimed.add(observation.eventKey);
      return { id: newId, duplicate: false };
    }
    const id = newId ?? existing.get(observation.eventKey);
    if (id === undefined)
      throw new Error(`observation ${observation.eventKey} conflicted but cannot be found`);
    return { id, duplicate: true };
  });
}
