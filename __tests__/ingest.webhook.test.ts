import request from 'supertest';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit, fixture, loadFixtures } from './helpers/fixtures';

let db: TestDatabase;
let app: ReturnType<typeof buildTestApp>['app'];

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db).app;
});
afterAll(() => db.drop());

async function observationCount(): Promise<number> {
  const { rows } = await db.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM observations');
  return rows[0]!.count;
}

async function rejectedCount(): Promise<number> {
  const { rows } = await db.pool.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM rejected_inputs',
  );
  return rows[0]!.count;
}

function post(body: unknown) {
  return request(app).post('/api/webhook').set('content-type', 'application/json').send(JSON.stringify(body));
}

describe('POST /api/webhook with the real Dux-Soup payloads', () => {
  it.each(loadFixtures().map((item) => [item.index, item.payload.type, item.payload.event, item]))(
    'fixture %i (%s.%s) is stored as an observation and answered 200',
    async (_index, type, event, item) => {
      const res = await post(item.payload);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, type, event });
      expect(typeof res.body.observation_id).toBe('number');
      expect(res.body.event_key).toMatch(/^[0-9a-f]{64}$/);

      const { rows } = await db.pool.query('SELECT * FROM observations WHERE id = $1', [
        res.body.observation_id,
      ]);
      const stored = rows[0];
      expect(stored.payload).toEqual(item.payload);
      expect(stored.kind).toBe(type);
      expect(stored.event).toBe(event);
      expect(stored.source).toBe('duxsoup');
      expect(stored.dux_user_id).toBe(item.payload.userid);
      expect(stored.request_id).toBe(res.headers['x-request-id']);
      const profile = type === 'visit' || type === 'scan';
      expect(stored.status).toBe(profile ? 'pending' : 'ignored');
      expect(stored.person_id).toBeNull();
      if (!profile) expect(res.body.processed).toBe(false);
    },
  );

  it('stores the event time from VisitTime (epoch ms), not from the envelope', async () => {
    const payload = fixture(6);
    const res = await post(payload);
    const { rows } = await db.pool.query('SELECT event_time FROM observations WHERE id = $1', [
      res.body.observation_id,
    ]);
    expect((rows[0].event_time as Date).getTime()).toBe(payload.data.VisitTime);
  });

  it('accepts VisitTime as an ISO string and as epoch seconds', async () => {
    const iso = distinctVisit();
    (iso.data as Record<string, unknown>).VisitTime = '2025-07-03T02:24:39.098Z';
    const seconds = distinctVisit();
    (seconds.data as Record<string, unknown>).VisitTime = 1751509479;
    for (const [payload, expected] of [
      [iso, Date.parse('2025-07-03T02:24:39.098Z')],
      [seconds, 1751509479000],
    ] as const) {
      const res = await post(payload);
      expect(res.status).toBe(200);
      const { rows } = await db.pool.query('SELECT event_time FROM observations WHERE id = $1', [
        res.body.observation_id,
      ]);
      expect((rows[0].event_time as Date).getTime()).toBe(expected);
    }
  });
});

