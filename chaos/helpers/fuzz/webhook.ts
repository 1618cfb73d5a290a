import fc from 'fast-check';
import request from 'supertest';
import type { Fixture } from '../../../__tests__/helpers/fixtures';
import { loadFixtures } from '../../../__tests__/helpers/fixtures';
import type { Extreme } from './arbitraries';
import {
  anyString,
  contentEncoding,
  contentType,
  extreme,
  extremeText,
  fieldValue,
  jsonText,
  objectKey,
  rawStringBytes,
} from './arbitraries';
import type { FuzzProperty, FuzzTarget } from './harness';
import {
  assertCatalogueError,
  assertNoServerError,
  fail,
  fuzzProperty,
  perTarget,
  put,
  sendBytes,
  storable,
} from './harness';

interface Sent {
  body: Buffer;
  contentType?: string | undefined;
  contentEncoding?: string | undefined;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * The webhook's contract, checked on every answer: never a 5xx; a 200 names the one row holding the event
 * (new the first time its key is seen, a duplicate of the same row after); a 4xx is a catalogue error that the
 * same input gets again, and a body that was read but refused is kept in rejected_inputs.
 */
export class WebhookOracle {
  /** event_key → observation id: the model of what the database must hold. */
  private readonly stored = new Map<string, number>();

  constructor(private readonly target: FuzzTarget) {}

  async post(sent: Sent): Promise<Answer> {
    let req = request(this.target.server).post('/api/webhook');
    if (sent.contentType !== undefined) req = req.set('content-type', sent.contentType);
    if (sent.contentEncoding !== undefined) req = req.set('content-encoding', sent.contentEncoding);
    const res = await sendBytes(req, sent.body);
    return { status: res.status, body: (res.body ?? {}) as Record<string, unknown> };
  }

  /** Posts, checks the answer, re-sends and checks the repeat. Answers the first answer. */
  async deliver(sent: Sent): Promise<Answer> {
    const first = await this.post(sent);
    assertNoServerError(first.status, first.body);
    if (first.status === 200) {
      await this.checkStored(first, sent);
      const again = await this.post(sent);
      if (again.status !== 200 || again.body.duplicate !== true) fail('a re-send is not a duplicate', again);
      if (again.body.observation_id !== first.body.observation_id) fail('a re-send names another row', again);
      return first;
    }
    const code = assertCatalogueError(first.status, first.body);
    const again = await this.post(sent);
    if (again.status !== first.status || again.body.error !== code) {
      fail('the same input got a different error', { first: first.body, again: again.body });
    }
    // Bodies that were read but do not decompress, are not JSON or not a valid envelope are kept with their
    // bytes (README).
    if (KEPT_REJECTIONS.has(code)) {
      const details = first.body.details as { rejectedInputId?: unknown } | undefined;
      const { rows } = await this.target.db.pool.query('SELECT 1 FROM rejected_inputs WHERE id = $1', [
        details?.rejectedInputId,
      ]);
      if (rows.length !== 1) fail('a rejected input was not kept', first.body);
    }
    return first;
  }

  private async checkStored(answer: Answer, sent: Sent): Promise<void> {
    const { event_key: key, observation_id: id, duplicate } = answer.body;
    if (typeof key !== 'string' || typeof id !== 'number')
      fail('a 200 without event_key / observation_id', answer);
    const known = this.stored.get(key);
    if (known === undefined && duplicate !== false) fail('a first delivery answered as a duplicate', answer);
    if (known !== undefined && (duplicate !== true || known !== id))
      fail('a repeat is not the original', answer);
    this.stored.set(key, id);
    const { rows } = await this.target.db.pool.query<{ id: number; raw_body: Buffer | null }>(
      'SELECT id, raw_body FROM observations WHERE event_key = $1',
      [key],
    );
    if (rows.length !== 1 || rows[0]!.id !== id)
      fail('the event is not stored exactly once', { answer, rows });
    if (known === undefined && !isWellFormedUtf8(sent.body) && !rows[0]!.raw_body?.equals(sent.body)) {
      fail('the exact bytes of a repaired body were not kept', answer);
    }
  }
}

/** Rejections answered after the body was read, whose bytes the service keeps in rejected_inputs. */
const KEPT_REJECTIONS = new Set([
  'INVALID_JSON',
  'INVALID_PAYLOAD',
  'UNDECODABLE_BODY',
  'UNSUPPORTED_ENCODING',
]);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
function isWellFormedUtf8(bytes: Buffer): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const FIXTURES = loadFixtures();
/** Fixtures are drawn by index, so a counterexample prints as a number rather than a whole payload. */
const fixtureIndex = (filter: (item: Fixture) => boolean = () => true) =>
  fc.constantFrom(...FIXTURES.filter(filter).map((item) => item.index));
const fixtureAt = (index: number) => FIXTURES.find((item) => item.index === index)!;
const ENVELOPE_KEYS = ['userid', 'time', 'type', 'event', 'messagecontext', 'data'];
/** Fields the envelope schema accepts any string for (PROFILE_TEXT_FIELDS less the identity and time ones). */
const FREE_TEXT_FIELDS = [
  'First Name',
  'Middle Name',
  'Last Name',
  'Summary',
  'Title',
  'Company',
  'Location',
  'Industry',
];

let uniqueEvent = 0;

/** A fixture with a fresh identity (data.id and event time), so its first delivery must create a row. */
function freshCopy(index: number): Record<string, unknown> & { data: Record<string, unknown> } {
  const payload = structuredClone(fixtureAt(index).payload);
  uniqueEvent += 1;
  const stamp = 1_760_000_000_000 + uniqueEvent * 1000 + Math.floor(Math.random() * 1000);
  payload.data.id = `id.fuzz${Date.now()}${uniqueEvent}`;
  if ('VisitTime' in payload.data) payload.data.VisitTime = stamp;
  if ('ScanTime' in payload.data) payload.data.ScanTime = stamp;
  return payload;
}

const realShaped = fc.record({
  fixture: fixtureIndex(),
  fresh: fc.boolean(),
  dataChanges: fc.array(fc.tuple(fc.nat(), fieldValue), { maxLength: 6 }),
  envelopeChanges: fc.array(fc.tuple(fc.constantFrom(...ENVELOPE_KEYS), fieldValue), { maxLength: 2 }),
  extraKeys: fc.array(fc.tuple(objectKey, fieldValue), { maxLength: 3 }),
  contentType: fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    undefined,
  ),
});

