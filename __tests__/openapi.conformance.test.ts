import type { ResponseConfig, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Express } from 'express';
import request from 'supertest';
import { z, ZodObject } from 'zod';
import type { ZodType } from 'zod';
import { buildOpenApiRegistry } from '../src/api/openapi/document';
import { WEBHOOK_EXAMPLE_FIXTURES } from '../src/api/openapi/examples';
import { SECURITY_SCHEMES } from '../src/api/openapi/security';
import type { Pool } from '../src/db';
import { drainExports, exportSettingsFromConfig } from '../src/exports';
import { mountedRoutes, routeMatcher, toOpenApiPath } from '../src/metrics';
import { buildTestApp } from './helpers/app';
import type { TestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit, fixture, loadFixtures } from './helpers/fixtures';
import type { HubspotStandIn } from './helpers/hubspot-standin';
import { startHubspotStandIn } from './helpers/hubspot-standin';

jest.setTimeout(180_000);

const API_KEY = 'conformance-api-key';
const WEBHOOK_SECRET = 'conformance-webhook-secret';
const ADMIN_SECRET = 'conformance-admin-secret';
const LEAD_SECRET = 'conformance-lead-secret';
const METRICS_TOKEN = 'conformance-metrics-token';
const UNKNOWN_UUID = '0b7a7c43-58d4-4b2a-9c51-3f6f7d0e9a11';

/** Path parameter values for requests that only need to reach a guard. */
const SAMPLE_PARAMS: Record<string, string> = {
  id: UNKNOWN_UUID,
  value: 'nobody',
  jobId: UNKNOWN_UUID,
  entity: 'people',
  format: 'csv',
  tier: 'VP',
  observationId: '1',
  hubspotId: '1',
};

type Method = 'get' | 'post' | 'patch';

interface Documented {
  operationId: string;
  method: Method;
  /** OpenAPI form. */
  path: string;
  security: Record<string, string[]>[];
  requestBody: ZodType | null;
  responses: Record<string, ResponseConfig>;
}

function documentedOperations(): Documented[] {
  return buildOpenApiRegistry()
    .definitions.filter((definition) => definition.type === 'route')
    .map(({ route }: { route: RouteConfig }) => {
      const body = route.request?.body?.content['application/json'];
      return {
        operationId: route.operationId!,
        method: route.method as Method,
        path: route.path,
        security: route.security ?? [],
        requestBody: body && 'schema' in body ? (body.schema as ZodType) : null,
        responses: route.responses as Record<string, ResponseConfig>,
      };
    });
}

const operations = documentedOperations();
const byId = new Map(operations.map((operation) => [operation.operationId, operation]));
const documentedMatcher = routeMatcher(
  operations.map((operation) => ({
    method: operation.method,
    path: operation.path.replace(/\{(\w+)\}/g, ':$1'),
  })),
);

interface Exchange {
  operationId: string;
  method: Method;
  path: string;
  requestBody?: unknown;
  status: number;
  contentType: string;
  body: unknown;
  text: string;
}

const exchanges: Exchange[] = [];

interface Call {
  body?: unknown;
  /** Sent as is with Content-Type: application/json (bodies that are not valid JSON). */
  raw?: string;
  headers?: Record<string, string>;
}

/** Sends one request, records the exchange for the checks below, and returns the response. */
async function exercise(
  app: Express,
  operationId: string,
  method: Method,
  path: string,
  call: Call = {},
): Promise<request.Response> {
  let pending = request(app)[method](path);
  for (const [name, value] of Object.entries(call.headers ?? {})) pending = pending.set(name, value);
  if (call.raw !== undefined) pending = pending.set('content-type', 'application/json').send(call.raw);
  else if (call.body !== undefined) pending = pending.send(call.body as object);
  const res = await pending;
  exchanges.push({
    operationId,
    method,
    path,
    requestBody: call.raw === undefined ? call.body : undefined,
    status: res.status,
    contentType: String(res.headers['content-type'] ?? ''),
    body: res.body,
    text: res.text ?? '',
  });
  return res;
}

function fillPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(SAMPLE_PARAMS[name] ?? 'x'));
}

