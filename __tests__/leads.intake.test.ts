import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';
import { freePort } from '../src/db/embedded';
import { createPool } from '../src/db/pool';
import { redriveLeads } from '../src/sources/leads';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The README's example lead, exactly as the PHP sender posts it. */
const SAMPLE = {
  click_id: '12345',
  country: 'LV',
  creo: 'banner-1',
  description: 'Interested in trading',
  domain: 'example.com',
  email: 'john.doe@mail.lv',
  firstName: 'John',
  ip: '192.168.1.1',
  lang: 'lv',
  lastName: 'Doe',
  marker: 'Pureshka',
  offer: 'Baltic Capital Native',
  phone: '+371123456789',
  sourcetype: 'web',
};

interface RequestRow {
  id: number;
  received_at: Date;
  request_id: string;
  x_request_id: string | null;
  idempotency_key: string | null;
  content_type: string | null;
  user_agent: string | null;
  forwarded_for: string | null;
  body: Buffer | null;
  body_bytes: number;
  state: string;
  reason: string | null;
  detail: string | null;
  lead_id: string | null;
}

let db: TestDatabase;
let app: Express;

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db).app;
});
afterAll(() => db.drop());

function requestRows(requestId: string): Promise<RequestRow[]> {
  return db.pool
    .query<RequestRow>('SELECT * FROM lead_requests WHERE request_id = $1 ORDER BY id', [requestId])
    .then((result) => result.rows);
}

async function leadRow(id: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.pool.query('SELECT * FROM leads WHERE id = $1', [id]);
  return rows[0] as Record<string, unknown> | undefined;
}