describe('idempotency', () => {
  it('answers a repeat with duplicate: true and the original observation id', async () => {
    const payload = distinctVisit();
    const first = await post(payload);
    const before = await observationCount();
    const second = await post(payload);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({
      success: true,
      duplicate: true,
      observation_id: first.body.observation_id,
    });
    expect(second.body.event_key).toBe(first.body.event_key);
    expect(await observationCount()).toBe(before);
  });

  it('treats a reordered but identical body as the same event', async () => {
    const payload = distinctVisit();
    const first = await post(payload);
    const reordered = Object.fromEntries(Object.entries(payload).reverse());
    const second = await post(reordered);
    expect(second.body.duplicate).toBe(true);
    expect(second.body.observation_id).toBe(first.body.observation_id);
  });

  it('never takes a visit.update for its visit.create (same id and VisitTime)', async () => {
    const create = fixture(9);
    const update = fixture(10);
    expect(update.data.VisitTime).toBe(create.data.VisitTime);
    const userid = `${Date.now()}`;
    const a = await post({ ...create, userid });
    const b = await post({ ...update, userid });
    expect(a.body.duplicate).toBe(false);
    expect(b.body.duplicate).toBe(false);
    expect(b.body.observation_id).not.toBe(a.body.observation_id);
  });

  it('keeps two different updates of one visit, but de-duplicates a redelivered update', async () => {
    const update = fixture(10);
    update.userid = `updates-${Date.now()}`;
    const phoneUpdate = structuredClone(update);
    phoneUpdate.data.Phone = '+1 415 555 0100';
    const first = await post(update);
    const second = await post(phoneUpdate);
    const again = await post(update);
    expect(second.body.observation_id).not.toBe(first.body.observation_id);
    expect(again.body).toMatchObject({ duplicate: true, observation_id: first.body.observation_id });
  });

  it('stores a revisit (new VisitTime) as a new observation', async () => {
    const visit = distinctVisit();
    const revisit = structuredClone(visit);
    (revisit.data as { VisitTime: number }).VisitTime += 86_400_000;
    const a = await post(visit);
    const b = await post(revisit);
    expect(b.body.duplicate).toBe(false);
    expect(b.body.observation_id).not.toBe(a.body.observation_id);
  });

  it('stores exactly one row for 50 identical requests in parallel, all answered with its id', async () => {
    const payload = distinctVisit();
    const responses = await Promise.all(Array.from({ length: 50 }, () => post(payload)));
    expect(responses.map((res) => res.status).filter((s) => s !== 200)).toEqual([]);
    const ids = new Set(responses.map((res) => res.body.observation_id as number));
    expect(ids.size).toBe(1);
    expect(responses.filter((res) => res.body.duplicate === false)).toHaveLength(1);
    const { rows } = await db.pool.query(
      'SELECT count(*)::int AS count FROM observations WHERE event_key = $1',
      [responses[0]!.body.event_key],
    );
    expect(rows[0].count).toBe(1);
  });

  it('two different profiles without data.id scanned in the same millisecond are two observations', async () => {
    const userid = `same-ms-${Date.now()}`;
    const scan = (profile: string) => ({
      userid,
      time: '2025-07-04T06:20:01.884Z',
      type: 'scan',
      event: 'create',
      data: { ScanTime: 1751610000000, Profile: `https://www.linkedin.com/in/${profile}` },
    });
    const a = await post(scan('first-person'));
    const b = await post(scan('second-person'));
    expect(b.body.duplicate).toBe(false);
    expect(b.body.observation_id).not.toBe(a.body.observation_id);
    expect((await post(scan('second-person'))).body).toMatchObject({
      duplicate: true,
      observation_id: b.body.observation_id,
    });
  });

  it('keeps both rccommand.ready signals of a near-duplicate pair (different times)', async () => {
    const ready = fixture(13);
    ready.userid = `ready-${Date.now()}`;
    const twin = { ...structuredClone(ready), time: '2025-07-03T02:27:42.434Z' };
    const a = await post(ready);
    const b = await post(twin);
    expect(a.body.duplicate).toBe(false);
    expect(b.body.duplicate).toBe(false);
  });
});

describe('non-profile and unknown event types', () => {
  it.each([
    ['rccommand', 'ready'],
    ['action', 'completed'],
    ['message', 'sent'],
    ['connect', 'accepted'],
    ['somethingnew', 'happened'],
  ])('%s.%s is stored as ignored and answered 200 processed: false', async (type, event) => {
    const res = await post({
      userid: '1',
      time: new Date().toISOString(),
      type,
      event,
      data: { x: Math.random() },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, processed: false, type, event });
    const { rows } = await db.pool.query('SELECT status, kind FROM observations WHERE id = $1', [
      res.body.observation_id,
    ]);
    expect(rows[0]).toEqual({ status: 'ignored', kind: type });
  });
});