/** Plain `z.object`s (the error bodies) are checked strictly too: no undocumented property at the top. */
function strictTop(schema: ZodType): ZodType {
  return schema instanceof ZodObject && schema._zod.def.catchall === undefined
    ? z.strictObject(schema.shape)
    : schema;
}

function disagreementsOf(exchange: Exchange): string[] {
  const where = `${exchange.method.toUpperCase()} ${exchange.path} (${exchange.operationId}) → ${exchange.status}`;
  const operation = byId.get(exchange.operationId);
  if (!operation) return [`${where}: no documented operation ${exchange.operationId}`];
  const problems: string[] = [];
  const matched = documentedMatcher.match(exchange.method, exchange.path.split('?')[0]!);
  if (matched !== operation.path.replace(/\{(\w+)\}/g, ':$1')) {
    problems.push(`${where}: the request matches ${matched ?? 'no documented path'}, not ${operation.path}`);
  }
  if (exchange.requestBody !== undefined && exchange.status < 300 && operation.requestBody) {
    const parsed = operation.requestBody.safeParse(exchange.requestBody);
    if (!parsed.success) problems.push(`${where}: request body:\n${z.prettifyError(parsed.error)}`);
  }
  const response = operation.responses[String(exchange.status)];
  if (!response) {
    const documented = Object.keys(operation.responses).join(', ');
    return [
      ...problems,
      `${where}: status not documented (documented: ${documented}): ${exchange.text.slice(0, 300)}`,
    ];
  }
  // A documented redirect carries no documented body (Express writes a short note).
  if (!response.content && exchange.status >= 300 && exchange.status < 400) return problems;
  const mediaType = exchange.contentType.split(';')[0]!.trim();
  const media = response.content?.[mediaType];
  if (!media || !('schema' in media)) {
    const documented = Object.keys(response.content ?? {}).join(', ') || 'no body';
    return [
      ...problems,
      `${where}: content type ${mediaType || '(none)'} not documented (documented: ${documented})`,
    ];
  }
  const value = mediaType === 'application/json' ? exchange.body : exchange.text;
  const parsed = strictTop(media.schema as ZodType).safeParse(value);
  if (!parsed.success) {
    problems.push(
      `${where}:\n${z.prettifyError(parsed.error)}\nbody: ${JSON.stringify(value).slice(0, 600)}`,
    );
  }
  return problems;
}

let db: TestDatabase;
let standIn: HubspotStandIn;
/** Development set-up: no secrets, no rate limits, Phase 2 inline, HubSpot pointed at the stand-in. */
let open: TestApp;
/** Every secret set, no HubSpot token. */
let secured: TestApp;
/** Production without secrets. */
let unconfigured: TestApp;
/** No database at all. */
let offline: TestApp;

async function waitForRun(runId: number): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const res = await request(open.app).get(`/etl/hubspot/runs/${runId}`);
    if (res.body.run?.finishedAt) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`HubSpot run ${runId} did not finish`);
}

/** Person writes fail for first names listed in failure_switch (a real trigger): dead letters on demand. */
async function installFailureSwitch(pool: Pool): Promise<void> {
  await pool.query(`
    CREATE TABLE failure_switch (first_name text PRIMARY KEY);
    CREATE FUNCTION fail_switched_person() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM failure_switch WHERE first_name = NEW.snapshot->>'firstName') THEN
          RAISE EXCEPTION 'simulated failure writing %', NEW.snapshot->>'firstName';
        END IF;
        RETURN NEW;
      END $$;
    CREATE TRIGGER fail_switched_person BEFORE INSERT OR UPDATE ON persons
      FOR EACH ROW EXECUTE FUNCTION fail_switched_person();
  `);
}