function postJson(body: unknown, headers: Record<string, string> = {}, target: Express = app) {
  return request(target)
    .post('/api/lead')
    .set({ 'content-type': 'application/json', ...headers })
    .send(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Milliseconds until the current dedup window (10 minutes by default) ends; waits it out when nearly over. */
async function awayFromWindowEdge(windowMinutes = 10): Promise<void> {
  const windowMs = windowMinutes * 60_000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < 3000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

describe('POST /api/lead: the leadCRM contract', () => {
  it('a new lead → 201 {ok, lead_id, deduplicated: false}; stored raw first with the headers that matter', async () => {
    const requestId = `req-${randomUUID()}`;
    const key = randomUUID();
    const sent = JSON.stringify(SAMPLE);
    const res = await request(app)
      .post('/api/lead')
      .set({
        'content-type': 'application/json',
        'idempotency-key': key,
        'x-request-id': requestId,
        'user-agent': 'PHP-leadsender/1.0',
        'x-forwarded-for': '203.0.113.9',
      })
      .send(sent);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ ok: true, lead_id: expect.stringMatching(UUID), deduplicated: false });
    expect(res.headers['x-request-id']).toBe(requestId);

    const [raw] = await requestRows(requestId);
    expect(raw).toMatchObject({
      x_request_id: requestId,
      idempotency_key: key,
      content_type: 'application/json',
      user_agent: 'PHP-leadsender/1.0',
      forwarded_for: '203.0.113.9',
      body_bytes: Buffer.byteLength(sent),
      state: 'accepted',
      reason: null,
      lead_id: res.body.lead_id,
    });
    expect(raw!.body!.toString('utf8')).toBe(sent);

    const lead = await leadRow(res.body.lead_id);
    expect(lead).toMatchObject({
      request_id: raw!.id,
      idempotency_key: key,
      x_request_id: requestId,
      click_id: '12345',
      country: 'LV',
      email: 'john.doe@mail.lv',
      first_name: 'John',
      last_name: 'Doe',
      phone: '+371123456789',
      sourcetype: 'web',
      status: 'new',
      assigned_to: null,
      payload: SAMPLE,
    });
    expect((lead!.created_at as Date).getTime()).toBe(raw!.received_at.getTime());
  });

  it('each lead is also an observation (source lead, kind lead, event create) written with it', async () => {
    const res = await postJson({ ...SAMPLE, utm_campaign: 'spring' });
    expect(res.status).toBe(201);
    const { rows } = await db.pool.query(
      `SELECT o.source, o.kind, o.event, o.event_key, o.status, o.payload, o.event_time, l.created_at
         FROM leads l JOIN observations o ON o.id = l.observation_id WHERE l.id = $1`,
      [res.body.lead_id],
    );
    expect(rows[0]).toMatchObject({
      source: 'lead',
      kind: 'lead',
      event: 'create',
      event_key: `lead:${res.body.lead_id}`,
      status: 'pending',
      payload: { lead_id: res.body.lead_id, lead: { ...SAMPLE, utm_campaign: 'spring' } },
    });
    expect(rows[0].event_time.getTime()).toBe(rows[0].created_at.getTime());
  });

  it('the same Idempotency-Key again → 409 {ok: true, lead_id: <original>, deduplicated: true}', async () => {
    const key = randomUUID();
    const first = await postJson(SAMPLE, { 'idempotency-key': key });
    const requestId = `req-${randomUUID()}`;
    const again = await postJson(SAMPLE, { 'idempotency-key': key, 'x-request-id': requestId });
    expect(first.status).toBe(201);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ ok: true, lead_id: first.body.lead_id, deduplicated: true });
    expect(await requestRows(requestId)).toMatchObject([
      { state: 'duplicate', reason: null, lead_id: first.body.lead_id },
    ]);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM leads WHERE idempotency_key = $1', [
      key,
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('the same body with its keys in another order and other spacing is a duplicate, not a conflict', async () => {
    const key = randomUUID();
    const first = await postJson({ email: 'order@mail.lv', firstName: 'Ann' }, { 'idempotency-key': key });
    const requestId = `req-${randomUUID()}`;
    const again = await postJson('{ "firstName" : "Ann",\n "email": "order@mail.lv" }', {
      'idempotency-key': key,
      'x-request-id': requestId,
    });
    expect(again.status).toBe(409);
    expect(again.body.lead_id).toBe(first.body.lead_id);
    expect((await requestRows(requestId))[0]!.state).toBe('duplicate');
  });

  it('a reused key with a DIFFERENT body → 409 with the original lead; the new body is kept and flagged conflict', async () => {
    const key = randomUUID();
    const first = await postJson({ email: 'first@mail.lv', offer: 'A' }, { 'idempotency-key': key });
    const requestId = `req-${randomUUID()}`;
    const conflicting = JSON.stringify({ email: 'second@mail.lv', offer: 'B' });
    const again = await postJson(conflicting, { 'idempotency-key': key, 'x-request-id': requestId });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ ok: true, lead_id: first.body.lead_id, deduplicated: true });
    const [kept] = await requestRows(requestId);
    expect(kept).toMatchObject({ state: 'conflict', reason: 'conflict', lead_id: first.body.lead_id });
    expect(kept!.body!.toString('utf8')).toBe(conflicting);
    expect(await leadRow(first.body.lead_id)).toMatchObject({ email: 'first@mail.lv', offer: 'A' });
  });

  it('every field is optional and unknown keys are kept', async () => {
    const empty = await postJson({});
    expect(empty.status).toBe(201);
    const extra = { email: 'extra@mail.lv', utm: { source: 'fb', ids: [1, 2] }, gclid: 'abc' };
    const res = await postJson(extra);
    expect(res.status).toBe(201);
    expect((await leadRow(res.body.lead_id))!.payload).toEqual(extra);
  });

  it('a "__proto__" key is kept as plain data', async () => {
    const body = '{"email":"proto@mail.lv","__proto__":{"polluted":true}}';
    const res = await postJson(body);
    expect(res.status).toBe(201);
    const lead = await leadRow(res.body.lead_id);
    expect(Object.keys(lead!.payload as object).sort()).toEqual(['__proto__', 'email']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('numbers and booleans are coerced to strings, never a 500; 0 and false stay distinct from missing', async () => {
    const res = await postJson({
      click_id: 0,
      phone: 37129123456,
      firstName: false,
      lastName: true,
      lang: null,
      marker: '',
      offer: { name: 'Gold', tier: 2 },
      creo: ['a', 'b'],
      description: 1.5e3,
    });
    expect(res.status).toBe(201);
    expect(await leadRow(res.body.lead_id)).toMatchObject({
      click_id: '0',
      phone: '37129123456',
      first_name: 'false',
      last_name: 'true',
      lang: null,
      marker: null,
      offer: '{"name":"Gold","tier":2}',
      creo: '["a","b"]',
      description: '1500',
    });
  });

  it('JSON labelled form-encoded (PHP cURL without a content type header) is still a lead', async () => {
    const res = await request(app)
      .post('/api/lead')
      .set('content-type', 'application/x-www-form-urlencoded')
      .send(JSON.stringify({ email: 'curl@mail.lv' }));
    expect(res.status).toBe(201);
    expect(await leadRow(res.body.lead_id)).toMatchObject({ email: 'curl@mail.lv' });
  });

  it('text PostgreSQL cannot store (NUL, invalid UTF-8) is repaired in the lead; the exact bytes stay raw', async () => {
    const requestId = `req-${randomUUID()}`;
    const bytes = Buffer.concat([
      Buffer.from('{"firstName":"A\\u0000B","lastName":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    const res = await request(app)
      .post('/api/lead')
      .set({ 'content-type': 'application/json', 'x-request-id': requestId })
      .serialize((raw: unknown) => raw as string) // the Buffer's exact bytes, not superagent's JSON of it
      .send(bytes);
    expect(res.status).toBe(201);
    expect(await leadRow(res.body.lead_id)).toMatchObject({ first_name: 'A\uFFFDB', last_name: '\uFFFD(' });
    expect((await requestRows(requestId))[0]!.body!.equals(bytes)).toBe(true);
  });
});

describe('bodies that are not a JSON object: 400 invalid_payload, and kept with the reason', () => {
  const cases: [string, string | undefined, string | Buffer | undefined, string][] = [
    ['malformed JSON', 'application/json', '{"email": "a@b.lv",', 'malformed_json'],
    ['an empty JSON body', 'application/json', '', 'empty_body'],
    ['no body at all', undefined, undefined, 'empty_body'],
    ['whitespace only', 'application/json', '  \n ', 'empty_body'],
    [
      'a form-encoded body',
      'application/x-www-form-urlencoded',
      'email=a%40b.lv&firstName=Ann',
      'form_encoded',
    ],
    [
      'a multipart body',
      'multipart/form-data; boundary=X',
      '--X\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.lv\r\n--X--\r\n',
      'multipart',
    ],
    ['plain text', 'text/plain', 'hello', 'malformed_json'],
    ['an array', 'application/json', '[{"email":"a@b.lv"}]', 'not_object'],
    ['null', 'application/json', 'null', 'not_object'],
    ['a string', 'application/json', '"lead"', 'not_object'],
    ['a number', 'application/json', '42', 'not_object'],
    ['JSON nested 100 levels deep', 'application/json', `${'['.repeat(100)}${']'.repeat(100)}`, 'too_deep'],
  ];

  it.each(cases)('%s', async (_name, contentType, body, reason) => {
    const requestId = `req-${randomUUID()}`;
    let call = request(app).post('/api/lead').set('x-request-id', requestId);
    if (contentType) call = call.set('content-type', contentType);
    const res = body === undefined ? await call : await call.send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ ok: false, error: 'invalid_payload' });
    const rows = await requestRows(requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      state: 'rejected',
      reason,
      lead_id: null,
      content_type: contentType ?? null,
      body_bytes: Buffer.byteLength(body ?? ''),
    });
    expect(rows[0]!.body!.toString('utf8')).toBe(body ?? '');
  });

  it('a body over LEAD_BODY_LIMIT → 413 payload_too_large, its arrival recorded without the bytes', async () => {
    const small = buildTestApp(db, { LEAD_BODY_LIMIT: '1kb' }).app;
    const requestId = `req-${randomUUID()}`;
    const res = await postJson({ description: 'x'.repeat(5000) }, { 'x-request-id': requestId }, small);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ ok: false, error: 'payload_too_large' });
    expect(await requestRows(requestId)).toMatchObject([
      { state: 'rejected', reason: 'too_large', body: null, lead_id: null },
    ]);
    expect((await requestRows(requestId))[0]!.body_bytes).toBeGreaterThan(1024);
  });
});

