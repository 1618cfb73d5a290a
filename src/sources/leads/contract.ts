import { createHash } from 'node:crypto';
import { parseJsonBody } from '../../ingest/json-body';

/** The fields the leadCRM PHP sender posts, by the names it uses (a snake / camel mix), all optional strings. */
export const LEAD_FIELDS = [
  'click_id',
  'country',
  'creo',
  'description',
  'domain',
  'email',
  'firstName',
  'ip',
  'lang',
  'lastName',
  'marker',
  'offer',
  'phone',
  'sourcetype',
] as const;

export type LeadField = (typeof LEAD_FIELDS)[number];
export type LeadFields = Record<LeadField, string | null>;
export type LeadBody = Record<string, unknown>;

/** CRM statuses a lead can be in; every lead starts `new`. */
export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'won', 'lost', 'spam'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

/** Why a stored request did not become a lead (lead_requests.reason). */
export type RejectionReason =
  | 'empty_body'
  | 'malformed_json'
  | 'form_encoded'
  | 'multipart'
  | 'too_deep'
  | 'not_object'
  | 'too_large'
  | 'unsupported_encoding'
  | 'undecodable_body'
  | 'unreadable_body';

export type ParsedLeadBody =
  { ok: true; body: LeadBody } | { ok: false; reason: RejectionReason; detail: string };

/**
 * The body as a JSON object, whatever the content type says (PHP's cURL labels a JSON string
 * `application/x-www-form-urlencoded` unless told otherwise). Anything else says why it is not a lead.
 */
export function parseLeadBody(body: Buffer, contentType: string | null): ParsedLeadBody {
  const parsed = parseJsonBody(body);
  if (!parsed.ok) {
    if (parsed.reason === 'empty body') return { ok: false, reason: 'empty_body', detail: 'empty body' };
    if (parsed.code === 'INVALID_PAYLOAD') return { ok: false, reason: 'too_deep', detail: parsed.reason };
    return { ok: false, reason: unparsableReason(contentType), detail: parsed.reason };
  }
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return { ok: false, reason: 'not_object', detail: `the body is ${kind}, not a JSON object` };
  }
  return { ok: true, body: value as LeadBody };
}

function unparsableReason(contentType: string | null): RejectionReason {
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return 'form_encoded';
  if (type.startsWith('multipart/')) return 'multipart';
  return 'malformed_json';
}

/**
 * A contract field as text: strings trimmed (empty → null), numbers and booleans spelled out (`0` and `false`
 * stay distinct from missing), objects and arrays as their JSON. Never throws.
 */
export function coerceField(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? null : trimmed;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value);
}

/** Own properties only: a `__proto__` key in the JSON is plain data, never a prototype. */
function ownValue(body: LeadBody, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(body, key) ? body[key] : undefined;
}

export function leadFields(body: LeadBody): LeadFields {
  return Object.fromEntries(
    LEAD_FIELDS.map((field) => [field, coerceField(ownValue(body, field))]),
  ) as LeadFields;
}

/** What the lead's observation carries: contract fields coerced (missing ones left out), other keys as sent. */
export function normalisedLead(body: LeadBody): LeadBody {
  const fields = leadFields(body);
  const known = new Set<string>(LEAD_FIELDS);
  return Object.fromEntries([
    ...LEAD_FIELDS.filter((field) => fields[field] !== null).map((field) => [field, fields[field]]),
    ...Object.entries(body).filter(([key]) => !known.has(key)),
  ]) as LeadBody;
}

/** JSON with object keys sorted at every level: equal for bodies that differ only in key order or spacing. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface DedupInput {
  idempotencyKey: string | null;
  bodySha256: string;
  receivedAt: Date;
  requestRowId: number;
  windowMinutes: number;
}

/**
 * The unique key a lead is stored under. A sender's Idempotency-Key is global, as in leadCRM. Without one, the
 * same canonical body received within the same window bucket (UTC epoch divided into windows of
 * LEAD_DEDUP_WINDOW_MINUTES; with 10: 10:00:00.000–10:09:59.999, 10:10:00.000–…) is the same lead; a window of 0
 * turns that off. Hashed so that any key length fits the unique index.
 */
export function dedupKey(input: DedupInput): string {
  if (input.idempotencyKey !== null) return `key:${sha256(input.idempotencyKey)}`;
  if (input.windowMinutes <= 0) return `request:${input.requestRowId}`;
  return `auto:${input.bodySha256}:${windowBucket(input.receivedAt, input.windowMinutes)}`;
}

export function windowBucket(at: Date, windowMinutes: number): number {
  return Math.floor(at.getTime() / (windowMinutes * 60_000));
}

/** The Idempotency-Key header, or null when absent or blank (leadCRM: `|| null`). */
export function idempotencyKeyOf(header: string | undefined | null): string | null {
  if (header === undefined || header === null) return null;
  const trimmed = header.trim();
  return trimmed === '' ? null : trimmed;
}
