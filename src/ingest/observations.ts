import type { Pool } from '../db/pool';

export type ObservationStatus = 'pending' | 'processed' | 'skipped' | 'dead' | 'ignored';

export interface NewObservation {
  source: string;
  kind: string;
  event: string;
  duxUserId: string | null;
  eventTime: Date | null;
  eventKey: string;
  requestId: string | null;
  payload: unknown;
  rawBody: Buffer | null;
  status: Extract<ObservationStatus, 'pending' | 'ignored'>;
}

/** Parameters in the column order of every observation INSERT: the log's columns, then the initial status. */
export function observationValues(observation: NewObservation): unknown[] {
  return [
    observation.source,
    observation.kind,
    observation.event,
    observation.duxUserId,
    observation.eventTime,
    observation.eventKey,
    observation.requestId,
    JSON.stringify(observation.payload),
    observation.rawBody,
    observation.status,
  ];
}

export interface StoredObservation {
  id: number;
  duplicate: boolean;
}

/**
 * Appends an observation, or finds the one already stored under the same event key. The unique constraint
 * decides; there is no read-then-write window. A concurrent insert of the same key makes ours wait and then do
 * nothing, and that row is invisible to this statement's snapshot, hence the second look-up.
 */
export async function appendObservation(pool: Pool, observation: NewObservation): Promise<StoredObservation> {
  const inserted = await pool.query<{ id: number }>({
    name: 'observations.append',
    text: `WITH logged AS (
             INSERT INTO observation_log
               (source, kind, event, dux_user_id, event_time, event_key, request_id, payload, raw_body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (event_key) DO NOTHING
             RETURNING id, kind)
           INSERT INTO observation_state (id, kind, status) SELECT id, kind, $10 FROM logged RETURNING id`,
    values: observationValues(observation),
  });
  const row = inserted.rows[0];
  if (row) return { id: row.id, duplicate: false };

  const existing = await pool.query<{ id: number }>({
    name: 'observations.by-key',
    text: 'SELECT id FROM observation_log WHERE event_key = $1',
    values: [observation.eventKey],
  });
  const original = existing.rows[0];
  if (!original) throw new Error(`observation ${observation.eventKey} conflicted but cannot be found`);
  return { id: original.id, duplicate: true };
}

export interface RejectedInput {
  endpoint: string;
  requestId: string | null;
  contentType: string | null;
  body: Buffer | null;
  bodyBytes: number;
  errorCode: string;
  reason: string;
}

export async function recordRejectedInput(pool: Pool, input: RejectedInput): Promise<number> {
  const { rows } = await pool.query<{ id: number }>({
    name: 'rejected-inputs.insert',
    text: `INSERT INTO rejected_inputs (endpoint, request_id, content_type, body, body_bytes, error_code, reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    values: [
      input.endpoint,
      input.requestId,
      input.contentType,
      input.body,
      input.bodyBytes,
      input.errorCode,
      input.reason.slice(0, 2000),
    ],
  });
  return rows[0]!.id;
}
