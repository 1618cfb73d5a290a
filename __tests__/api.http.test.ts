import request from 'supertest';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';
import { createPool } from '../src/db/pool';
import { freePort } from '../src/db/embedded';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('health', () => {
  it('GET /health answers 200 ok with the database state when ready', async () => {
    const res = await request(buildTestApp(db).app).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', database: { connected: true, migrated: true } });
    expect(Number.isNaN(Date.parse(res.body.timestamp))).toBe(false);
  });

  it('GET /health answers 200 "starting" and /health/ready 503 before the database is ready', async () => {
    const { app, context } = buildTestApp(null);
    const health = await request(app).get('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('starting');
    const ready = await request(app).get('/health/ready');
    expect(ready.status).toBe(503);

    context.database.pool = db.pool;
    context.database.migrated = true;
    expect((await request(app).get('/health/ready')).status).toBe(200);
  });

  it('the webhook answers 503 DATABASE_UNAVAILABLE with Retry-After before the database is ready', async () => {
    const res = await request(buildTestApp(null).app).post('/api/webhook').send(distinctVisit());
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('DATABASE_UNAVAILABLE');
    expect(res.headers['retry-after']).toBeDefined();
  });
});

describe('database failures are 503, never 2xx or 500', () => {
  it('a database that refuses connections → 503 with Retry-After', async () => {
    const deadPool = createPool({
      connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/nothing`,
      max: 2,
      connectTimeoutMs: 500,
      queryTimeoutMs: 1000,
    });
    const { app, context } = buildTestApp(null);
    context.database.pool = deadPool;
    context.database.migrated = true;
    const res = await request(app)
      .post('/api/webhook')
      .set('content-type', 'application/json')
      .send(distinctVisit());
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('DATABASE_UNAVAILABLE');
    expect(res.headers['retry-after']).toBe('5');
    await deadPool.end();
  });

  it('a database whose connections are terminated mid-flight → 503, and the next request succeeds', async () => {
    const pool = createPool({
      connectionString: db.url,
      max: 1,
      connectTimeoutMs: 2000,
      queryTimeoutMs: 5000,
    });
    const { app, context } = buildTestApp(null);
    context.database.pool = pool;
    context.database.migrated = true;
    const warm = await request(app)
      .post('/api/webhook')
      .send(Buffer.from(JSON.stringify(distinctVisit())));
    expect(warm.status).toBe(200);
    await db.pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'duxsoup-etl' AND pid <> pg_backend_pid()",
      [db.name],
    );
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push(
        (
          await request(app)
            .post('/api/webhook')
            .send(Buffer.from(JSON.stringify(distinctVisit())))
        ).status,
      );
    }
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    expect(statuses[statuses.length - 1]).toBe(200);
    await pool.end();
  });
});

describe('HTTP conventions', () => {
  const app = () => buildTestApp(db, { ALLOWED_ORIGINS: 'https://app.example.com' }).app;

  it('echoes a given X-Request-Id and generates one otherwise', async () => {
    const given = await request(app()).get('/health').set('x-request-id', 'abc-123');
    expect(given.headers['x-request-id']).toBe('abc-123');
    const generated = await request(app()).get('/health');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await request(app()).get('/health').set('x-request-id', '<script>'.repeat(3));
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await request(app()).get('/nope');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toMatchObject({ success: false, error: 'ROUTE_NOT_FOUND' });
  });

  it('never answers with HTML, even for a malformed URL', async () => {
    const res = await request(app()).get('/api/%E0%A4%A');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/application\/json/);
  });

  it('sets helmet security headers and no X-Powered-By', async () => {
    const res = await request(app()).get('/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('allows CORS only for ALLOWED_ORIGINS', async () => {
    const allowed = await request(app()).get('/health').set('origin', 'https://app.example.com');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const denied = await request(app()).get('/health').set('origin', 'https://evil.example.com');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });
});
