import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import request from 'supertest';
import { LEAD_FIELDS } from '../../../src/sources/leads/contract';
import {
  contentEncoding,
  contentType,
  extreme,
  extremeText,
  fieldValue,
  jsonText,
  objectKey,
  rawStringBytes,
  sqlishString,
} from './arbitraries';
import type { FuzzProperty, FuzzTarget } from './harness';
import { LEAD_WINDOW_MINUTES, fail, fuzzProperty, perTarget, put, sendBytes, storable } from './harness';

/** leadCRM's error codes and their statuses (src/sources/leads/README.md), the only error answers allowed. */
const LEAD_ERRORS: Record<string, number> = {
  invalid_payload: 400,
  undecodable_body: 400,
  payload_too_large: 413,
  unsupported_encoding: 415,
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const COLUMNS: Record<string, string> = { firstName: 'first_name', lastName: 'last_name' };

interface LeadSent {
  body: Buffer;
  contentType?: string | undefined;
  contentEncoding?: string | undefined;
  idempotencyKey?: string | undefined;
}

interface LeadAnswer {
  status: number;
  body: { ok?: unknown; lead_id?: unknown; deduplicated?: unknown; error?: unknown };
}

const windowOf = (at: number) => Math.floor(at / (LEAD_WINDOW_MINUTES * 60_000));

/**
 * The leadCRM contract on every answer: 201 `{ok, lead_id, deduplicated: false}` for a new lead and 409 with the
 * original id for a repeat, the documented `{ok: false, error}` otherwise, never a 5xx; an input sent twice is
 * the same lead (or the same error) twice.
 */
class LeadOracle {
  /** Idempotency-Key → lead id. */
  private readonly byKey = new Map<string, string>();

  constructor(private readonly target: FuzzTarget) {}

  async post(sent: LeadSent): Promise<LeadAnswer> {
    let req = request(this.target.server).post('/api/lead');
    if (sent.contentType !== undefined) req = req.set('content-type', sent.contentType);
    if (sent.contentEncoding !== undefined) req = req.set('content-encoding', sent.contentEncoding);
    if (sent.idempotencyKey !== undefined) req = req.set('idempotency-key', sent.idempotencyKey);
    const res = await sendBytes(req, sent.body);
    return { status: res.status, body: (res.body ?? {}) as LeadAnswer['body'] };
  }

  async deliver(sent: LeadSent): Promise<LeadAnswer> {
    const window = windowOf(Date.now());
    const first = await this.post(sent);
    this.checkShape(first);
    const again = await this.post(sent);
    this.checkShape(again);
    const sameWindow = windowOf(Date.now()) === window;
    if (first.body.ok === true) {
      const key = sent.idempotencyKey?.trim() || undefined;
      const known = key === undefined ? undefined : this.byKey.get(key);
      if (known !== undefined && (first.status !== 409 || first.body.lead_id !== known)) {
        fail('a reused Idempotency-Key made another lead', { sent: key, known, first });
      }
      if (key !== undefined) this.byKey.set(key, String(first.body.lead_id));
      if (
        (key !== undefined || sameWindow) &&
        (again.status !== 409 || again.body.lead_id !== first.body.lead_id)
      ) {
        fail('a re-send is not the same lead', { first, again });
      }
      const { rows } = await this.target.db.pool.query('SELECT 1 FROM leads WHERE id = $1', [
        first.body.lead_id,
      ]);
      if (rows.length !== 1) fail('an acknowledged lead is not stored', first);
    } else if (again.status !== first.status || again.body.error !== first.body.error) {
      fail('the same input got a different answer', { first, again });
    }
    return first;
  }

  private checkShape(answer: LeadAnswer): void {
    const { status, body } = answer;
    if (status === 201 || status === 409) {
      if (body.ok !== true || typeof body.lead_id !== 'string' || !UUID.test(body.lead_id)) {
        fail('an acknowledgement without a lead id', answer);
      }
      if (body.deduplicated !== (status === 409)) fail('deduplicated does not match the status', answer);
      return;
    }
    if (body.ok !== false || typeof body.error !== 'string' || LEAD_ERRORS[body.error] !== status) {
      fail('not a documented leadCRM answer', answer);
    }
  }
}

const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

const anyBody: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: jsonText.map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: rawStringBytes },
  { weight: 1, arbitrary: sqlishString.map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: extreme.map((shape) => Buffer.from(extremeText(shape))) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
);

const leadBody = fc.record({
  fields: fc.array(fc.tuple(fc.constantFrom(...LEAD_FIELDS), fieldValue), { maxLength: LEAD_FIELDS.length }),
  extra: fc.array(fc.tuple(objectKey, fieldValue), { maxLength: 3 }),
});

/** What a contract column holds for a JSON value: the service's coercion after PostgreSQL's text repair. */
function columnValue(value: unknown): string | null {
  const repaired = JSON.parse(
    JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' ? storable(item) : item)) ??
      'null',
  ) as unknown;
  if (repaired === undefined || repaired === null) return null;
  if (typeof repaired === 'string') return repaired.trim() === '' ? null : repaired.trim();
  if (typeof repaired === 'number') return Number.isFinite(repaired) ? String(repaired) : null;
  if (typeof repaired === 'boolean') return String(repaired);
  return 'json';
}

const oracleOf = perTarget((target) => new LeadOracle(target));

export const LEAD_PROPERTIES: FuzzProperty[] = [
  fuzzProperty('lead: arbitrary bodies, content types, encodings and idempotency keys', (target) =>
    fc.asyncProperty(
      fc.record({
        body: anyBody,
        contentType,
        contentEncoding,
        idempotencyKey: fc.option(headerText, { nil: undefined }),
      }),
      async (sent) => {
        await oracleOf(target).deliver(sent);
      },
    ),
  ),
  fuzzProperty(
    'lead: real-shaped leads with arbitrary values in every field are stored once, as sent',
    (target) =>
      fc.asyncProperty(leadBody, async (input) => {
        const body: Record<string, unknown> = {};
        for (const [field, value] of input.fields) put(body, field, value);
        for (const [key, value] of input.extra) put(body, key, value);
        const answer = await oracleOf(target).deliver({
          body: Buffer.from(JSON.stringify(body)),
          contentType: 'application/json',
          idempotencyKey: `fuzz-${randomUUID()}`,
        });
        if (answer.status !== 201) fail('a JSON object with a new key is not a new lead', answer);
        const { rows } = await target.db.pool.query<Record<string, string | null>>(
          'SELECT * FROM leads WHERE id = $1',
          [answer.body.lead_id],
        );
        for (const field of LEAD_FIELDS) {
          if (!Object.prototype.hasOwnProperty.call(body, field)) continue;
          const expected = columnValue(body[field]);
          const stored = rows[0]![COLUMNS[field] ?? field] ?? null;
          if (expected === 'json' ? stored === null : stored !== expected) {
            fail(`${field} was not stored as sent`, { sent: body[field], stored });
          }
        }
      }),
  ),
];
