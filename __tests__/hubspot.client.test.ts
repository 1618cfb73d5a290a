import { HubspotApiError, HubspotClient } from '../src/sources/hubspot';
import type { BackoffSettings } from '../src/sources/hubspot/retry';
import { nextDelay, retryAfterMs } from '../src/sources/hubspot/retry';
import type { HubspotStandIn } from './helpers/hubspot-standin';
import {
  SECONDLY_MESSAGE,
  startHubspotStandIn,
  TEN_SECONDLY_MESSAGE,
  testClientOptions,
} from './helpers/hubspot-standin';

let standIn: HubspotStandIn;

beforeAll(async () => {
  standIn = await startHubspotStandIn({ seed: 5, associationPageSize: 2 });
});

afterAll(async () => {
  await standIn.close();
});

beforeEach(() => {
  standIn.reset();
  standIn.limits = { ...standIn.limits, tenSecondly: 100, searchSecondly: 5, retryAfterSeconds: null };
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  token: string | null = standIn.token,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON body, inspected freely by the assertions
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(standIn.baseUrl + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text), headers: response.headers };
}

describe('the HubSpot stand-in follows the documented contract', () => {
  it('authenticates with a Bearer token and answers JSON errors', async () => {
    const denied = await call('GET', '/crm/v3/objects/contacts', undefined, null);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('content-type')).toBe('application/json;charset=utf-8');
    expect(denied.body).toMatchObject({
      status: 'error',
      category: 'INVALID_AUTHENTICATION',
      message: expect.stringMatching(/^Authentication credentials not found\./),
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect((await call('GET', '/crm/v3/objects/contacts', undefined, 'wrong')).status).toBe(401);
    expect((await call('GET', '/crm/v3/objects/tickets')).status).toBe(404);
  });

  it('lists by id with limit / after, properties, archived=true and the rate-limit headers; every spelling of the path', async () => {
    standIn.generate({ contacts: 25 });
    standIn.archive('contacts', standIn.all('contacts')[0]!.id);
    const first = await call(
      'GET',
      '/crm/v3/objects/contacts?limit=10&properties=email&properties=jobtitle,nope',
    );
    expect(first.status).toBe(200);
    expect(first.body.results).toHaveLength(10);
    expect(Object.keys(first.body.results[0].properties).sort()).toEqual(
      ['createdate', 'email', 'hs_object_id', 'jobtitle', 'lastmodifieddate'].sort(),
    );
    expect(first.body.results[0]).toMatchObject({
      id: standIn.all('contacts')[1]!.id,
      archived: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      url: expect.stringContaining('/record/0-1/'),
    });
    expect(first.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
    expect(first.headers.get('x-hubspot-ratelimit-remaining')).toBe('99');
    const after = first.body.paging.next.after as string;
    const rest = await call('GET', `/crm/objects/v3/0-1?limit=100&after=${after}`);
    expect(rest.body.results).toHaveLength(14);
    expect(rest.body.paging).toBeUndefined();
    expect(Object.keys(rest.body.results[0].properties).sort()).toEqual(
      ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'].sort(),
    );
    const archived = await call('GET', '//crm/v3/objects/contacts?archived=true');
    expect(archived.body.results).toEqual([
      expect.objectContaining({ archived: true, archivedAt: expect.any(String) }),
    ]);
  });

  it('searches with filter groups, operators and one sort; refuses pages past the cap and too many filters', async () => {
    standIn.limits = { ...standIn.limits, searchSecondly: null };
    standIn.generate({ contacts: 40 });
    const records = standIn.all('contacts');
    const since = records[29]!.updatedAt;
    const gte = await call('POST', '/crm/v3/objects/contacts/search', {
      filterGroups: [
        { filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: String(since) }] },
      ],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'DESCENDING' }],
      properties: ['email'],
      limit: 4,
    });
    expect(gte.body.total).toBe(11);
    expect(gte.body.results.map((r: { id: string }) => r.id)).toEqual(
      records
        .slice(36)
        .map((r) => r.id)
        .reverse(),
    );
    expect(gte.body.paging.next.after).toBe('4');
    expect(gte.headers.get('x-hubspot-ratelimit-remaining')).toBeNull();
    const email = records[3]!.properties.email!;
    const or = await call('POST', '/crm/v3/objects/contacts/search', {
      filterGroups: [
        { filters: [{ propertyName: 'email', operator: 'EQ', value: email.toUpperCase() }] },
        { filters: [{ propertyName: 'hs_object_id', operator: 'IN', values: [records[5]!.id] }] },
      ],
    });
    expect(or.body.results.map((r: { id: string }) => r.id)).toEqual([records[3]!.id, records[5]!.id]);
    // Enumerations are case-sensitive; contacts have no hs_lastmodifieddate, so filters on it match nothing.
    const stage = records[0]!.properties.lifecyclestage!;
    const enumeration = (value: string) =>
      call('POST', '/crm/v3/objects/contacts/search', {
        filterGroups: [{ filters: [{ propertyName: 'lifecyclestage', operator: 'EQ', value }] }],
      });
    expect((await enumeration(stage)).body.total).toBeGreaterThan(0);
    expect((await enumeration(stage.toUpperCase())).body.total).toBe(0);
    const wrongProperty = await call('POST', '/crm/v3/objects/contacts/search', {
      filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GT', value: '0' }] }],
    });
    expect(wrongProperty.body.total).toBe(0);

    const capped = await call('POST', '/crm/v3/objects/contacts/search', { limit: 200, after: '9900' });
    expect(capped.status).toBe(400);
    expect(capped.body.category).toBe('VALIDATION_ERROR');
    const filters = Array.from({ length: 7 }, () => ({ propertyName: 'email', operator: 'HAS_PROPERTY' }));
    expect(
      (await call('POST', '/crm/v3/objects/contacts/search', { filterGroups: [{ filters }] })).status,
    ).toBe(400);
    expect((await call('POST', '/crm/v3/objects/contacts/search', { limit: 201 })).status).toBe(400);
  });

  it('answers batch calls with 207 multi-status, and more than 100 inputs with 400', async () => {
    const { contacts } = standIn.generate({ contacts: 3 });
    const update = await call('POST', '/crm/v3/objects/contacts/batch/update', {
      inputs: [
        { id: contacts[0], properties: { jobtitle: 'CTO' } },
        { id: '999', properties: { jobtitle: 'CTO' } },
      ],
    });
    expect(update.status).toBe(207);
    expect(update.body).toMatchObject({
      status: 'COMPLETE',
      numErrors: 1,
      results: [{ id: contacts[0], properties: { jobtitle: 'CTO' } }],
      errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', context: { ids: ['999'] } }],
    });
    const unknown = await call('POST', '/crm/v3/objects/contacts/batch/update', {
      inputs: [{ id: contacts[0], properties: { not_a_property: 'x' } }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.category).toBe('VALIDATION_ERROR');
    const tooMany = Array.from({ length: 101 }, (_, i) => ({ id: String(i), properties: {} }));
    expect((await call('POST', '/crm/v3/objects/contacts/batch/update', { inputs: tooMany })).status).toBe(
      400,
    );
    const read = await call('POST', '/crm/v3/objects/contacts/batch/read', { inputs: [{ id: contacts[1] }] });
    expect(read.status).toBe(200);
    const conflict = await call('POST', '/crm/v3/objects/contacts', {
      properties: { email: standIn.get('contacts', contacts[1]!)!.properties.email },
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toBe(`Contact already exists. Existing ID: ${contacts[1]}`);
    expect((await call('DELETE', `/crm/v3/objects/contacts/${contacts[2]}`)).status).toBe(204);
    expect((await call('GET', `/crm/v3/objects/contacts/${contacts[2]}`)).status).toBe(404);
  });

  it('reads associations v4 with per-input paging and 207 NO_ASSOCIATIONS_FOUND; writes them both ways', async () => {
    const { contacts, companies } = standIn.generate({ contacts: 2, companies: 3 });
    for (const company of companies) {
      expect(
        (await call('PUT', `/crm/v4/objects/contact/${contacts[0]}/associations/default/company/${company}`))
          .status,
      ).toBe(200);
    }
    const labelled = await call(
      'PUT',
      `/crm/v4/objects/0-1/${contacts[0]}/associations/0-2/${companies[0]}`,
      [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 1 }],
    );
    expect(labelled.status).toBe(201);
    const read = await call('POST', '/crm/v4/associations/contacts/companies/batch/read', {
      inputs: [{ id: contacts[0] }, { id: contacts[1] }],
    });
    expect(read.status).toBe(207);
    expect(read.body.results[0]).toMatchObject({
      from: { id: contacts[0] },
      to: [
        {
          toObjectId: Number(companies[0]),
          associationTypes: [
            { category: 'HUBSPOT_DEFINED', typeId: 1, label: 'Primary' },
            { category: 'HUBSPOT_DEFINED', typeId: 279, label: null },
          ],
        },
        { toObjectId: Number(companies[1]) },
      ],
      paging: { next: { after: expect.any(String) } },
    });
    expect(read.body.errors).toEqual([
      {
        status: 'error',
        category: 'OBJECT_NOT_FOUND',
        subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
        message: `No company is associated with contact ${contacts[1]}.`,
        context: { fromObjectId: [contacts[1]], fromObjectType: ['contact'], toObjectType: ['company'] },
      },
    ]);
    const more = await call('POST', '/crm/v4/associations/contact/company/batch/read', {
      inputs: [{ id: contacts[0], after: read.body.results[0].paging.next.after }],
    });
    expect(more.status).toBe(200);
    expect(more.body.results[0].to.map((to: { toObjectId: number }) => to.toObjectId)).toEqual([
      Number(companies[2]),
    ]);
    const reverse = await call('POST', '/crm/v4/associations/companies/contacts/batch/read', {
      inputs: [{ id: companies[0] }],
    });
    expect(reverse.body.results[0].to[0].associationTypes.map((t: { typeId: number }) => t.typeId)).toEqual([
      2, 280,
    ]);
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ id: String(i) }));
    expect(
      (await call('POST', '/crm/v4/associations/contacts/companies/batch/read', { inputs: tooMany })).status,
    ).toBe(400);
  });

  it('answers bursts with HubSpot 429 bodies, exact strings, for both policies', async () => {
    standIn.limits = { ...standIn.limits, tenSecondly: 2, searchSecondly: 1, retryAfterSeconds: 1 };
    await call('GET', '/crm/v3/objects/deals');
    await call('GET', '/crm/v3/objects/deals');
    const burst = await call('GET', '/crm/v3/objects/deals');
    expect(burst.status).toBe(429);
    expect(burst.body).toMatchObject({
      status: 'error',
      message: TEN_SECONDLY_MESSAGE,
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
      groupName: expect.stringContaining('ten-secondly'),
    });
    expect(burst.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
    expect(burst.headers.get('retry-after')).toBe('1');
    await call('POST', '/crm/v3/objects/deals/search', {});
    const searches = await call('POST', '/crm/v3/objects/deals/search', {});
    expect(searches.status).toBe(429);
    expect(searches.body).toEqual({
      status: 'error',
      message: SECONDLY_MESSAGE,
      errorType: 'RATE_LIMIT',
      correlationId: expect.any(String),
    });
  });

  it('is driven over HTTP under /__stub/: seed, faults, request log, reset', async () => {
    expect((await call('POST', '/__stub/seed', { contacts: 3, seed: 1 }, null)).body.contacts).toHaveLength(
      3,
    );
    await call(
      'POST',
      '/__stub/faults',
      { route: 'GET /crm/v3/objects/contacts/{id}', count: 1, response: 502 },
      null,
    );
    const id = standIn.all('contacts')[0]!.id;
    expect((await call('GET', `/crm/v3/objects/contacts/${id}`)).status).toBe(502);
    expect((await call('GET', `/crm/v3/objects/contacts/${id}`)).status).toBe(200);
    const log = await call('GET', '/__stub/requests', undefined, null);
    expect(log.body.requests.map((r: { route: string; status: number }) => [r.route, r.status])).toEqual([
      ['GET /crm/v3/objects/contacts/{id}', 502],
      ['GET /crm/v3/objects/contacts/{id}', 200],
    ]);
    await call('POST', '/__stub/reset', {}, null);
    expect(standIn.all('contacts')).toHaveLength(0);
  });

  it('generates the same portal from the same seed (ids, timestamps, values), in memory', () => {
    const portal = () => JSON.stringify(standIn.all('contacts').map((record) => standIn.view(record)));
    standIn.generate({ contacts: 25_000 });
    const first = portal();
    standIn.reset();
    standIn.generate({ contacts: 25_000 });
    expect(portal()).toBe(first);
    expect(standIn.all('contacts')).toHaveLength(25_000);
  });
});