/** Representative requests for every documented operation: 2xx answers and the common 4xx. */
async function driveEveryOperation(): Promise<void> {
  const app = open.app;
  const get = (operationId: string, path: string, call?: Call) =>
    exercise(app, operationId, 'get', path, call);
  const post = (operationId: string, path: string, call?: Call) =>
    exercise(app, operationId, 'post', path, call);

  // Webhook: every public sample, a repeat, a dead one, one without identity, and the rejections.
  const answers: Record<number, { observation_id: number; person_id?: string; company_id?: string }> = {};
  for (const sample of loadFixtures()) {
    answers[sample.index] = (await post('receiveWebhook', '/api/webhook', { body: sample.payload })).body;
  }
  await post('receiveWebhook', '/api/webhook', { body: fixture(0) });
  for (let seed = 1; seed <= 4; seed += 1)
    await post('receiveWebhook', '/api/webhook', { body: distinctVisit(seed) });
  const doomed = distinctVisit(5) as { data: Record<string, unknown> };
  doomed.data['First Name'] = 'Explodes';
  await db.pool.query(`INSERT INTO failure_switch VALUES ('Explodes')`);
  const dead = (await post('receiveWebhook', '/api/webhook', { body: doomed })).body as {
    observation_id: number;
  };
  await db.pool.query('DELETE FROM failure_switch');
  const anonymous = {
    ...fixture(0),
    data: { 'First Name': 'Nobody', VisitTime: 1_751_500_000_000, Title: 'CTO' },
  };
  const skipped = (await post('receiveWebhook', '/api/webhook', { body: anonymous })).body as {
    observation_id: number;
  };
  // Dana moves on two months later: a job change for the changes and the timeline.
  const moved = fixture(0) as { data: Record<string, unknown> };
  moved.data = {
    ...moved.data,
    VisitTime: (moved.data.VisitTime as number) + 60 * 86_400_000,
    Company: 'Lattice Defence',
    CompanyProfile: 'https://www.linkedin.com/company/91919191/',
    Title: 'Chief Security Officer',
  };
  await post('receiveWebhook', '/api/webhook', { body: moved });
  await post('receiveWebhook', '/api/webhook', { raw: '{"type": "visit",' });
  await post('receiveWebhook', '/api/webhook', { body: { type: 'visit', data: [] } });

  const dana = answers[0]!;
  // People, companies, locations.
  await get('getPerson', `/api/people/${dana.person_id}`);
  await get('getPerson', '/api/people/18619978');
  await get('getPerson', `/api/people/${UNKNOWN_UUID}`);
  await get(
    'getPersonByAlias',
    `/api/people/by-alias/${encodeURIComponent('https://www.linkedin.com/in/danawhitfield')}`,
  );
  await get('getPersonByAlias', '/api/people/by-alias/nobody-at-all');
  await post('getPeopleByAliases', '/api/people/by-aliases', {
    body: { values: ['18619978', 'nobody-at-all'] },
  });
  await post('getPeopleByAliases', '/api/people/by-aliases', { body: { values: [] } });
  await post('getPeopleByAliases', '/api/people/by-aliases', { raw: '{"values": [' });
  await get('getCompany', `/api/companies/${dana.company_id}`);
  await get('getCompany', '/api/companies/735879098');
  await get('getCompany', '/api/companies/no-such-company-anywhere');
  await get('getCompanyByAlias', '/api/companies/by-alias/735879098');
  await get('getCompanyByAlias', '/api/companies/by-alias/no-such-company-anywhere');
  await get('getLocation', `/api/locations/${encodeURIComponent('Los Angeles, California, United States')}`);
  await get('getLocation', `/api/locations/${UNKNOWN_UUID}`);
  await get('getLocationByAlias', `/api/locations/by-alias/${encodeURIComponent('los angeles, california')}`);
  await get('getLocationByAlias', '/api/locations/by-alias/atlantis');

  // Search and seniority.
  await get('search', '/api/search?q=dana');
  await get('search', '/api/search?q=a');
  await get('searchPeople', '/api/search/people?q=moreno&limit=1');
  await get('searchPeople', '/api/search/people?q=moreno&limit=1000');
  await get('searchPeople', '/api/search/people?q=moreno&skip=-1');
  await get('seniorityTiers', '/api/seniority/tiers');
  await get('seniorityDistribution', '/api/seniority/distribution');
  await get('peopleInTier', '/api/seniority/by-tier/CXO');
  await get('peopleInTier', '/api/seniority/by-tier/7?limit=1');
  await get('peopleInTier', '/api/seniority/by-tier/emperor');
  await get('seniorityAnalysis', '/api/seniority/analysis');
  await get('seniorityAnalysis', '/api/seniority/analysis?top=x');

  // Changes and timeline.
  await get('recentChanges', '/api/changes?days=3650');
  await get('recentChanges', '/api/changes?type=promotion&days=3650&limit=5');
  await get('recentChanges', '/api/changes?type=coronation');
  await get('recentChanges', '/api/changes?days=0');
  await get('recentChanges', '/api/changes?limit=501');
  await get('changesOfPerson', `/api/changes/person/${dana.person_id}`);
  await get('changesOfPerson', `/api/changes/person/${UNKNOWN_UUID}`);
  await get('personTimeline', `/api/people/${dana.person_id}/timeline`);
  await get('personTimeline', `/api/people/${dana.person_id}/timeline?from=2025-01-01&to=2025-12-31&limit=2`);
  await get('personTimeline', `/api/people/${dana.person_id}/timeline?from=2025-12-31&to=2025-01-01`);
  await get('personTimeline', `/api/people/${UNKNOWN_UUID}/timeline`);

  // Query.
  await get('queryHelp', '/api/query/help');
  await post('queryPeople', '/api/query/people', {
    body: { filters: { seniorityLevel: { $gte: 1 } }, sort: { lastObservedAt: -1 }, limit: 2 },
  });
  await post('queryPeople', '/api/query/people', { body: { fields: ['fullName', 'skills', 'roles.title'] } });
  await post('queryPeople', '/api/query/people', { body: { filters: { nope: 1 } } });
  await post('queryPeople', '/api/query/people', { body: { filters: { fullName: { $where: 'x' } } } });
  await post('queryPeople', '/api/query/people', { body: { limit: 5000 } });
  await post('queryPeople', '/api/query/people', { body: { sort: { nope: 1 } } });
  await post('queryCompanies', '/api/query/companies', { body: { limit: 2 } });
  await post('queryCompanies', '/api/query/companies', { body: { filters: { name: { $regex: '(' } } } });

  // Exports: queue, poll, produce, download.
  const csv = await post('createExport', '/api/export/people/csv', {
    body: { fields: ['fullName', 'email'] },
  });
  const json = await post('createExport', '/api/export/companies/json', { body: {} });
  await post('createExport', '/api/export/planets/csv', { body: {} });
  await post('createExport', '/api/export/people/csv', { body: { filters: { nope: 1 } } });
  await post('createExport', '/api/export/people/json', { body: { bom: true } });
  await get('exportStatus', `/api/export/status/${csv.body.jobId}`);
  await get('exportDownload', `/api/export/download/${csv.body.jobId}`);
  await drainExports(db.pool, exportSettingsFromConfig(open.context.config));
  await get('exportStatus', `/api/export/status/${csv.body.jobId}`);
  await get('exportStatus', `/api/export/status/${UNKNOWN_UUID}`);
  await get('exportDownload', `/api/export/download/${csv.body.jobId}`);
  await get('exportDownload', `/api/export/download/${json.body.jobId}`);
  await get('exportDownload', `/api/export/download/${UNKNOWN_UUID}`);

  // Health figures.
  await exercise(open.app, 'health', 'get', '/health');
  await exercise(open.app, 'ready', 'get', '/health/ready');
  for (const [operationId, path] of [
    ['healthIngestion', '/api/health/ingestion?hours=48'],
    ['healthParity', '/api/health/parity'],
    ['healthDashboard', '/api/health/dashboard?fresh=true'],
    ['healthMetrics', '/api/health/metrics'],
    ['healthDataQuality', '/api/health/data-quality'],
    ['healthIdentityCoverage', '/api/health/coverage-breakdown'],
    ['healthCanonicalCoverage', '/api/health/canonical-coverage'],
    ['healthCompanyCoverage', '/api/health/company-coverage'],
    ['healthLocationCoverage', '/api/health/location-coverage'],
  ] as const) {
    await get(operationId, path);
  }
  await get('healthIngestion', '/api/health/ingestion?hours=0');
  await get('testNotifications', '/api/health/test-notifications');
  await get('testNotifications', '/api/health/test-notifications?send=true');
  await get('testNotifications', '/api/health/test-notifications?send=maybe');

  // Admin replays.
  await post('replayObservation', `/api/admin/replay/${dead.observation_id}`);
  await post('replayObservation', `/api/admin/replay/${answers[0]!.observation_id}`);
  await post('replayObservation', `/api/admin/replay/${skipped.observation_id}`);
  await post('replayObservation', `/api/admin/replay/${answers[8]!.observation_id}`);
  await post('replayObservation', '/api/admin/replay/999999');
  await post('replayObservation', '/api/admin/replay/abc');

  // Leads.
  const leadBody = {
    email: 'dana@whitfield.example',
    firstName: 'Dana',
    lastName: 'Whitfield',
    phone: '+14155550100',
    country: 'US',
    offer: 'demo',
    sourcetype: 'form',
  };
  const lead = await post('receiveLead', '/api/lead', { body: leadBody });
  await post('receiveLead', '/api/lead', { body: leadBody });
  await post('receiveLead', '/api/lead', { raw: '[1, 2]' });
  const leadId = lead.body.lead_id as string;
  await get('listLeads', '/api/leads');
  await get('listLeads', '/api/leads?status=new,contacted&from=2020-01-01&limit=10');
  await get('listLeads', '/api/leads?status=sold');
  await get('listLeads', '/api/leads?colour=red');
  await get('getLead', `/api/leads/${leadId}`);
  await get('getLead', `/api/leads/${UNKNOWN_UUID}`);
  await exercise(app, 'updateLead', 'patch', `/api/leads/${leadId}`, {
    body: { status: 'contacted', assignedTo: 'amy' },
    headers: { 'X-Actor': 'Amy Jones' },
  });
  await exercise(app, 'updateLead', 'patch', `/api/leads/${leadId}`, { body: { status: 'sold' } });
  await exercise(app, 'updateLead', 'patch', `/api/leads/${leadId}`, { body: {} });
  await exercise(app, 'updateLead', 'patch', `/api/leads/${UNKNOWN_UUID}`, { body: { status: 'won' } });
  await get('leadHistory', `/api/leads/${leadId}/history`);
  await get('leadHistory', `/api/leads/${UNKNOWN_UUID}/history`);
  await get('getPerson', `/api/people/${dana.person_id}`);

  // HubSpot: the sync jobs through their triggers, then the mirror.
  standIn.generate({ contacts: 6, companies: 3, deals: 3, associate: true });
  for (const [operationId, path] of [
    ['runHubspot_companies', '/etl/hubspot/companies'],
    ['runHubspot_contacts', '/etl/hubspot/contacts'],
    ['runHubspot_deals', '/etl/hubspot/deals'],
    ['runHubspot_associations_contacts', '/etl/hubspot/associations'],
    ['runHubspot_companies_deleted', '/etl/hubspot/companies/archived'],
    ['runHubspot_contacts_deleted', '/etl/hubspot/contacts/archived'],
    ['runHubspot_deals_deleted', '/etl/hubspot/deals/archived'],
    ['runHubspot_push', '/etl/hubspot/push'],
  ] as const) {
    const started = await post(operationId, path, { body: {} });
    await waitForRun(started.body.runId as number);
  }
  const slow = await post('runHubspot_contacts', '/etl/hubspot/contacts', { body: {} });
  await post('runHubspot_contacts', '/etl/hubspot/contacts', { body: {} });
  await waitForRun(slow.body.runId as number);
  await post('runHubspot_push', '/etl/hubspot/push?execute=maybe', { body: {} });
  await get('listHubspotRuns', '/etl/hubspot/runs');
  await get('listHubspotRuns', '/etl/hubspot/runs?job=push');
  await get('listHubspotRuns', '/etl/hubspot/runs?job=everything');
  await get('getHubspotRun', `/etl/hubspot/runs/${slow.body.runId}`);
  await get('getHubspotRun', '/etl/hubspot/runs/999999');
  const contacts = await get('listHubspotContacts', '/api/hubspot/contacts?limit=3');
  await get('listHubspotContacts', '/api/hubspot/contacts?status=gone');
  await get('listHubspotContacts', '/api/hubspot/contacts?updatedFrom=2030-01-01&updatedTo=2020-01-01');
  const companies = await get('listHubspotCompanies', '/api/hubspot/companies');
  const deals = await get('listHubspotDeals', '/api/hubspot/deals?status=active');
  const contact = await get('getHubspotContact', `/api/hubspot/contacts/${contacts.body.data[0].id}`);
  await get('getHubspotContact', '/api/hubspot/contacts/999999999');
  for (const company of companies.body.data)
    await get('getHubspotCompany', `/api/hubspot/companies/${company.id}`);
  for (const deal of deals.body.data) await get('getHubspotDeal', `/api/hubspot/deals/${deal.id}`);
  await get('getPerson', `/api/people/${contact.body.data.personId}`);

  // The service's own endpoints.
  await get('openApiDocument', '/api/docs/openapi.json');
  await get('apiDocs', '/api/docs/');
  await get('metrics', '/metrics');
  await exercise(secured.app, 'metrics', 'get', '/metrics', {
    headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
  });
  await exercise(secured.app, 'runHubspot_contacts', 'post', '/etl/hubspot/contacts', {
    body: {},
    headers: { 'X-Admin-Secret': ADMIN_SECRET },
  });

  // Guards, for every operation: no credentials, secrets not configured in production, no database.
  for (const operation of operations) {
    const path = fillPath(operation.path);
    const body = operation.method === 'get' ? undefined : {};
    if (operation.security.length > 0) {
      await exercise(secured.app, operation.operationId, operation.method, path, { body });
      await exercise(unconfigured.app, operation.operationId, operation.method, path, { body });
    }
    await exercise(offline.app, operation.operationId, operation.method, path, { body });
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  await installFailureSwitch(db.pool);
  standIn = await startHubspotStandIn({ seed: 11, limits: { tenSecondly: null, searchSecondly: null } });
  const noLimits = { READ_RATE_LIMIT: '0', ADMIN_RATE_LIMIT: '0', LEAD_RATE_LIMIT: '0' };
  open = buildTestApp(
    db,
    // A dead letter is pending while the health figures are read: the dashboard then carries an alert.
    {
      ...noLimits,
      HUBSPOT_TOKEN: standIn.token,
      HUBSPOT_BASE_URL: standIn.baseUrl,
      ALERT_DEAD_LETTER_BACKLOG_WARNING: '0',
    },
    { phase2: true },
  );
  secured = buildTestApp(db, {
    ...noLimits,
    API_KEYS: API_KEY,
    WEBHOOK_SECRET,
    ADMIN_SECRET,
    LEAD_SECRET,
    METRICS_TOKEN,
  });
  unconfigured = buildTestApp(db, { ...noLimits, NODE_ENV: 'production' });
  offline = buildTestApp(null, noLimits);
  await driveEveryOperation();
});

