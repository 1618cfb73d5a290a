import type { Express } from 'express';
import request from 'supertest';
import { loadConfig } from '../src/config';
import { phase2FromConfig } from '../src/ingest/phase2';
import { createLogger } from '../src/logger';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

const API_KEY = 'timeline-test-key-0123456789';
const T = (iso: string) => Date.parse(iso);

let db: TestDatabase;
let app: Express;
let ingest: (payload: object) => Promise<{ observation_id: number; person_id: string }>;

beforeAll(async () => {
  db = await createTestDatabase();
  const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', API_KEYS: API_KEY, READ_RATE_LIMIT: '0' };
  app = buildTestApp(db, env).app;
  const config = loadConfig(env);
  const processor = phase2FromConfig(db.pool, config, createLogger(config));
  // The webhook stores each observation; Phase 2's full path (what the sweeper and replays run) resolves it.
  ingest = async (payload) => {
    const stored = await request(app)
      .post('/api/webhook')
      .set('content-type', 'application/json')
      .send(payload);
    expect(stored.status).toBe(200);
    const result = await processor.process(stored.body.observation_id as number);
    expect(result).toMatchObject({ processed: true });
    return { observation_id: stored.body.observation_id as number, person_id: result.person_id! };
  };
});
afterAll(() => db.drop());

function event(
  kind: 'visit' | 'scan',
  at: number,
  title: string,
  company: string,
  identity: { member?: string; slug?: string },
): object {
  const data: Record<string, unknown> = {
    [kind === 'visit' ? 'VisitTime' : 'ScanTime']: at,
    'First Name': 'Robin',
    'Last Name': 'Hale',
    Title: title,
    Company: company,
    Location: 'Denver, Colorado, United States',
  };
  if (identity.member) data.id = `id.${identity.member}`;
  if (identity.slug) data.Profile = `https://www.linkedin.com/in/${identity.slug}/`;
  return {
    userid: 'timeline-tests',
    time: new Date(at + 900).toISOString(),
    type: kind,
    event: 'create',
    data,
  };
}

function get(path: string) {
  return request(app).get(path).set('x-api-key', API_KEY);
}

interface Entry {
  type: string;
  at: string;
  observationId: number;
  [key: string]: unknown;
}

