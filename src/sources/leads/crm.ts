import type { Pool } from '../../db/pool';
import { withTransaction } from '../../db/pool';
import type { LeadStatus } from './contract';

/** A lead as the CRM endpoints show it: the contract's field names, plus the CRM state and the person. */
export interface LeadSummary {
  id: string;
  status: LeadStatus;
  assignedTo: string | null;
  createdAt: string;
  updatedAt: string;
  personId: string | null;
  click_id: string | null;
  country: string | null;
  creo: string | null;
  description: string | null;
  domain: string | null;
  email: string | null;
  firstName: string | null;
  ip: string | null;
  lang: string | null;
  lastName: string | null;
  marker: string | null;
  offer: string | null;
  phone: string | null;
  sourcetype: string | null;
}

export interface RawRequestView {
  id: number;
  receivedAt: string;
  state: string;
  reason: string | null;
  requestId: string;
  xRequestId: string | null;
  idempotencyKey: string | null;
  contentType: string | null;
  userAgent: string | null;
  forwardedFor: string | null;
  remoteAddr: string | null;
  bodyBytes: number;
  /** The body as text when it is valid UTF-8, else null and `bodyBase64` holds the bytes. */
  body: string | null;
  bodyBase64?: string;
}

export interface LeadDetail extends LeadSummary {
  observationId: number;
  idempotencyKey: string | null;
  xRequestId: string | null;
  /** The JSON object as sent, unknown keys included. */
  payload: unknown;
  rawRequest: RawRequestView;
  /** Later requests answered with this lead: `duplicate` (same body) or `conflict` (same key, other body). */
  repeats: { id: number; receivedAt: string; state: string; requestId: string }[];
}

export interface LeadFilters {
  status?: LeadStatus[];
  assignedTo?: string;
  sourcetype?: string;
  offer?: string;
  marker?: string;
  domain?: string;
  country?: string;
  email?: string;
  from?: Date;
  /** Exclusive upper bound. */
  before?: Date;
}

const SUMMARY_COLUMNS = `
  l.id, l.status, l.assigned_to AS "assignedTo", l.created_at AS "createdAt", l.updated_at AS "updatedAt",
  o.person_id AS "personId", l.click_id, l.country, l.creo, l.description, l.domain, l.email,
  l.first_name AS "firstName", l.ip, l.lang, l.last_name AS "lastName", l.marker, l.offer, l.phone, l.sourcetype`;

interface SummaryRow extends Omit<LeadSummary, 'createdAt' | 'updatedAt'> {
  createdAt: Date;
  updatedAt: Date;
}