afterAll(async () => {
  await standIn.close();
  await db.drop();
});

describe('the OpenAPI document and the mounted routes', () => {
  it('documents every mounted route, and every documented path is mounted (same method and path)', () => {
    const mounted = new Set(
      mountedRoutes(open.app).map((route) => `${route.method.toUpperCase()} ${toOpenApiPath(route.path)}`),
    );
    const documented = new Set(
      operations.map((operation) => `${operation.method.toUpperCase()} ${operation.path}`),
    );
    const undocumented = [...mounted].filter((route) => !documented.has(route));
    const unmounted = [...documented].filter((route) => !mounted.has(route));
    expect({ undocumented, unmounted }).toEqual({ undocumented: [], unmounted: [] });
    expect(mounted.size).toBeGreaterThan(50);
  });

  it('has unique operation ids and only defined security schemes', () => {
    const ids = operations.map((operation) => operation.operationId);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
    const schemes = new Set(operations.flatMap((operation) => operation.security.flatMap(Object.keys)));
    expect([...schemes].filter((scheme) => !(scheme in SECURITY_SCHEMES))).toEqual([]);
  });
});

describe('documented responses against real responses', () => {
  it('every response of every exercised operation validates against the documented schema for its status', () => {
    const problems = exchanges.flatMap(disagreementsOf);
    if (problems.length > 0) {
      throw new Error(
        `${problems.length} responses disagree with the OpenAPI document:\n\n${problems.join('\n\n')}`,
      );
    }
    expect(exchanges.length).toBeGreaterThan(200);
  });

  it('the served JSON document (what clients read) validates the same responses', async () => {
    const served = (await request(open.app).get('/api/docs/openapi.json')).body as {
      paths: Record<
        string,
        Record<string, { operationId: string; responses: Record<string, { content?: object }> }>
      >;
      components: { schemas: Record<string, unknown> };
    };
    // Its references point into components; JSON Schema keeps shared definitions under $defs.
    type JsonSchema = z.core.JSONSchema.JSONSchema;
    const local = <T>(value: unknown): T =>
      JSON.parse(JSON.stringify(value).replaceAll('#/components/schemas/', '#/$defs/')) as T;
    const $defs = local<Record<string, JsonSchema>>(served.components.schemas);
    const operationsById = new Map(
      Object.values(served.paths).flatMap((item) =>
        Object.values(item).map((operation) => [operation.operationId, operation]),
      ),
    );
    const validators = new Map<string, ZodType>();
    const problems: string[] = [];
    for (const exchange of exchanges) {
      const mediaType = exchange.contentType.split(';')[0]!.trim();
      const response = operationsById.get(exchange.operationId)?.responses[String(exchange.status)];
      const schema = (response?.content as Record<string, { schema?: unknown }> | undefined)?.[mediaType]
        ?.schema;
      if (!schema) continue; // the zod check above reports undocumented statuses and media types
      const key = `${exchange.operationId} ${exchange.status} ${mediaType}`;
      let validator = validators.get(key);
      if (!validator) {
        validator = z.fromJSONSchema({
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          ...local<JsonSchema>(schema),
          $defs,
        });
        validators.set(key, validator);
      }
      const parsed = validator.safeParse(mediaType === 'application/json' ? exchange.body : exchange.text);
      if (!parsed.success) problems.push(`${key} (${exchange.path}):\n${z.prettifyError(parsed.error)}`);
    }
    if (problems.length > 0) {
      throw new Error(
        `${problems.length} responses disagree with the served document:\n\n${problems.join('\n\n')}`,
      );
    }
    expect(validators.size).toBeGreaterThan(150);
  });

  it('every documented success status of every operation was seen', () => {
    const seen = new Set(exchanges.map((exchange) => `${exchange.operationId} ${exchange.status}`));
    const missing = operations.flatMap((operation) =>
      Object.keys(operation.responses)
        .filter((status) => status.startsWith('2'))
        .map((status) => `${operation.operationId} ${status}`)
        .filter((key) => !seen.has(key)),
    );
    expect(missing).toEqual([]);
  });

  it('the common errors were seen: 400, 401, 403, 404, 409, 422 and 503 with their codes', () => {
    const codes = new Set(
      exchanges.map((exchange) => {
        const body = exchange.body as { error?: unknown };
        return `${exchange.status} ${typeof body?.error === 'string' ? body.error : ''}`;
      }),
    );
    const expected = [
      '400 INVALID_JSON',
      '400 INVALID_PAYLOAD',
      '400 INVALID_REQUEST',
      '400 INVALID_QUERY',
      '400 INVALID_LIMIT',
      '400 LIMIT_EXCEEDED',
      '400 INVALID_SKIP',
      '400 INVALID_TIER',
      '400 INVALID_CHANGE_TYPE',
      '400 INVALID_DAYS',
      '400 INVALID_DATE_RANGE',
      '400 INVALID_FILTER_FIELD',
      '400 FORBIDDEN_OPERATOR',
      '400 INVALID_SORT',
      '400 INVALID_REGEX',
      '400 INVALID_STATUS',
      '400 NOT_READY',
      '400 invalid_payload',
      '401 UNAUTHORIZED',
      '401 unauthorized',
      '403 AUTH_NOT_CONFIGURED',
      '403 auth_not_configured',
      '404 NOT_FOUND',
      '404 ROUTE_NOT_FOUND',
      '404 EXPORT_NOT_FOUND',
      '409 HUBSPOT_NOT_CONFIGURED',
      '409 HUBSPOT_RUN_IN_PROGRESS',
      '422 NOT_REPLAYABLE',
      '422 NO_IDENTITY',
      '503 DATABASE_UNAVAILABLE',
      '503 unavailable',
    ];
    expect(expected.filter((code) => !codes.has(code))).toEqual([]);
  });

  it('every operation answered its guards as documented: 401 without credentials, 403 unconfigured, 503 offline', () => {
    const statusesOf = (operationId: string) =>
      new Set(
        exchanges
          .filter((exchange) => exchange.operationId === operationId)
          .map((exchange) => exchange.status),
      );
    const wrong = operations.flatMap((operation) => {
      const statuses = statusesOf(operation.operationId);
      const expected = [
        ...(operation.security.length > 0 ? [401, 403] : []),
        ...('503' in operation.responses ? [503] : []),
      ];
      return expected
        .filter((status) => !statuses.has(status))
        .map((status) => `${operation.operationId} ${status}`);
    });
    expect(wrong).toEqual([]);
  });
});