describe('rejected inputs are kept and answered 400 with a stable code', () => {
  it.each([
    ['malformed JSON', '{"type": "visit",', 'text/plain'],
    ['form-encoded body', 'type=visit&event=create', 'application/x-www-form-urlencoded'],
    ['empty body', '', 'application/json'],
  ])('%s → INVALID_JSON, bytes kept', async (_name, body, contentType) => {
    const before = await rejectedCount();
    const res = await request(app).post('/api/webhook').set('content-type', contentType).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: 'INVALID_JSON' });
    expect(await rejectedCount()).toBe(before + 1);
    const { rows } = await db.pool.query('SELECT * FROM rejected_inputs WHERE id = $1', [
      res.body.details.rejectedInputId,
    ]);
    expect(rows[0].body.toString('utf8')).toBe(body);
    expect(rows[0].content_type).toContain(contentType);
    expect(rows[0].error_code).toBe('INVALID_JSON');
    expect(rows[0].request_id).toBe(res.headers['x-request-id']);
  });

  it.each([
    ['a JSON array', [fixture(0)], '(body)'],
    ['a JSON string', 'visit', '(body)'],
    ['null', null, '(body)'],
    ['missing type', { event: 'create', data: {} }, 'type'],
    ['missing event', { type: 'visit', data: {} }, 'event'],
    ['type not a string', { type: 42, event: 'create', data: {} }, 'type'],
    ['data not an object', { type: 'visit', event: 'create', data: 'x' }, 'data'],
    ['data an array', { type: 'visit', event: 'create', data: [] }, 'data'],
    [
      'VisitTime an object',
      { type: 'visit', event: 'create', data: { VisitTime: { a: 1 } } },
      'data.VisitTime',
    ],
    [
      'VisitTime nonsense',
      { type: 'visit', event: 'create', data: { VisitTime: 'yesterday' } },
      'data.VisitTime',
    ],
    [
      'First Name an object',
      { type: 'visit', event: 'create', data: { 'First Name': { x: 1 } } },
      'data.First Name',
    ],
    ['My Tags an object', { type: 'scan', event: 'create', data: { 'My Tags': { a: 1 } } }, 'data.My Tags'],
    ['extended a string', { type: 'visit', event: 'create', data: { extended: 'x' } }, 'data.extended'],
  ])('%s → INVALID_PAYLOAD naming the field', async (_name, body, field) => {
    const before = await rejectedCount();
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('INVALID_PAYLOAD');
    expect(res.body.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    expect(await rejectedCount()).toBe(before + 1);
  });

  it('answers 413 for a body over WEBHOOK_BODY_LIMIT and records the attempt', async () => {
    const small = buildTestApp(db, { WEBHOOK_BODY_LIMIT: '2kb' }).app;
    const payload = distinctVisit();
    (payload.data as Record<string, unknown>).Summary = 'x'.repeat(4096);
    const res = await request(small)
      .post('/api/webhook')
      .set('content-type', 'application/json')
      .send(payload);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('PAYLOAD_TOO_LARGE');
    const { rows } = await db.pool.query(
      "SELECT body_bytes FROM rejected_inputs WHERE error_code = 'PAYLOAD_TOO_LARGE' AND request_id = $1",
      [res.headers['x-request-id']],
    );
    expect(rows[0].body_bytes).toBeGreaterThan(2048);
  });
});