function summaryOf(row: SummaryRow): LeadSummary {
  return { ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

/** Exact-match filters on contract fields; the column names come from this list only. */
const EXACT_FILTERS = {
  assignedTo: 'l.assigned_to',
  sourcetype: 'l.sourcetype',
  offer: 'l.offer',
  marker: 'l.marker',
  domain: 'l.domain',
} as const satisfies Partial<Record<keyof LeadFilters, string>>;

function whereClause(filters: LeadFilters): { sql: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const add = (condition: (placeholder: string) => string, value: unknown) => {
    values.push(value);
    conditions.push(condition(`$${values.length}`));
  };
  if (filters.status) add((p) => `l.status = ANY(${p}::text[])`, filters.status);
  for (const [name, column] of Object.entries(EXACT_FILTERS)) {
    const value = filters[name as keyof typeof EXACT_FILTERS];
    if (value !== undefined) add((p) => `${column} = ${p}`, value);
  }
  if (filters.country !== undefined) add((p) => `upper(l.country) = upper(${p})`, filters.country);
  if (filters.email !== undefined) add((p) => `lower(l.email) = lower(${p})`, filters.email.trim());
  if (filters.from) add((p) => `l.created_at >= ${p}`, filters.from);
  if (filters.before) add((p) => `l.created_at < ${p}`, filters.before);
  return { sql: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', values };
}

export async function listLeads(
  pool: Pool,
  filters: LeadFilters,
  page: { limit: number; skip: number },
): Promise<{ items: LeadSummary[]; totalCount: number }> {
  const where = whereClause(filters);
  const limitAt = where.values.length + 1;
  const [items, count] = await Promise.all([
    pool.query<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS}
         FROM leads l JOIN observations o ON o.id = l.observation_id
         ${where.sql}
        ORDER BY l.created_at DESC, l.id DESC
        LIMIT $${limitAt} OFFSET $${limitAt + 1}`,
      [...where.values, page.limit, page.skip],
    ),
    pool.query<{ total: number }>(`SELECT count(*)::int AS total FROM leads l ${where.sql}`, where.values),
  ]);
  return { items: items.rows.map(summaryOf), totalCount: count.rows[0]!.total };
}

export async function getLead(pool: Pool, id: string): Promise<LeadDetail | null> {
  const { rows } = await pool.query<
    SummaryRow & {
      observationId: number;
      idempotencyKey: string | null;
      xRequestId: string | null;
      payload: unknown;
      raw: Omit<RawRequestView, 'body' | 'bodyBase64' | 'receivedAt'> & {
        receivedAt: string;
        bodyHex: string | null;
      };
      repeats: LeadDetail['repeats'] | null;
    }
  >(
    `SELECT ${SUMMARY_COLUMNS}, l.observation_id AS "observationId", l.idempotency_key AS "idempotencyKey",
            l.x_request_id AS "xRequestId", l.payload,
            (SELECT json_build_object(
                      'id', r.id, 'receivedAt', r.received_at, 'state', r.state, 'reason', r.reason,
                      'requestId', r.request_id, 'xRequestId', r.x_request_id, 'idempotencyKey', r.idempotency_key,
                      'contentType', r.content_type, 'userAgent', r.user_agent, 'forwardedFor', r.forwarded_for,
                      'remoteAddr', r.remote_addr, 'bodyBytes', r.body_bytes, 'bodyHex', encode(r.body, 'hex'))
               FROM lead_requests r WHERE r.id = l.request_id) AS raw,
            (SELECT json_agg(json_build_object('id', r.id, 'receivedAt', r.received_at, 'state', r.state,
                                               'requestId', r.request_id) ORDER BY r.id)
               FROM lead_requests r WHERE r.lead_id = l.id AND r.id <> l.request_id) AS repeats
       FROM leads l JOIN observations o ON o.id = l.observation_id
      WHERE l.id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return null;
  const { raw, repeats, observationId, idempotencyKey, xRequestId, payload, ...summary } = row;
  const { bodyHex, ...request } = raw;
  return {
    ...summaryOf(summary),
    observationId,
    idempotencyKey,
    xRequestId,
    payload,
    rawRequest: {
      ...request,
      receivedAt: new Date(request.receivedAt).toISOString(),
      ...bodyView(bodyHex === null ? null : Buffer.from(bodyHex, 'hex')),
    },
    repeats: (repeats ?? []).map((repeat) => ({
      ...repeat,
      receivedAt: new Date(repeat.receivedAt).toISOString(),
    })),
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function bodyView(body: Buffer | null): { body: string | null; bodyBase64?: string } {
  if (body === null) return { body: null };
  try {
    return { body: strictUtf8.decode(body) };
  } catch {
    return { body: null, bodyBase64: body.toString('base64') };
  }
}

export interface LeadPatch {
  status?: LeadStatus;
  /** null unassigns. */
  assignedTo?: string | null;
}

export interface Actor {
  actor: string;
  apiKey: string | null;
  requestId: string;
}

export interface LeadChange {
  field: 'status' | 'assignedTo';
  from: string | null;
  to: string | null;
}

/** Applies the patch under the row's lock and records one history row per field that really changed. */
export async function updateLead(
  pool: Pool,
  id: string,
  patch: LeadPatch,
  actor: Actor,
): Promise<{ changes: LeadChange[] } | null> {
  return withTransaction(pool, async (client) => {
    const current = await client.query<{ status: string; assigned_to: string | null }>(
      'SELECT status, assigned_to FROM leads WHERE id = $1 FOR UPDATE',
      [id],
    );
    const before = current.rows[0];
    if (!before) return null;
    const status = patch.status ?? before.status;
    const assignedTo = patch.assignedTo === undefined ? before.assigned_to : patch.assignedTo;
    const changes: LeadChange[] = [];
    if (status !== before.status) changes.push({ field: 'status', from: before.status, to: status });
    if (assignedTo !== before.assigned_to) {
      changes.push({ field: 'assignedTo', from: before.assigned_to, to: assignedTo });
    }
    if (changes.length === 0) return { changes };
    await client.query('UPDATE leads SET status = $2, assigned_to = $3, updated_at = now() WHERE id = $1', [
      id,
      status,
      assignedTo,
    ]);
    await client.query(
      `INSERT INTO lead_history (lead_id, actor, api_key, request_id, field, old_value, new_value)
       SELECT $1, $2, $3, $4, field, old_value, new_value
         FROM unnest($5::text[], $6::text[], $7::text[]) AS change(field, old_value, new_value)`,
      [
        id,
        actor.actor,
        actor.apiKey,
        actor.requestId,
        changes.map((change) => change.field),
        changes.map((change) => change.from),
        changes.map((change) => change.to),
      ],
    );
    return { changes };
  });
}

export interface HistoryEntry {
  id: number;
  changedAt: string;
  actor: string;
  apiKey: string | null;
  requestId: string | null;
  field: 'status' | 'assignedTo';
  from: string | null;
  to: string | null;
}

/** Oldest first; null when there is no such lead. */
export async function leadHistory(pool: Pool, id: string): Promise<HistoryEntry[] | null> {
  const { rows } = await pool.query<
    Omit<HistoryEntry, 'changedAt'> & { changedAt: Date | null; lead: boolean }
  >(
    `SELECT h.id, h.changed_at AS "changedAt", h.actor, h.api_key AS "apiKey", h.request_id AS "requestId",
            h.field, h.old_value AS "from", h.new_value AS "to", true AS lead
       FROM leads l LEFT JOIN lead_history h ON h.lead_id = l.id
      WHERE l.id = $1
      ORDER BY h.id`,
    [id],
  );
  if (rows.length === 0) return null;
  return rows
    .filter((row) => row.id !== null)
    .map(({ lead: _lead, changedAt, ...entry }) => ({ ...entry, changedAt: changedAt!.toISOString() }));
}
