import { createHash, randomUUID } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

const KEY = 'crm-key-alpha';
const KEY_PREFIX = `key:${createHash('sha256').update(KEY).digest('hex').slice(0, 12)}`;

let db: TestDatabase;
let app: Express;
/** Leads by a short name, created oldest first. */
const leads: Record<string, string> = {};

const get = (path: string) => request(app).get(path).set('authorization', `Bearer ${KEY}`);
const patch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  request(app)
    .patch(`/api/leads/${id}`)
    .set({ 'x-api-key': KEY, ...headers })
    .send(body as object);

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db, { API_KEYS: `${KEY},other-key`, READ_RATE_LIMIT: '0' }, { phase2: true }).app;
  const seed: [string, Record<string, unknown>, string][] = [
    [
      'anna',
      {
        email: 'Anna@Corp.lv',
        firstName: 'Anna',
        sourcetype: 'web',
        offer: 'Gold',
        marker: 'm1',
        domain: 'a.example',
        country: 'LV',
      },
      '2025-01-10T09:00:00Z',
    ],
    [
      'ben',
      {
        email: 'ben@corp.de',
        firstName: 'Ben',
        sourcetype: 'web',
        offer: 'Silver',
        marker: 'm2',
        domain: 'b.example',
        country: 'DE',
      },
      '2025-01-20T09:00:00Z',
    ],
    [
      'cara',
      {
        email: 'cara@corp.lv',
        firstName: 'Cara',
        sourcetype: 'ads',
        offer: 'Gold',
        marker: 'm1',
        domain: 'a.example',
        country: 'lv',
      },
      '2025-02-01T12:30:00Z',
    ],
    [
      'dan',
      {
        email: 'dan@corp.us',
        firstName: 'Dan',
        sourcetype: 'ads',
        offer: 'Gold',
        marker: 'm3',
        domain: 'c.example',
        country: 'US',
        utm: { source: 'fb' },
      },
      '2025-02-15T23:59:59Z',
    ],
  ];
  for (const [name, body, createdAt] of seed) {
    const res = await request(app).post('/api/lead').set('idempotency-key', `seed-${name}`).send(body);
    expect(res.status).toBe(201);
    leads[name] = res.body.lead_id as string;
    // The creation time is data: set it so the range filters have something definite to find.
    await db.pool.query('UPDATE leads SET created_at = $2 WHERE id = $1', [res.body.lead_id, createdAt]);
  }
});
afterAll(() => db.drop());

const ids = (res: request.Response) => (res.body.data as { id: string }[]).map((lead) => lead.id);