describe('messy but valid data is stored intact', () => {
  const cases: [string, (data: Record<string, unknown>) => void][] = [
    [
      'non-ASCII and emoji names',
      (d) => Object.assign(d, { 'First Name': 'Zoë 🦆', 'Last Name': 'Łukasiewicz-Müller 李' }),
    ],
    [
      'empty strings everywhere',
      (d) => Object.assign(d, { Title: '', Company: '', Location: '', Email: '' }),
    ],
    ['My Notes as a string', (d) => Object.assign(d, { 'My Notes': 'met at a conference' })],
    ['My Notes as a non-empty array', (d) => Object.assign(d, { 'My Notes': ['one', 'two'] })],
    ['missing Last Name key', (d) => delete d['Last Name']],
    [
      'numbers where strings are usual',
      (d) => Object.assign(d, { Connections: 500, Degree: 1, id: 12345678 }),
    ],
    ['null fields', (d) => Object.assign(d, { Title: null, Picture: null, extended: null })],
    [
      '10 000-character fields',
      (d) => Object.assign(d, { Summary: 'é'.repeat(10_000), Title: 'T'.repeat(10_000) }),
    ],
    [
      'prototype-pollution keys',
      (d) =>
        Object.assign(
          d,
          JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}') as object,
        ),
    ],
    ['unknown extra keys', (d) => Object.assign(d, { Birthday: '1 Jan', 'Brand New Field': [1, 2, 3] })],
  ];

  it.each(cases)('%s', async (_name, mutate) => {
    const payload = distinctVisit();
    mutate(payload.data as Record<string, unknown>);
    const body = JSON.stringify(payload);
    const res = await request(app).post('/api/webhook').set('content-type', 'application/json').send(body);
    expect(res.status).toBe(200);
    const { rows } = await db.pool.query('SELECT payload, raw_body FROM observations WHERE id = $1', [
      res.body.observation_id,
    ]);
    expect(rows[0].payload).toEqual(JSON.parse(body));
    expect(rows[0].raw_body).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stores "__proto__" as an ordinary key of the payload', async () => {
    const payload = distinctVisit();
    const body = JSON.stringify(payload).replace('"data":{', '"data":{"__proto__":{"isAdmin":true},');
    const res = await request(app).post('/api/webhook').set('content-type', 'application/json').send(body);
    expect(res.status).toBe(200);
    const { rows } = await db.pool.query(
      "SELECT payload->'data'->'__proto__' AS proto FROM observations WHERE id = $1",
      [res.body.observation_id],
    );
    expect(rows[0].proto).toEqual({ isAdmin: true });
  });

  it.each([
    ['a NUL character', '"First Name":"Ann\\u0000e"'],
    ['a lone surrogate', '"First Name":"Ann\\ud800e"'],
  ])('repairs %s for jsonb and keeps the exact bytes', async (_name, field) => {
    const payload = distinctVisit();
    const body = JSON.stringify(payload).replace(/"First Name":"[^"]*"/, field);
    const res = await request(app).post('/api/webhook').set('content-type', 'application/json').send(body);
    expect(res.status).toBe(200);
    const { rows } = await db.pool.query(
      "SELECT payload->'data'->>'First Name' AS name, raw_body FROM observations WHERE id = $1",
      [res.body.observation_id],
    );
    expect(rows[0].name).toBe('Ann\uFFFDe');
    expect(rows[0].raw_body.toString('utf8')).toBe(body);
  });

  it('repairs invalid UTF-8 bytes and keeps the exact bytes', async () => {
    const payload = distinctVisit();
    const text = JSON.stringify(payload).replace(/"First Name":"[^"]*"/, '"First Name":"Ann@@e"');
    const bytes = Buffer.from(text, 'utf8');
    const at = bytes.indexOf('@@');
    bytes[at] = 0xc3;
    bytes[at + 1] = 0x28;
    // superagent JSON-encodes a Buffer when the content type is JSON, so send it as opaque bytes.
    const res = await request(app)
      .post('/api/webhook')
      .set('content-type', 'application/octet-stream')
      .send(bytes);
    expect(res.status).toBe(200);
    const { rows } = await db.pool.query('SELECT raw_body FROM observations WHERE id = $1', [
      res.body.observation_id,
    ]);
    expect(Buffer.compare(rows[0].raw_body, bytes)).toBe(0);
  });

  it('rejects absurdly deep nesting with 400 instead of failing in the database', async () => {
    const payload = distinctVisit();
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const body = JSON.stringify(payload).replace('"data":{', `"data":{"deep":${deep},`);
    const res = await request(app).post('/api/webhook').set('content-type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('INVALID_PAYLOAD');
  });

  it('accepts a payload without content-type header if it is JSON', async () => {
    const res = await request(app)
      .post('/api/webhook')
      .send(Buffer.from(JSON.stringify(distinctVisit())));
    expect(res.status).toBe(200);
  });
});
