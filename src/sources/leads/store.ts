import { randomUUID } from 'node:crypto';
import type { Pool } from '../../db/pool';
import type { LeadBody, RejectionReason } from './contract';
import { canonicalJson, dedupKey, leadFields, normalisedLead, sha256 } from './contract';

/** A request as it arrived, before anything looked at its body. */
export interface RawLeadRequest {
  requestId: string;
  xRequestId: string | null;
  idempotencyKey: string | null;
  contentType: string | null;
  userAgent: string | null;
  forwardedFor: string | null;
  remoteAddr: string | null;
  /** Null when the body was not read (over the body limit, or body-parser failed to read it). */
  body: Buffer | null;
  bodyBytes: number;
}

export interface StoredLeadRequest {
  id: number;
  receivedAt: Date;
}

const RAW_COLUMNS = `request_id, x_request_id, idempotency_key, content_type, user_agent, forwarded_for, remote_addr,
                     body, body_bytes`;

function rawValues(raw: RawLeadRequest): unknown[] {
  return [
    raw.requestId,
    raw.xRequestId,
    raw.idempotencyKey,
    raw.contentType,
    raw.userAgent,
    raw.forwardedFor,
    raw.remoteAddr,
    raw.body,
    raw.bodyBytes,
  ];
}

/** Raw first: committed on its own before the body is parsed, so nothing that got past auth is ever lost. */
export async function storeRawRequest(pool: Pool, raw: RawLeadRequest): Promise<StoredLeadRequest> {
  const { rows } = await pool.query<{ id: number; received_at: Date }>({
    name: 'leads.store-raw',
    text: `INSERT INTO lead_requests (${RAW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           RETURNING id, received_at`,
    values: rawValues(raw),
  });
  const row = rows[0]!;
  return { id: Number(row.id), receivedAt: row.received_at };
}

/**
 * A request rejected before its body could be parsed (never read, or not decodable with its Content-Encoding) is
 * stored already rejected, in one statement.
 */
