import request from 'supertest';
import { secretsEqual } from '../src/api/auth';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';

const SECRET = 's3cret-value-for-tests';
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

function send(app: ReturnType<typeof buildTestApp>['app'], path = '/api/webhook') {
  return request(app).post(path).set('content-type', 'application/json');
}

describe('webhook secret', () => {
  const app = () => buildTestApp(db, { WEBHOOK_SECRET: SECRET, WEBHOOK_AUTH_FAILURE_LIMIT: '0' }).app;

  it.each([
    ['?secret= in the URL', (r: request.Test) => r],
    ['X-Webhook-Secret header', (r: request.Test) => r.set('x-webhook-secret', SECRET)],
    ['Authorization: Bearer', (r: request.Test) => r.set('authorization', `Bearer ${SECRET}`)],
  ])('is accepted as %s', async (name, decorate) => {
    const path = name.startsWith('?') ? `/api/webhook?secret=${encodeURIComponent(SECRET)}` : '/api/webhook';
    const res = await decorate(send(app(), path)).send(distinctVisit());
    expect(res.status).toBe(200);
  });

  it.each([
    ['missing', (r: request.Test) => r],
    ['wrong header', (r: request.Test) => r.set('x-webhook-secret', `${SECRET}x`)],
    ['wrong bearer', (r: request.Test) => r.set('authorization', 'Bearer nope')],
    ['prefix of the secret', (r: request.Test) => r.set('x-webhook-secret', SECRET.slice(0, 5))],
    ['empty header', (r: request.Test) => r.set('x-webhook-secret', '')],
  ])('%s → 401 UNAUTHORIZED and nothing stored', async (_name, decorate) => {
    const before = await db.pool.query('SELECT count(*)::int AS n FROM observations');
    const res = await decorate(send(app())).send(distinctVisit());
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ success: false, error: 'UNAUTHORIZED' });
    const after = await db.pool.query('SELECT count(*)::int AS n FROM observations');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('a wrong ?secret= is rejected', async () => {
    const res = await send(app(), '/api/webhook?secret=wrong').send(distinctVisit());
    expect(res.status).toBe(401);
  });

  it('without a configured secret the webhook is open in development', async () => {
    const res = await send(buildTestApp(db, { NODE_ENV: 'development' }).app).send(distinctVisit());
    expect(res.status).toBe(200);
  });

  it('without a configured secret production fails closed with 403 AUTH_NOT_CONFIGURED', async () => {
    const res = await send(buildTestApp(db, { NODE_ENV: 'production' }).app).send(distinctVisit());
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('AUTH_NOT_CONFIGURED');
  });

  it('compares secrets by digest: equal only when identical', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abd')).toBe(false);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
    expect(secretsEqual('', 'abc')).toBe(false);
  });
});

describe('rate limits', () => {
  it('limits a client to WEBHOOK_RATE_LIMIT requests per minute with 429 RATE_LIMITED', async () => {
    const { app } = buildTestApp(db, { WEBHOOK_RATE_LIMIT: '5' });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) statuses.push((await send(app).send(distinctVisit())).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await send(app).send(distinctVisit());
    expect(limited.body.error).toBe('RATE_LIMITED');
  });

  it('the default limit absorbs a Dux-Soup burst of 10 within a second', async () => {
    const { app } = buildTestApp(db, { WEBHOOK_RATE_LIMIT: '100' });
    const responses = await Promise.all(Array.from({ length: 10 }, () => send(app).send(distinctVisit())));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
  });

  it('failed authentication gets a much stricter limit, a valid secret is never slowed by it', async () => {
    const { app } = buildTestApp(db, { WEBHOOK_SECRET: SECRET, WEBHOOK_AUTH_FAILURE_LIMIT: '3' });
    const bad: number[] = [];
    for (let i = 0; i < 5; i += 1) bad.push((await send(app).set('x-webhook-secret', 'bad').send({})).status);
    expect(bad).toEqual([401, 401, 401, 429, 429]);
    const good = await Promise.all(
      Array.from({ length: 20 }, () => send(app).set('x-webhook-secret', SECRET).send(distinctVisit())),
    );
    expect(good.map((r) => r.status)).toEqual(Array(20).fill(200));
  });
});