describe('without an Idempotency-Key: one body within one window bucket is one lead', () => {
  it('the same body twice → 201 then 409 with the same lead; another body → another lead', async () => {
    await awayFromWindowEdge();
    const body = { email: `auto-${randomUUID()}@mail.lv`, offer: 'Auto' };
    const first = await postJson(body);
    const second = await postJson({ offer: 'Auto', email: body.email });
    const other = await postJson({ ...body, offer: 'Other' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(409);
    expect(second.body).toEqual({ ok: true, lead_id: first.body.lead_id, deduplicated: true });
    expect(other.status).toBe(201);
    expect(other.body.lead_id).not.toBe(first.body.lead_id);
  });

  it('the window follows the received_at of the stored requests: same bucket → one lead, next bucket → a new one', async () => {
    const body = { email: `window-${randomUUID()}@mail.lv` };
    const stored = async (receivedAt: string, text: string) => {
      const { rows } = await db.pool.query<{ id: number }>(
        `INSERT INTO lead_requests (request_id, content_type, body, body_bytes, received_at)
         VALUES ($1, 'application/json', $2, $3, $4) RETURNING id`,
        [`req-${randomUUID()}`, Buffer.from(text), Buffer.byteLength(text), receivedAt],
      );
      return rows[0]!.id;
    };
    // Windows of 10 minutes are aligned to the epoch: 10:00:00.000–10:09:59.999, then 10:10:00.000–...
    const a = await stored('2025-03-01T10:00:00.000Z', JSON.stringify(body));
    const b = await stored('2025-03-01T10:09:59.999Z', JSON.stringify(body));
    const c = await stored('2025-03-01T10:10:00.000Z', JSON.stringify(body));
    const redriven = await redriveLeads(db.pool, { windowMinutes: 10, olderThanSeconds: 0 });
    expect(redriven).toMatchObject({ created: 2, duplicates: 1, failed: 0 });
    const { rows } = await db.pool.query<{ id: number; state: string; lead_id: string }>(
      'SELECT id, state, lead_id FROM lead_requests WHERE id = ANY($1) ORDER BY id',
      [[a, b, c]],
    );
    expect(rows.map((row) => row.state)).toEqual(['accepted', 'duplicate', 'accepted']);
    expect(rows[1]!.lead_id).toBe(rows[0]!.lead_id);
    expect(rows[2]!.lead_id).not.toBe(rows[0]!.lead_id);
  });

  it('LEAD_DEDUP_WINDOW_MINUTES=0 turns it off: the same body twice is two leads', async () => {
    const off = buildTestApp(db, { LEAD_DEDUP_WINDOW_MINUTES: '0' }).app;
    const body = { email: `off-${randomUUID()}@mail.lv` };
    const first = await postJson(body, {}, off);
    const second = await postJson(body, {}, off);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.lead_id).not.toBe(first.body.lead_id);
  });
});

describe('concurrency', () => {
  it('50 parallel posts with one key → one lead; 201 once, 409 for the rest, every answer the same lead_id', async () => {
    const key = randomUUID();
    const body = { ...SAMPLE, email: `parallel-${key}@mail.lv` };
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => postJson(body, { 'idempotency-key': key })),
    );
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(49);
    const ids = new Set(answers.map((res) => res.body.lead_id as string));
    expect(ids.size).toBe(1);
    const [leadId] = [...ids];
    const counts = await db.pool.query(
      `SELECT (SELECT count(*)::int FROM leads WHERE idempotency_key = $1) AS leads,
              (SELECT count(*)::int FROM observations WHERE event_key = 'lead:' || $2) AS observations,
              (SELECT count(*)::int FROM lead_requests WHERE idempotency_key = $1 AND state = 'accepted') AS accepted,
              (SELECT count(*)::int FROM lead_requests WHERE idempotency_key = $1 AND state = 'duplicate'
                  AND lead_id = $2::uuid) AS duplicates`,
      [key, leadId],
    );
    expect(counts.rows[0]).toEqual({ leads: 1, observations: 1, accepted: 1, duplicates: 49 });
  });
});

