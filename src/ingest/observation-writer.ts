import type { Pool } from '../db/pool';
import { GroupedCalls } from '../db/grouped-calls';
import type { NewObservation, StoredObservation } from './observations';
import { appendObservation, observationValues } from './observations';

export interface ObservationWriterOptions {
  maxBatch?: number;
  maxConcurrentFlushes?: number;
}

/**
 * Group commit for Phase 1: observations that arrive while earlier ones are being written are appended together
 * with one multi-row INSERT (one round trip, one commit). Every caller still gets its own answer only after its
 * row is committed.
 */
export class ObservationWriter {
  private readonly calls: GroupedCalls<NewObservation, StoredObservation>;

  constructor(pool: Pool, options: ObservationWriterOptions = {}) {
    this.calls = new GroupedCalls({
      one: (observation) => appendObservation(pool, observation),
      many: (observations) => appendObservations(pool, observations),
      maxBatch: options.maxBatch ?? 64,
      maxConcurrent: options.maxConcurrentFlushes ?? 4,
    });
  }

  append(observation: NewObservation): Promise<StoredObservation> {
    return this.calls.call(observation);
  }
}

/** Each parameter's type, in the order of observationValues: a VALUES list outside an INSERT needs them. */
const PARAMETER_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'timestamptz',
  'text',
  'text',
  'jsonb',
  'bytea',
  'text',
];

/** One INSERT for many observations; rows whose key already existed (or repeats within the batch) are duplicates. */
export async function appendObservations(
  pool: Pool,
  observations: NewObservation[],
): Promise<StoredObservation[]> {
  const values: unknown[] = [];
  const tuples = observations.map((observation, row) => {
    values.push(...observationValues(observation));
    const base = row * PARAMETER_TYPES.length;
    return `(${PARAMETER_TYPES.map((type, column) => `$${base + column + 1}::${type}`).join(', ')})`;
  });
  const inserted = await pool.query<{ id: number; event_key: string }>(
    `WITH input (source, kind, event, dux_user_id, event_time, event_key, request_id, payload, raw_body, status)
            AS (VALUES ${tuples.join(', ')}),
          logged AS (
            INSERT INTO observation_log
              (source, kind, event, dux_user_id, event_time, event_key, request_id, payload, raw_body)
            SELECT source, kind, event, dux_user_id, event_time, event_key, request_id, payload, raw_body FROM input
            ON CONFLICT (event_key) DO NOTHING
            RETURNING id, event_key),
          stated AS (
            INSERT INTO observation_state (id, kind, status)
            SELECT DISTINCT ON (logged.id) logged.id, input.kind, input.status FROM logged JOIN input USING (event_key))
     SELECT id, event_key FROM logged`,
    values,
  );
  const created = new Map(inserted.rows.map((row) => [row.event_key, row.id]));
  const missing = observations.map((o) => o.eventKey).filter((key) => !created.has(key));
  const existing = new Map<string, number>();
  if (missing.length > 0) {
    const found = await pool.query<{ id: number; event_key: string }>(
      'SELECT id, event_key FROM observation_log WHERE event_key = ANY($1)',
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