const freeText = fc.record({
  fixture: fixtureIndex((item) => item.kind !== 'other'),
  values: fc.array(fc.tuple(fc.constantFrom(...FREE_TEXT_FIELDS), anyString), { minLength: 1, maxLength: 4 }),
});

const oracleOf = perTarget((target) => new WebhookOracle(target));

export const WEBHOOK_PROPERTIES: FuzzProperty[] = [
  fuzzProperty('webhook: arbitrary JSON bodies, content types and encodings', (target) =>
    fc.asyncProperty(fc.tuple(jsonText, contentType, contentEncoding), async ([text, type, encoding]) => {
      await oracleOf(target).deliver({
        body: Buffer.from(text),
        contentType: type,
        contentEncoding: encoding,
      });
    }),
  ),
  fuzzProperty(
    'webhook: real-shaped payloads with arbitrary values in every field, prototype keys included',
    (target) =>
      fc.asyncProperty(realShaped, async (input) => {
        const payload = input.fresh
          ? freshCopy(input.fixture)
          : structuredClone(fixtureAt(input.fixture).payload);
        const dataKeys = Object.keys(payload.data);
        for (const [index, value] of input.dataChanges)
          put(payload.data, dataKeys[index % dataKeys.length]!, value);
        for (const [key, value] of input.extraKeys) put(payload.data, key, value);
        // Last: `data` itself may be replaced by something that is not an object.
        for (const [key, value] of input.envelopeChanges) put(payload, key, value);
        await oracleOf(target).deliver({
          body: Buffer.from(JSON.stringify(payload)),
          contentType: input.contentType,
        });
      }),
  ),
  fuzzProperty(
    'webhook: any string in a free-text field of a valid event is accepted and stored as sent',
    (target) =>
      fc.asyncProperty(freeText, async (input) => {
        const payload = freshCopy(input.fixture);
        for (const [field, value] of input.values) put(payload.data, field, value);
        const answer = await oracleOf(target).deliver({ body: Buffer.from(JSON.stringify(payload)) });
        if (answer.status !== 200) fail('a valid event was refused', answer);
        const { rows } = await target.db.pool.query<{ data: Record<string, unknown> }>(
          `SELECT payload->'data' AS data FROM observations WHERE id = $1`,
          [answer.body.observation_id],
        );
        for (const [field] of input.values) {
          const sent = payload.data[field] as string;
          if (rows[0]?.data[field] !== storable(sent))
            fail(`${field} was not stored as sent`, { sent, rows });
        }
      }),
  ),
  fuzzProperty('webhook: invalid UTF-8 and raw control bytes inside a real payload', (target) =>
    fc.asyncProperty(
      fc.tuple(fixtureIndex(), fc.constantFrom(...FREE_TEXT_FIELDS), rawStringBytes),
      async ([fixture, field, bytes]) => {
        const payload = freshCopy(fixture);
        put(payload.data, field, '\u0001SPLICE\u0001');
        const [before, after] = JSON.stringify(payload).split('"\\u0001SPLICE\\u0001"') as [string, string];
        await oracleOf(target).deliver({
          body: Buffer.concat([Buffer.from(`${before}"`), bytes, Buffer.from(`"${after}`)]),
        });
      },
    ),
  ),
  fuzzProperty(
    'webhook: deep nesting, huge arrays and wide objects, alone or inside a real payload',
    (target) =>
      fc.asyncProperty(
        fc.tuple(extreme, fc.constantFrom('body', 'My Tags', 'extended', 'data'), fixtureIndex()),
        async ([shape, where, fixture]: [Extreme, string, number]) => {
          const text = extremeText(shape);
          if (where === 'body') return void (await oracleOf(target).deliver({ body: Buffer.from(text) }));
          const payload = freshCopy(fixture);
          const slot = where === 'data' ? 'data' : `data.${where}`;
          put(
            where === 'data' ? payload : payload.data,
            where === 'data' ? 'data' : where,
            '\u0001SPLICE\u0001',
          );
          const [before, after] = JSON.stringify(payload).split('"\\u0001SPLICE\\u0001"') as [string, string];
          const answer = await oracleOf(target).deliver({ body: Buffer.from(`${before}${text}${after}`) });
          if (answer.status === 413 && Buffer.byteLength(before + text + after) <= 1024 * 1024) {
            fail(`a body under the limit was refused as too large (${slot})`, answer);
          }
        },
      ),
  ),
];
