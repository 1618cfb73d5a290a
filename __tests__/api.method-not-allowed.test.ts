import type { Express } from 'express';
import request from 'supertest';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

const API_KEY = 'method-api-key';
const WEBHOOK_SECRET = 'method-webhook-secret';
const ADMIN_SECRET = 'method-admin-secret';
const ORIGIN = 'https://app.example.com';

let db: TestDatabase;
let app: Express;

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db, {
    API_KEYS: API_KEY,
    WEBHOOK_SECRET,
    ADMIN_SECRET,
    ALLOWED_ORIGINS: ORIGIN,
    READ_RATE_LIMIT: '0',
    ADMIN_RATE_LIMIT: '0',
  }).app;
});
afterAll(() => db.drop());

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head' | 'options';

function send(method: Method, path: string, headers: Record<string, string> = {}): request.Test {
  let pending = request(app)[method](path);
  for (const [name, value] of Object.entries(headers)) pending = pending.set(name, value);
  return pending;
}

const withKey = { 'X-API-Key': API_KEY };
const withAdmin = { 'X-Admin-Secret': ADMIN_SECRET };

describe('a known path asked with a method it does not answer', () => {
  it.each([
    ['get', '/api/webhook', 'POST', {}],
    ['put', '/api/lead', 'POST', {}],
    ['delete', '/api/query/people', 'POST', withKey],
    ['get', '/api/query/companies', 'POST', withKey],
    ['post', '/api/query/help', 'GET, HEAD', withKey],
    ['delete', '/api/people/0b7a7c43-58d4-4b2a-9c51-3f6f7d0e9a11', 'GET, HEAD', withKey],
    ['put', '/api/leads/12', 'GET, HEAD, PATCH', withKey],
    ['post', '/api/people/by-alias/alex-moreno', 'GET, HEAD', withKey],
    ['get', '/api/admin/replay/1', 'POST', withAdmin],
    ['get', '/etl/hubspot/contacts', 'POST', withAdmin],
    ['post', '/health', 'GET, HEAD', {}],
    ['delete', '/metrics', 'GET, HEAD', withKey],
    ['post', '/api/docs/openapi.json', 'GET, HEAD', {}],
  ] as const)('%s %s → 405 METHOD_NOT_ALLOWED, Allow: %s', async (method, path, allow, headers) => {
    const res = await send(method, path, headers);
    expect([res.status, res.headers.allow]).toEqual([405, allow]);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      success: false,
      error: 'METHOD_NOT_ALLOWED',
      message: `${method.toUpperCase()} is not allowed here; this path answers ${allow}`,
      requestId: res.headers['x-request-id'],
    });
  });

  it('matches paths as the routes do: any case, a trailing slash, a query string', async () => {
    for (const path of ['/API/Webhook', '/api/webhook/', `/api/webhook?secret=${WEBHOOK_SECRET}`]) {
      const res = await send('get', path);
      expect([path, res.status, res.headers.allow]).toEqual([path, 405, 'POST']);
    }
  });

  it('lists every method any route answers on the path, across routers', async () => {
    // POST /api/export/:entity/:format also matches /api/export/status/:jobId, whose GET is another route.
    const res = await send('put', '/api/export/status/0b7a7c43-58d4-4b2a-9c51-3f6f7d0e9a11', withKey);
    expect([res.status, res.headers.allow]).toEqual([405, 'GET, HEAD, POST']);
  });
});