describe('the served document and Swagger UI', () => {
  it('serves an OpenAPI 3.1 document: paths, security schemes, error schema, resolvable references', async () => {
    const res = await request(open.app).get('/api/docs/openapi.json');
    expect(res.status).toBe(200);
    const document = res.body as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, { operationId?: string; responses?: object }>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string }> };
    };
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.info).toMatchObject({ title: 'duxsoup-etl', version: expect.any(String) });
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(
      Object.keys(SECURITY_SCHEMES).sort(),
    );
    expect(document.components.schemas.Error).toBeDefined();
    expect(document.components.schemas.ErrorCode).toMatchObject({
      enum: expect.arrayContaining(['NOT_FOUND']),
    });
    const operationsInDocument = Object.values(document.paths).flatMap((item) => Object.values(item));
    expect(operationsInDocument).toHaveLength(operations.length);
    for (const operation of operationsInDocument) {
      expect(Object.keys(operation.responses ?? {}).length).toBeGreaterThan(0);
    }
    const text = JSON.stringify(document);
    const references = [...text.matchAll(/"\$ref":"#\/components\/(\w+)\/([^"]+)"/g)];
    expect(references.length).toBeGreaterThan(0);
    const dangling = references
      .map(([, kind, name]) => `${kind}/${name}`)
      .filter((ref) => {
        const [kind, name] = ref.split('/') as [string, string];
        return !(document.components as unknown as Record<string, Record<string, unknown>>)[kind]?.[name];
      });
    expect(dangling).toEqual([]);
  });

  it('carries real Dux-Soup bodies as the webhook examples, and they are accepted', async () => {
    for (const [index, example] of Object.entries(WEBHOOK_EXAMPLE_FIXTURES)) {
      expect(example).toEqual(fixture(Number(index)));
      const webhook = byId.get('receiveWebhook')!;
      expect(webhook.requestBody!.safeParse(example).success).toBe(true);
    }
    const res = await request(open.app).post('/api/webhook').send(WEBHOOK_EXAMPLE_FIXTURES[5]);
    expect(res.status).toBe(200);
  });

  it('serves Swagger UI at /api/docs with a CSP that allows its inline styles there only', async () => {
    const bare = await request(open.app).get('/api/docs');
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe('docs/');
    const page = await request(open.app).get('/api/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui-bundle.js');
    const policy = String(page.headers['content-security-policy']);
    expect(policy).toMatch(/style-src 'self' 'unsafe-inline'/);
    expect(policy).toMatch(/script-src 'self'(;|$)/);
    expect(policy).not.toMatch(/unsafe-eval/);
    const init = await request(open.app).get('/api/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('./openapi.json');
    const css = await request(open.app).get('/api/docs/swagger-ui.css');
    expect(css.status).toBe(200);
    expect(css.headers['content-security-policy']).toBe(policy);
    const elsewhere = await request(open.app).get('/api/query/help');
    expect(elsewhere.headers['content-security-policy']).toBeDefined();
    expect(elsewhere.headers['content-security-policy']).not.toBe(policy);
    expect(String(elsewhere.headers['content-security-policy'])).toMatch(/upgrade-insecure-requests/);
  });
});