describe('GET /api/people/:id/timeline', () => {
  const robin = { member: '63000001', slug: 'robin-hale-tl1' };
  let seen: { observation_id: number; person_id: string }[];
  let personId: string;

  beforeAll(async () => {
    seen = [];
    // Arrival order is not time order: the 2023 scan arrives last.
    seen.push(
      await ingest(event('visit', T('2024-03-01T09:00:00Z'), 'Sales Manager', 'Acme Analytics', robin)),
    );
    seen.push(
      await ingest(event('visit', T('2024-09-15T12:00:00Z'), 'Director of Sales', 'Acme Analytics', robin)),
    );
    seen.push(
      await ingest(event('scan', T('2025-02-01T08:30:00Z'), 'Director of Sales', 'Borealis Labs', robin)),
    );
    seen.push(
      await ingest(event('scan', T('2023-11-20T17:45:00Z'), 'Sales Manager', 'Acme Analytics', robin)),
    );
    personId = seen[0]!.person_id;
  });

  it('is one feed, newest first: observations, changes and first_seen, each change above its observation', async () => {
    const res = await get(`/api/people/${personId}/timeline`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, personId });
    const feed = res.body.data as Entry[];
    expect(feed.map((e) => [e.type, e.observationId])).toEqual([
      ['change', seen[2]!.observation_id],
      ['observation', seen[2]!.observation_id],
      ['change', seen[1]!.observation_id],
      ['observation', seen[1]!.observation_id],
      ['observation', seen[0]!.observation_id],
      ['first_seen', seen[3]!.observation_id],
      ['observation', seen[3]!.observation_id],
    ]);
    expect(feed[0]).toMatchObject({
      at: '2025-02-01T08:30:00.000Z',
      changeType: 'company_change',
      previousObservationId: seen[1]!.observation_id,
      before: { title: 'Director of Sales', company: 'Acme Analytics' },
      after: { title: 'Director of Sales', company: 'Borealis Labs' },
    });
    expect(feed[1]).toMatchObject({
      kind: 'scan',
      source: 'duxsoup',
      title: 'Director of Sales',
      company: 'Borealis Labs',
    });
    expect(feed[1]!.companyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(feed[2]).toMatchObject({ changeType: 'title_change', at: '2024-09-15T12:00:00.000Z' });
    expect(feed[3]).toMatchObject({ kind: 'visit', title: 'Director of Sales', company: 'Acme Analytics' });
    expect(feed[5]).toEqual({
      type: 'first_seen',
      at: '2023-11-20T17:45:00.000Z',
      observationId: seen[3]!.observation_id,
    });
    expect(res.body.pagination).toEqual({ count: 7, totalCount: 7, skip: 0, hasMore: false, nextSkip: null });
  });

  it('paginates with limit and skip, the pages adding up to the whole feed', async () => {
    const whole = (await get(`/api/people/${personId}/timeline`)).body.data as Entry[];
    const pages: Entry[] = [];
    let skip = 0;
    for (;;) {
      const res = await get(`/api/people/${personId}/timeline?limit=3&skip=${skip}`);
      expect(res.status).toBe(200);
      pages.push(...(res.body.data as Entry[]));
      if (!res.body.pagination.hasMore) break;
      skip = res.body.pagination.nextSkip as number;
    }
    expect(pages).toEqual(whole);
    const second = await get(`/api/people/${personId}/timeline?limit=3&skip=3`);
    expect(second.body.pagination).toEqual({ count: 3, totalCount: 7, skip: 3, hasMore: true, nextSkip: 6 });
  });

  it('from and to bound the feed (dates cover whole days, timestamps are inclusive)', async () => {
    const year2024 = await get(`/api/people/${personId}/timeline?from=2024-01-01&to=2024-12-31`);
    expect((year2024.body.data as Entry[]).map((e) => [e.type, e.at])).toEqual([
      ['change', '2024-09-15T12:00:00.000Z'],
      ['observation', '2024-09-15T12:00:00.000Z'],
      ['observation', '2024-03-01T09:00:00.000Z'],
    ]);
    const oneDay = await get(`/api/people/${personId}/timeline?from=2024-03-01&to=2024-03-01`);
    expect((oneDay.body.data as Entry[]).map((e) => e.observationId)).toEqual([seen[0]!.observation_id]);
    const exact = await get(
      `/api/people/${personId}/timeline?from=2024-09-15T12:00:00Z&to=${encodeURIComponent('2025-02-01T09:30:00+01:00')}`,
    );
    expect((exact.body.data as Entry[]).map((e) => e.type)).toEqual([
      'change',
      'observation',
      'change',
      'observation',
    ]);
    const since = await get(`/api/people/${personId}/timeline?from=2025-01-01`);
    expect(since.body.pagination.totalCount).toBe(2);
  });

  it.each([
    ['from=yesterday', 'INVALID_DATE_RANGE'],
    ['to=2024-02-30', 'INVALID_DATE_RANGE'],
    ['from=2024-13-01', 'INVALID_DATE_RANGE'],
    ['from=2025-01-02&to=2025-01-01', 'INVALID_DATE_RANGE'],
    ['limit=501', 'LIMIT_EXCEEDED'],
    ['limit=0', 'INVALID_LIMIT'],
    ['skip=x', 'INVALID_SKIP'],
  ])('?%s → 400 %s', async (query, code) => {
    const res = await get(`/api/people/${personId}/timeline?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: code });
  });

  it('is its own route: /api/people/:id still answers the person, unknown people are 404 NOT_FOUND', async () => {
    const person = await get(`/api/people/${personId}`);
    expect(person.status).toBe(200);
    expect(person.body.person.id).toBe(personId);
    expect(person.body.data).toBeUndefined();
    const byAlias = await get(
      `/api/people/${encodeURIComponent(`https://www.linkedin.com/in/${robin.slug}`)}/timeline`,
    );
    expect(byAlias.status).toBe(200);
    expect(byAlias.body.personId).toBe(personId);
    const missing = await get('/api/people/0b7a7c43-58d4-4b2a-9c51-3f6f7d0e9a11/timeline');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ success: false, error: 'NOT_FOUND' });
  });

  it('needs an API key', async () => {
    expect((await request(app).get(`/api/people/${personId}/timeline`)).status).toBe(401);
    expect((await request(app).get(`/api/people/${personId}/timeline`).set('x-api-key', 'nope')).status).toBe(
      401,
    );
  });
});

describe('timeline after a merge, and ties', () => {
  it('a merged id redirects to the survivor, whose feed holds both histories with one first_seen', async () => {
    const slug = 'jo-marsh-tl2';
    const member = '63000002';
    const a = await ingest(event('scan', T('2024-01-10T10:00:00Z'), 'Analyst', 'Acme Analytics', { slug }));
    const b = await ingest(event('visit', T('2024-06-10T10:00:00Z'), 'Analyst', 'Borealis Labs', { member }));
    const link = await ingest(
      event('visit', T('2024-07-10T10:00:00Z'), 'Analyst', 'Borealis Labs', { slug, member }),
    );
    const survivor = link.person_id;
    const tombstone = survivor === a.person_id ? b.person_id : a.person_id;
    const res = await get(`/api/people/${tombstone}/timeline`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ personId: survivor, redirectedFrom: tombstone });
    expect((res.body.data as Entry[]).map((e) => [e.type, e.observationId])).toEqual([
      ['observation', link.observation_id],
      ['change', b.observation_id],
      ['observation', b.observation_id],
      ['first_seen', a.observation_id],
      ['observation', a.observation_id],
    ]);
  });

  it('observations at the same instant are ordered by observation id, highest first, on every page', async () => {
    const same = T('2024-05-05T05:05:05Z');
    const who = { member: '63000003' };
    const first = await ingest(event('visit', same, 'Engineer', 'Acme Analytics', who));
    const second = await ingest(event('scan', same, 'Engineer', 'Acme Analytics', who));
    const res = await get(`/api/people/${first.person_id}/timeline`);
    expect((res.body.data as Entry[]).map((e) => [e.type, e.observationId])).toEqual([
      ['observation', second.observation_id],
      ['first_seen', first.observation_id],
      ['observation', first.observation_id],
    ]);
    const page = await get(`/api/people/${first.person_id}/timeline?limit=1&skip=1`);
    expect((page.body.data as Entry[]).map((e) => e.type)).toEqual(['first_seen']);
  });
});