describe('authentication is never bypassed', () => {
  it('a guarded path answers 401 without credentials, whatever the method, and 405 only with them', async () => {
    for (const [method, path, headers] of [
      ['delete', '/api/query/people', withKey],
      ['put', '/api/leads/12', withKey],
      ['get', '/api/admin/replay/1', withAdmin],
      ['get', '/etl/hubspot/deals', withAdmin],
    ] as const) {
      const anonymous = await send(method, path);
      expect([method, path, anonymous.status, anonymous.body.error, anonymous.headers.allow]).toEqual([
        method,
        path,
        401,
        'UNAUTHORIZED',
        undefined,
      ]);
      const wrongKey = await send(method, path, { 'X-API-Key': 'wrong', 'X-Admin-Secret': 'wrong' });
      expect([method, path, wrongKey.status]).toEqual([method, path, 401]);
      expect([method, path, (await send(method, path, headers)).status]).toEqual([method, path, 405]);
    }
  });

  it('a 405 from an open path stores nothing and says nothing beyond the methods', async () => {
    const counts = async () =>
      (
        await db.pool.query<{ observations: number; rejected: number }>(
          `SELECT (SELECT count(*)::int FROM observations) AS observations,
                  (SELECT count(*)::int FROM rejected_inputs) AS rejected`,
        )
      ).rows[0];
    const before = await counts();
    const res = await send('put', '/api/webhook')
      .set('content-type', 'application/json')
      .send('{"type":"visit"}');
    expect(res.status).toBe(405);
    expect(Object.keys(res.body as object).sort()).toEqual(['error', 'message', 'requestId', 'success']);
    expect(await counts()).toEqual(before);
  });
});

describe('what stays 404', () => {
  it('an unknown path is 404 ROUTE_NOT_FOUND, without Allow, whatever the method', async () => {
    for (const method of ['get', 'post', 'delete'] as const) {
      for (const path of ['/api/no-such-route', '/nope', '/api/webhook/extra']) {
        const res = await send(method, path, withKey);
        expect([method, path, res.status, res.body.error, res.headers.allow]).toEqual([
          method,
          path,
          404,
          'ROUTE_NOT_FOUND',
          undefined,
        ]);
      }
    }
  });

  it('a route that takes the method and finds nothing stays 404 (an unknown export entity)', async () => {
    const res = await send('post', '/api/export/observations/csv', withKey).send({});
    expect([res.status, res.body.error, res.headers.allow]).toEqual([404, 'ROUTE_NOT_FOUND', undefined]);
  });
});

describe('HEAD and OPTIONS', () => {
  it('HEAD is answered wherever GET is, and is 405 with Allow (and no body) where it is not', async () => {
    const health = await send('head', '/health');
    expect([health.status, health.headers.allow]).toEqual([200, undefined]);
    const person = await send('head', '/api/people/by-alias/nobody', withKey);
    expect(person.status).toBe(404);
    const webhook = await send('head', '/api/webhook');
    expect([webhook.status, webhook.headers.allow, webhook.text ?? '']).toEqual([405, 'POST', '']);
  });

  it('a CORS preflight from an allowed origin is answered by CORS, never 405 or 401', async () => {
    for (const [path, method] of [
      ['/api/query/people', 'POST'],
      ['/api/webhook', 'POST'],
      ['/api/leads/12', 'PATCH'],
    ] as const) {
      const res = await send('options', path, {
        Origin: ORIGIN,
        'Access-Control-Request-Method': method,
        'Access-Control-Request-Headers': 'content-type, x-api-key',
      });
      expect([path, res.status, res.headers['access-control-allow-origin']]).toEqual([path, 204, ORIGIN]);
      expect(res.headers['access-control-allow-methods']).toContain(method);
    }
  });

  it('a cross-origin 405 carries the CORS headers, and a browser may read its Allow header', async () => {
    const res = await send('get', '/api/webhook', { Origin: ORIGIN });
    expect([res.status, res.headers.allow]).toEqual([405, 'POST']);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(res.headers['access-control-expose-headers']).toContain('Allow');
    const foreign = await send('get', '/api/webhook', { Origin: 'https://evil.example.com' });
    expect([foreign.status, foreign.headers['access-control-allow-origin']]).toEqual([405, undefined]);
  });

  it('without CORS, OPTIONS lists the methods of a known path and is 404 on an unknown one', async () => {
    const plain = buildTestApp(db).app;
    const known = await request(plain).options('/api/webhook');
    expect([known.status, known.headers.allow]).toEqual([200, 'POST']);
    const leads = await request(plain).options('/api/leads/12');
    expect([leads.status, leads.headers.allow]).toEqual([200, 'GET, HEAD, PATCH']);
    const unknown = await request(plain).options('/api/no-such-route');
    expect([unknown.status, unknown.body.error]).toEqual([404, 'ROUTE_NOT_FOUND']);
  });
});