describe('authentication with LEAD_SECRET', () => {
  const secured = () => buildTestApp(db, { LEAD_SECRET: 's3cret-lead' }).app;

  it('accepts the secret as ?secret=, X-Lead-Secret or Bearer', async () => {
    for (const call of [
      request(secured()).post('/api/lead?secret=s3cret-lead'),
      request(secured()).post('/api/lead').set('x-lead-secret', 's3cret-lead'),
      request(secured()).post('/api/lead').set('authorization', 'Bearer s3cret-lead'),
    ]) {
      const res = await call
        .set('content-type', 'application/json')
        .send({ email: `${randomUUID()}@mail.lv` });
      expect(res.status).toBe(201);
    }
  });

  it('a missing or wrong secret → 401 unauthorized, and nothing is stored', async () => {
    const requestId = `req-${randomUUID()}`;
    const missing = await postJson(SAMPLE, { 'x-request-id': requestId }, secured());
    const wrong = await postJson(SAMPLE, { 'x-request-id': requestId, 'x-lead-secret': 'nope' }, secured());
    for (const res of [missing, wrong]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ ok: false, error: 'unauthorized' });
    }
    expect(await requestRows(requestId)).toEqual([]);
  });

  it('production without LEAD_SECRET fails closed → 403 auth_not_configured', async () => {
    const production = buildTestApp(db, { NODE_ENV: 'production' }).app;
    const res = await postJson(SAMPLE, {}, production);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ ok: false, error: 'auth_not_configured' });
  });

  it('repeated failures → 429 auth_rate_limited; LEAD_RATE_LIMIT → 429 rate_limited', async () => {
    const guarded = buildTestApp(db, { LEAD_SECRET: 'x', LEAD_AUTH_FAILURE_LIMIT: '2' }).app;
    const failures = [];
    for (let i = 0; i < 3; i += 1) failures.push(await postJson({}, { 'x-lead-secret': 'bad' }, guarded));
    expect(failures.map((res) => res.status)).toEqual([401, 401, 429]);
    expect(failures[2]!.body).toEqual({ ok: false, error: 'auth_rate_limited' });

    const limited = buildTestApp(db, { LEAD_RATE_LIMIT: '2' }).app;
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await postJson({ n: i, r: randomUUID() }, {}, limited));
    expect(answers.map((res) => res.status)).toEqual([201, 201, 429]);
    expect(answers[2]!.body).toEqual({ ok: false, error: 'rate_limited' });
  });
});