describe('GET /api/leads', () => {
  it('lists newest first with the contract field names, the person and pagination', async () => {
    const res = await get('/api/leads');
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([leads.dan, leads.cara, leads.ben, leads.anna]);
    expect(res.body.pagination).toEqual({
      count: 4,
      totalCount: 4,
      skip: 0,
      limit: 50,
      hasMore: false,
      nextSkip: null,
    });
    expect(res.body.data[3]).toMatchObject({
      id: leads.anna,
      status: 'new',
      assignedTo: null,
      createdAt: '2025-01-10T09:00:00.000Z',
      email: 'Anna@Corp.lv',
      firstName: 'Anna',
      sourcetype: 'web',
      offer: 'Gold',
      personId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('filters by source fields, country and e-mail (case-insensitive) and the created range', async () => {
    expect(ids(await get('/api/leads?sourcetype=ads'))).toEqual([leads.dan, leads.cara]);
    expect(ids(await get('/api/leads?offer=Gold&marker=m1'))).toEqual([leads.cara, leads.anna]);
    expect(ids(await get('/api/leads?domain=b.example'))).toEqual([leads.ben]);
    expect(ids(await get('/api/leads?country=LV'))).toEqual([leads.cara, leads.anna]);
    expect(ids(await get('/api/leads?email=ANNA@corp.LV'))).toEqual([leads.anna]);
    expect(ids(await get('/api/leads?from=2025-01-20&to=2025-02-01'))).toEqual([leads.cara, leads.ben]);
    expect(ids(await get('/api/leads?to=2025-02-15T23:59:58Z'))).toEqual([leads.cara, leads.ben, leads.anna]);
    expect(ids(await get('/api/leads?from=2025-02-15T23:59:59'))).toEqual([leads.dan]);
    expect(ids(await get('/api/leads?sourcetype=none'))).toEqual([]);
  });

  it('pages with limit and skip', async () => {
    const first = await get('/api/leads?limit=3');
    expect(ids(first)).toEqual([leads.dan, leads.cara, leads.ben]);
    expect(first.body.pagination).toMatchObject({ count: 3, totalCount: 4, hasMore: true, nextSkip: 3 });
    const second = await get('/api/leads?limit=3&skip=3');
    expect(ids(second)).toEqual([leads.anna]);
    expect(second.body.pagination).toMatchObject({ hasMore: false, nextSkip: null });
    expect(ids(await get('/api/leads?skip=10'))).toEqual([]);
  });

  it.each([
    ['limit=0', 'INVALID_LIMIT'],
    ['limit=abc', 'INVALID_LIMIT'],
    ['limit=501', 'LIMIT_EXCEEDED'],
    ['skip=-1', 'INVALID_SKIP'],
    ['status=open', 'INVALID_STATUS'],
    ['from=yesterday', 'INVALID_DATE_RANGE'],
    ['from=2025-02-01&to=2025-01-01', 'INVALID_DATE_RANGE'],
    ['colour=red', 'INVALID_REQUEST'],
    ['offer=a&offer=b', 'INVALID_REQUEST'],
  ])('%s → 400 %s', async (query, code) => {
    const res = await get(`/api/leads?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: code });
  });
});

describe('GET /api/leads/:id', () => {
  it('shows the lead with its raw request, the person and later repeats', async () => {
    const body = { email: 'eve@corp.lv', firstName: 'Eve', custom: { a: [1, 2] } };
    const sent = JSON.stringify(body);
    const created = await request(app)
      .post('/api/lead')
      .set({
        'content-type': 'application/json',
        'idempotency-key': 'detail-key',
        'x-request-id': 'detail-req-1',
        'user-agent': 'php-curl',
      })
      .send(sent);
    const repeat = await request(app)
      .post('/api/lead')
      .set({ 'idempotency-key': 'detail-key', 'x-request-id': 'detail-req-2' })
      .send({ email: 'eve@corp.lv', firstName: 'Evelyn' });
    expect(repeat.status).toBe(409);

    const res = await get(`/api/leads/${created.body.lead_id}`);
    expect(res.status).toBe(200);
    const { rows } = await db.pool.query(
      'SELECT o.person_id FROM leads l JOIN observations o ON o.id = l.observation_id WHERE l.id = $1',
      [created.body.lead_id],
    );
    expect(res.body.lead).toMatchObject({
      id: created.body.lead_id,
      personId: rows[0].person_id,
      email: 'eve@corp.lv',
      idempotencyKey: 'detail-key',
      xRequestId: 'detail-req-1',
      payload: body,
      rawRequest: {
        state: 'accepted',
        requestId: 'detail-req-1',
        idempotencyKey: 'detail-key',
        contentType: 'application/json',
        userAgent: 'php-curl',
        bodyBytes: Buffer.byteLength(sent),
        body: sent,
      },
      repeats: [{ state: 'conflict', requestId: 'detail-req-2', receivedAt: expect.any(String) }],
    });
    expect(rows[0].person_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('an unknown id or one that is not a UUID → 404', async () => {
    for (const id of [randomUUID(), 'not-a-uuid', '1']) {
      const res = await get(`/api/leads/${id}`);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('NOT_FOUND');
    }
  });
});

describe('PATCH /api/leads/:id and its history', () => {
  it('changes status and assignee, recording who changed what from what to what', async () => {
    const id = leads.ben!;
    const first = await patch(id, { status: 'contacted' });
    expect(first.status).toBe(200);
    expect(first.body.changes).toEqual([{ field: 'status', from: 'new', to: 'contacted' }]);
    expect(first.body.lead).toMatchObject({ id, status: 'contacted' });

    const second = await patch(
      id,
      { status: 'qualified', assignedTo: 'agent-7' },
      { 'x-actor': 'alice@crm' },
    );
    expect(second.body.changes).toEqual([
      { field: 'status', from: 'contacted', to: 'qualified' },
      { field: 'assignedTo', from: null, to: 'agent-7' },
    ]);
    const numeric = await patch(id, { assignedTo: 42 });
    expect(numeric.body.changes).toEqual([{ field: 'assignedTo', from: 'agent-7', to: '42' }]);
    const unassign = await patch(id, { assignedTo: null });
    expect(unassign.body.changes).toEqual([{ field: 'assignedTo', from: '42', to: null }]);
    const same = await patch(id, { status: 'qualified' });
    expect(same.status).toBe(200);
    expect(same.body.changes).toEqual([]);

    const history = await get(`/api/leads/${id}/history`);
    expect(history.status).toBe(200);
    expect(history.body.leadId).toBe(id);
    expect(history.body.data).toEqual([
      expect.objectContaining({
        field: 'status',
        from: 'new',
        to: 'contacted',
        actor: KEY_PREFIX,
        apiKey: KEY_PREFIX,
      }),
      expect.objectContaining({ field: 'status', from: 'contacted', to: 'qualified', actor: 'alice@crm' }),
      expect.objectContaining({
        field: 'assignedTo',
        from: null,
        to: 'agent-7',
        actor: 'alice@crm',
        apiKey: KEY_PREFIX,
      }),
      expect.objectContaining({ field: 'assignedTo', from: 'agent-7', to: '42', actor: KEY_PREFIX }),
      expect.objectContaining({ field: 'assignedTo', from: '42', to: null }),
    ]);
    for (const entry of history.body.data) {
      expect(Number.isNaN(Date.parse(entry.changedAt))).toBe(false);
      expect(typeof entry.requestId).toBe('string');
    }

    expect(ids(await get('/api/leads?status=qualified'))).toEqual([id]);
    expect(ids(await get('/api/leads?status=new,qualified&to=2025-03-01'))).toEqual([
      leads.dan,
      leads.cara,
      id,
      leads.anna,
    ]);
    await patch(leads.anna!, { assignedTo: 'agent-9' });
    expect(ids(await get('/api/leads?assignedTo=agent-9'))).toEqual([leads.anna]);
  });

  it('a lead without changes has an empty history', async () => {
    const res = await get(`/api/leads/${leads.dan}/history`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([]);
  });

  it.each([
    [{ status: 'open' }, 'INVALID_STATUS'],
    [{ status: 3 }, 'INVALID_STATUS'],
    [{}, 'INVALID_REQUEST'],
    [{ status: 'won', colour: 'red' }, 'INVALID_REQUEST'],
    [{ assignedTo: '' }, 'INVALID_REQUEST'],
    [[{ status: 'won' }], 'INVALID_REQUEST'],
  ])('%j → 400 %s, nothing changed', async (body, code) => {
    const res = await patch(leads.cara!, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: code });
    expect((await get(`/api/leads/${leads.cara}/history`)).body.data).toEqual([]);
  });

  it('malformed JSON → 400 INVALID_JSON; an unknown lead → 404', async () => {
    const malformed = await request(app)
      .patch(`/api/leads/${leads.cara}`)
      .set({ 'x-api-key': KEY, 'content-type': 'application/json' })
      .send('{"status":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('INVALID_JSON');
    for (const id of [randomUUID(), 'nope']) {
      expect((await patch(id, { status: 'won' })).status).toBe(404);
      expect((await get(`/api/leads/${id}/history`)).status).toBe(404);
    }
  });
});

describe('access', () => {
  it('every CRM endpoint needs an API key → 401 UNAUTHORIZED in the service error shape', async () => {
    for (const call of [
      request(app).get('/api/leads'),
      request(app).get(`/api/leads/${leads.anna}`),
      request(app).get(`/api/leads/${leads.anna}/history`),
      request(app).patch(`/api/leads/${leads.anna}`).send({ status: 'spam' }),
      request(app).get('/api/leads').set('authorization', 'Bearer wrong'),
    ]) {
      const res = await call;
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ success: false, error: 'UNAUTHORIZED' });
    }
    expect((await get(`/api/leads/${leads.anna}`)).body.lead.status).toBe('new');
  });

  it('production without API_KEYS → 403; before the database is ready → 503', async () => {
    const production = buildTestApp(db, { NODE_ENV: 'production' }).app;
    expect((await request(production).get('/api/leads')).status).toBe(403);
    const starting = await request(buildTestApp(null).app).get('/api/leads');
    expect(starting.status).toBe(503);
    expect(starting.body.error).toBe('DATABASE_UNAVAILABLE');
  });
});