export async function storeRejectedRequest(
  pool: Pool,
  raw: RawLeadRequest,
  reason: RejectionReason,
  detail: string,
): Promise<number> {
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO lead_requests (${RAW_COLUMNS}, state, reason, detail, processed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'rejected', $10, $11, now())
     RETURNING id`,
    [...rawValues(raw), reason, detail.slice(0, 2000)],
  );
  return rows[0]!.id;
}

export async function markRejected(
  pool: Pool,
  requestRowId: number,
  reason: RejectionReason,
  detail: string,
): Promise<void> {
  await pool.query({
    name: 'leads.mark-rejected',
    text: `UPDATE lead_requests SET state = 'rejected', reason = $2, detail = $3, processed_at = now()
            WHERE id = $1 AND state = 'received'`,
    values: [requestRowId, reason, detail.slice(0, 2000)],
  });
}

/** Left on a request that stays `received` after a failed normalisation, for whoever looks at it. */
export async function noteFailure(pool: Pool, requestRowId: number, error: unknown): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  await pool.query(`UPDATE lead_requests SET detail = $2 WHERE id = $1 AND state = 'received'`, [
    requestRowId,
    message.slice(0, 2000),
  ]);
}

export interface NormaliseInput {
  requestRowId: number;
  receivedAt: Date;
  requestId: string;
  xRequestId: string | null;
  idempotencyKey: string | null;
  body: LeadBody;
  windowMinutes: number;
}

export type NormaliseOutcome =
  | {
      outcome: 'created';
      leadId: string;
      observationId: number;
      /** What the observation holds, when this call wrote it (Phase 2 then need not read it back). */
      observationPayload: LeadBody | null;
    }
  | { outcome: 'duplicate' | 'conflict'; leadId: string };

/**
 * The lead, its observation and the request's new state in ONE statement (one implicit transaction, one round
 * trip). The observation id is drawn first so the lead row can name it. A key that is taken makes the insert do
 * nothing; the winner's row is invisible to this statement's snapshot, hence the second statement.
 */
const INSERT_LEAD = `
  WITH next_observation AS (SELECT nextval(pg_get_serial_sequence('observation_log', 'id')) AS id),
  lead AS (
    INSERT INTO leads (id, request_id, observation_id, created_at, dedup_key, idempotency_key, x_request_id,
                       body_sha256, click_id, country, creo, description, domain, email, first_name, ip, lang,
                       last_name, marker, offer, phone, sourcetype, payload)
    SELECT $1, $2, next_observation.id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
           $19, $20, $21, $22
      FROM next_observation
    ON CONFLICT (dedup_key) DO NOTHING
    RETURNING id, observation_id),
  observation AS (
    INSERT INTO observation_log (id, source, kind, event, dux_user_id, event_time, event_key, request_id, payload,
                                 raw_body)
    SELECT lead.observation_id, 'lead', 'lead', 'create', NULL, $3, 'lead:' || lead.id, $23, $24, NULL
      FROM lead),
  observation_state AS (INSERT INTO observation_state (id, kind) SELECT observation_id, 'lead' FROM lead),
  request AS (
    UPDATE lead_requests r
       SET state = 'accepted', lead_id = lead.id, body_sha256 = $7, reason = NULL, detail = NULL,
           processed_at = now()
      FROM lead
     WHERE r.id = $2 AND r.state = 'received')
  SELECT id, observation_id FROM lead`;

/** Marks the request as a repeat of the lead holding its key: `duplicate` for the same body, else `conflict`. */
const MARK_REPEAT = `
  WITH existing AS (SELECT id, request_id, body_sha256, observation_id FROM leads WHERE dedup_key = $1),
  marked AS (
    UPDATE lead_requests r
       SET state = CASE WHEN existing.body_sha256 = $3 THEN 'duplicate' ELSE 'conflict' END,
           reason = CASE WHEN existing.body_sha256 = $3 THEN NULL ELSE 'conflict' END,
           lead_id = existing.id, body_sha256 = $3, detail = NULL, processed_at = now()
      FROM existing
     WHERE r.id = $2 AND r.state = 'received' AND existing.request_id <> $2)
  SELECT id, request_id, body_sha256, observation_id FROM existing`;

export async function normaliseLead(pool: Pool, input: NormaliseInput): Promise<NormaliseOutcome> {
  const bodySha256 = sha256(canonicalJson(input.body));
  const key = dedupKey({
    idempotencyKey: input.idempotencyKey,
    bodySha256,
    receivedAt: input.receivedAt,
    requestRowId: input.requestRowId,
    windowMinutes: input.windowMinutes,
  });
  const fields = leadFields(input.body);
  const leadId = randomUUID();
  const observationPayload: LeadBody = { lead_id: leadId, lead: normalisedLead(input.body) };
  // A winner that rolled back frees the key again; a second pass then inserts (bounded, never a loop).
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const inserted = await pool.query<{ id: string; observation_id: number }>({
      name: 'leads.insert',
      text: INSERT_LEAD,
      values: [
        leadId,
        input.requestRowId,
        input.receivedAt,
        key,
        input.idempotencyKey,
        input.xRequestId,
        bodySha256,
        fields.click_id,
        fields.country,
        fields.creo,
        fields.description,
        fields.domain,
        fields.email,
        fields.firstName,
        fields.ip,
        fields.lang,
        fields.lastName,
        fields.marker,
        fields.offer,
        fields.phone,
        fields.sourcetype,
        JSON.stringify(input.body),
        input.requestId,
        JSON.stringify(observationPayload),
      ],
    });
    const created = inserted.rows[0];
    if (created) {
      return {
        outcome: 'created',
        leadId: created.id,
        observationId: Number(created.observation_id),
        observationPayload,
      };
    }
    const repeat = await pool.query<{
      id: string;
      request_id: number;
      body_sha256: string;
      observation_id: number;
    }>({
      name: 'leads.mark-repeat',
      text: MARK_REPEAT,
      values: [key, input.requestRowId, bodySha256],
    });
    const existing = repeat.rows[0];
    if (!existing) continue;
    // Another worker (the re-drive) normalised this very request first: it is still this request's lead.
    if (Number(existing.request_id) === input.requestRowId) {
      return {
        outcome: 'created',
        leadId: existing.id,
        observationId: Number(existing.observation_id),
        observationPayload: null,
      };
    }
    return { outcome: existing.body_sha256 === bodySha256 ? 'duplicate' : 'conflict', leadId: existing.id };
  }
  throw new Error(`lead key ${key} conflicted but its lead cannot be found`);
}