describe('failures: 503 when the database cannot commit, 500 only for the unexpected, and the re-drive', () => {
  it('before the database is ready → 503 {ok: false, error: "unavailable"} with Retry-After', async () => {
    const res = await postJson(SAMPLE, {}, buildTestApp(null).app);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ ok: false, error: 'unavailable' });
    expect(res.headers['retry-after']).toBe('5');
  });

  it('a database that refuses connections → 503 unavailable, never a 2xx', async () => {
    const deadPool = createPool({
      connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/nothing`,
      max: 2,
      connectTimeoutMs: 500,
      queryTimeoutMs: 1000,
    });
    const { app: deadApp, context } = buildTestApp(null);
    context.database.pool = deadPool;
    context.database.migrated = true;
    const res = await postJson(SAMPLE, {}, deadApp);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ ok: false, error: 'unavailable' });
    expect(res.headers['retry-after']).toBe('5');
    await deadPool.end();
  });

  describe('with the normalisation failing inside the database', () => {
    /** A trigger makes the lead insert fail after the raw request is committed, like a real mid-request failure. */
    async function failLeadInserts(sqlState: string): Promise<void> {
      await db.pool.query(`
        CREATE OR REPLACE FUNCTION fail_lead_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'simulated failure: secret internals' USING ERRCODE = '${sqlState}'; END $$`);
      await db.pool.query(
        'CREATE TRIGGER fail_lead_insert BEFORE INSERT ON leads FOR EACH ROW EXECUTE FUNCTION fail_lead_insert()',
      );
    }
    afterEach(() => db.pool.query('DROP TRIGGER IF EXISTS fail_lead_insert ON leads'));

    it('an unexpected error → 500 {ok: false, error: "internal_error"} without internals; the re-drive makes the lead', async () => {
      const phase2App = buildTestApp(db, {}, { phase2: true });
      await failLeadInserts('P0001');
      const requestId = `req-${randomUUID()}`;
      const key = randomUUID();
      const body = { ...SAMPLE, email: `redrive-${key}@mail.lv` };
      const res = await postJson(body, { 'idempotency-key': key, 'x-request-id': requestId }, phase2App.app);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ ok: false, error: 'internal_error' });
      expect(JSON.stringify(res.body)).not.toContain('secret');
      const [stuck] = await requestRows(requestId);
      expect(stuck).toMatchObject({ state: 'received', lead_id: null });
      expect(stuck!.detail).toContain('simulated failure');

      await db.pool.query('DROP TRIGGER fail_lead_insert ON leads');
      const young = await redriveLeads(db.pool, { windowMinutes: 10, olderThanSeconds: 3600 });
      expect(young.examined).toBe(0);
      const redriven = await redriveLeads(db.pool, {
        windowMinutes: 10,
        olderThanSeconds: 0,
        processor: phase2App.context.processor,
      });
      expect(redriven).toMatchObject({ created: 1, failed: 0 });
      const [done] = await requestRows(requestId);
      expect(done).toMatchObject({ state: 'accepted', detail: null, lead_id: expect.stringMatching(UUID) });
      const lead = await db.pool.query(
        `SELECT l.request_id, l.email, o.status, o.person_id FROM leads l JOIN observations o ON o.id = l.observation_id
          WHERE l.id = $1`,
        [done!.lead_id],
      );
      expect(lead.rows[0]).toMatchObject({ request_id: done!.id, email: body.email, status: 'processed' });
      expect(lead.rows[0].person_id).toMatch(UUID);

      const retry = await postJson(body, { 'idempotency-key': key });
      expect(retry.status).toBe(409);
      expect(retry.body.lead_id).toBe(done!.lead_id);
    });

    it('the database failing between the raw insert and the lead → 503; the sender retry and the re-drive make one lead', async () => {
      await failLeadInserts('08006');
      const requestId = `req-${randomUUID()}`;
      const key = randomUUID();
      const failed = await postJson(SAMPLE, { 'idempotency-key': key, 'x-request-id': requestId });
      expect(failed.status).toBe(503);
      expect(failed.body).toEqual({ ok: false, error: 'unavailable' });
      expect((await requestRows(requestId))[0]!.state).toBe('received');

      await db.pool.query('DROP TRIGGER fail_lead_insert ON leads');
      const retry = await postJson(SAMPLE, { 'idempotency-key': key });
      expect(retry.status).toBe(201);
      const redriven = await redriveLeads(db.pool, { windowMinutes: 10, olderThanSeconds: 0 });
      expect(redriven).toMatchObject({ duplicates: 1, failed: 0 });
      expect((await requestRows(requestId))[0]).toMatchObject({
        state: 'duplicate',
        lead_id: retry.body.lead_id,
      });
      const { rows } = await db.pool.query(
        'SELECT count(*)::int AS n FROM leads WHERE idempotency_key = $1',
        [key],
      );
      expect(rows[0].n).toBe(1);
    });
  });

  it('a request left received without a verdict (crash before parsing) is rejected by the re-drive', async () => {
    const requestId = `req-${randomUUID()}`;
    await db.pool.query(
      `INSERT INTO lead_requests (request_id, content_type, body, body_bytes, received_at)
       VALUES ($1, 'application/json', $2, 3, now() - interval '5 minutes')`,
      [requestId, Buffer.from('[1]')],
    );
    const redriven = await redriveLeads(db.pool, { windowMinutes: 10, olderThanSeconds: 60 });
    expect(redriven.rejected).toBeGreaterThanOrEqual(1);
    expect(await requestRows(requestId)).toMatchObject([{ state: 'rejected', reason: 'not_object' }]);
  });
});