describe('the client retry policy', () => {
  const settings: BackoffSettings = {
    maxAttempts: 4,
    baseDelayMs: 100,
    tenSecondlyBaseDelayMs: 1000,
    secondlyBaseDelayMs: 300,
    maxDelayMs: 5000,
    maxRetryAfterMs: 60_000,
  };
  const http = (status: number, body: unknown = {}, retryAfter: string | null = null) =>
    ({ kind: 'http', status, body, retryAfter }) as const;
  const max = () => 1;

  it('backs off exponentially with full jitter, per policy, capped, for a bounded number of attempts', () => {
    const tenSecondly = http(429, { policyName: 'TEN_SECONDLY_ROLLING', message: TEN_SECONDLY_MESSAGE });
    expect([1, 2, 3].map((attempt) => nextDelay(tenSecondly, attempt, settings, max))).toEqual([
      1000, 2000, 4000,
    ]);
    expect(nextDelay(tenSecondly, 4, settings, max)).toBeNull();
    expect(nextDelay(http(429, { message: SECONDLY_MESSAGE }), 2, settings, max)).toBe(600);
    expect(nextDelay(http(500), 3, settings, max)).toBe(400);
    expect(nextDelay({ kind: 'timeout' }, 1, settings, max)).toBe(100);
    expect(nextDelay({ kind: 'network', message: 'ECONNRESET' }, 1, settings, () => 0.5)).toBe(50);
    expect(nextDelay(tenSecondly, 3, { ...settings, maxDelayMs: 1500 }, max)).toBe(1500);
  });

  it('honours Retry-After (seconds or a date); gives up at once on DAILY and on client errors', () => {
    expect(nextDelay(http(429, {}, '7'), 1, settings)).toBe(7000);
    expect(nextDelay(http(503, {}, '2'), 1, settings)).toBe(2000);
    expect(nextDelay(http(429, {}, '3600'), 1, settings)).toBeNull();
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(
      30_000,
    );
    expect(nextDelay(http(429, { policyName: 'DAILY' }), 1, settings)).toBeNull();
    for (const status of [400, 401, 403, 404, 409]) expect(nextDelay(http(status), 1, settings)).toBeNull();
  });

  it('retries timeouts and gives up with a typed error naming the call (never the token)', async () => {
    standIn.fault({ route: 'GET /crm/v3/objects/contacts', count: 10, response: 'timeout', delayMs: 5000 });
    const client = new HubspotClient(testClientOptions(standIn, { timeoutMs: 200, maxRetries: 2 }));
    const error = await client
      .listObjects('contacts', { limit: 10, properties: ['email'] })
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(HubspotApiError);
    expect((error as HubspotApiError).details).toMatchObject({
      method: 'GET',
      path: '/crm/v3/objects/contacts',
      status: null,
      category: 'timeout',
      attempts: 3,
    });
    expect((error as Error).message).toBe(
      'HubSpot GET /crm/v3/objects/contacts failed after 3 attempts: timeout',
    );
    expect(JSON.stringify(error)).not.toContain(standIn.token);
    // (On a loaded machine an attempt may time out before it even reaches the stand-in: at most three arrive.)
    expect(standIn.requestsTo('GET /crm/v3/objects/contacts').length).toBeLessThanOrEqual(3);
  });

  it('does not retry a 401, and stops waiting when the run is aborted', async () => {
    const client = new HubspotClient(testClientOptions(standIn, { token: 'wrong-token' }));
    await expect(client.listObjects('deals', { limit: 1, properties: [] })).rejects.toMatchObject({
      details: { status: 401, category: 'INVALID_AUTHENTICATION', attempts: 1 },
    });
    standIn.fault({ route: 'GET /crm/v3/objects/deals', count: 10, response: 500 });
    const slow = new HubspotClient(
      testClientOptions(standIn, { backoff: { baseDelayMs: 10_000, maxDelayMs: 10_000 }, random: () => 1 }),
    );
    const controller = new AbortController();
    const pending = slow.listObjects('deals', { limit: 1, properties: [] }, controller.signal);
    setTimeout(() => controller.abort(new Error('stop')), 50);
    await expect(pending).rejects.toThrow('stop');
  });
});
