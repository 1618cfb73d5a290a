import type { Express } from 'express';
import request from 'supertest';
import { loadConfig } from '../src/config';
import { phase2FromConfig } from '../src/ingest/phase2';
import { builtInJobs } from '../src/jobs/jobs';
import { createLogger } from '../src/logger';
import { runCli } from '../src/sources/hubspot/cli';
import { runHubspotSync, syncSchedule } from '../src/sources/hubspot';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import type { HubspotStandIn } from './helpers/hubspot-standin';
import { startHubspotStandIn } from './helpers/hubspot-standin';

const ADMIN = 'admin-secret-for-tests';
const KEY = 'read-key-for-tests';

let db: TestDatabase;
let standIn: HubspotStandIn;
let app: Express;
let env: Record<string, string>;
let made: { contacts: string[]; companies: string[]; deals: string[] };

beforeAll(async () => {
  db = await createTestDatabase();
  standIn = await startHubspotStandIn({ seed: 11, limits: { tenSecondly: null, searchSecondly: null } });
  made = standIn.generate({ companies: 3, deals: 4, contacts: 30, associate: true });
  standIn.associate('contacts', made.contacts[0]!, 'deals', made.deals[1]!, [101]);
  env = {
    HUBSPOT_TOKEN: standIn.token,
    HUBSPOT_BASE_URL: standIn.baseUrl,
    ADMIN_SECRET: ADMIN,
    API_KEYS: KEY,
    ADMIN_RATE_LIMIT: '0',
    READ_RATE_LIMIT: '0',
  };
  app = buildTestApp(db, env).app;
});

afterAll(async () => {
  await standIn.close();
  await db.drop();
});

function admin(path: string): request.Test {
  return request(app).post(path).set('X-Admin-Secret', ADMIN);
}

function read(path: string): request.Test {
  return request(app).get(path).set('Authorization', `Bearer ${KEY}`);
}

async function finished(runId: number): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const res = await request(app).get(`/etl/hubspot/runs/${runId}`).set('X-Admin-Secret', ADMIN);
    expect(res.status).toBe(200);
    if (res.body.run.outcome !== 'running') return res.body.run as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`run ${runId} did not finish`);
}

describe('ETL triggers', () => {
  it('needs the admin secret', async () => {
    expect((await request(app).post('/etl/hubspot/contacts')).status).toBe(401);
    expect((await request(app).post('/etl/hubspot/contacts').set('X-Admin-Secret', 'wrong')).status).toBe(
      401,
    );
    expect((await request(app).get('/etl/hubspot/runs/1')).status).toBe(401);
  });

  it('every trigger starts its job in the background: 202 {runId}, then GET /etl/hubspot/runs/:id says how it went', async () => {
    const triggers: [string, string][] = [
      ['companies', 'companies'],
      ['companies/archived', 'companies:deleted'],
      ['contacts', 'contacts'],
      ['contacts/archived', 'contacts:deleted'],
      ['deals', 'deals'],
      ['deals/archived', 'deals:deleted'],
      ['associations', 'associations:contacts'],
    ];
    for (const [path, job] of triggers) {
      const res = await admin(`/etl/hubspot/${path}`);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ success: true, job, runId: expect.any(Number) });
      const run = await finished(res.body.runId as number);
      expect(run).toMatchObject({ job, trigger: 'http', outcome: 'success', finishedAt: expect.any(String) });
    }
    const runs = await request(app).get('/etl/hubspot/runs?job=contacts').set('X-Admin-Secret', ADMIN);
    expect(runs.body.runs).toHaveLength(1);
    expect((await request(app).get('/etl/hubspot/runs?job=nope').set('X-Admin-Secret', ADMIN)).status).toBe(
      400,
    );
    expect((await request(app).get('/etl/hubspot/runs/99999').set('X-Admin-Secret', ADMIN)).status).toBe(404);
    expect((await request(app).get('/etl/hubspot/runs/abc').set('X-Admin-Secret', ADMIN)).status).toBe(404);
  });

  it('a second trigger while a run is in progress is told so (409 with the running run id)', async () => {
    standIn.fault({ route: 'POST /crm/v3/objects/deals/search', count: 1, response: 'slow', delayMs: 500 });
    const first = await admin('/etl/hubspot/deals');
    expect(first.status).toBe(202);
    const second = await admin('/etl/hubspot/deals');
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({
      error: 'HUBSPOT_RUN_IN_PROGRESS',
      details: { job: 'deals', runId: first.body.runId },
    });
    expect((await finished(first.body.runId as number)).outcome).toBe('success');
    standIn.clearFaults();
  });

  it('push is a dry run unless asked to execute', async () => {
    const dry = await admin('/etl/hubspot/push');
    expect(dry.status).toBe(202);
    expect(dry.body.execute).toBe(false);
    expect(await finished(dry.body.runId as number)).toMatchObject({
      options: { execute: false },
      result: { mode: 'dry-run' },
    });
    const executed = await admin('/etl/hubspot/push').send({ execute: true });
    expect(executed.body.execute).toBe(true);
    expect(await finished(executed.body.runId as number)).toMatchObject({ result: { mode: 'execute' } });
    expect((await admin('/etl/hubspot/push').send({ execute: 'yes' })).status).toBe(400);
    expect((await admin('/etl/hubspot/push?execute=maybe')).status).toBe(400);
  });

  it('answers 409 HUBSPOT_NOT_CONFIGURED without a token', async () => {
    const unconfigured = buildTestApp(db, { ADMIN_SECRET: ADMIN, ADMIN_RATE_LIMIT: '0' }).app;
    const res = await request(unconfigured).post('/etl/hubspot/contacts').set('X-Admin-Secret', ADMIN);
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('HUBSPOT_NOT_CONFIGURED');
  });
});

describe('reads of the mirror', () => {
  it('needs an API key', async () => {
    expect((await request(app).get('/api/hubspot/contacts')).status).toBe(401);
    expect((await request(app).get(`/api/hubspot/deals/${made.deals[0]}`)).status).toBe(401);
  });

  it('lists contacts, companies and deals with pagination and filters', async () => {
    const page = await read('/api/hubspot/contacts?limit=10&skip=5');
    expect(page.status).toBe(200);
    expect(page.body.pagination).toEqual({
      count: 10,
      totalCount: 30,
      skip: 5,
      limit: 10,
      hasMore: true,
      nextSkip: 15,
    });
    expect(Object.keys(page.body.data[0]).sort()).toEqual(
      [
        'createdAt',
        'email',
        'firstname',
        'id',
        'lastname',
        'mergedInto',
        'status',
        'updatedAt',
        'url',
      ].sort(),
    );
    const one = standIn.get('contacts', made.contacts[7]!)!;
    const byEmail = await read(
      `/api/hubspot/contacts?email=${encodeURIComponent(one.properties.email!.toUpperCase())}`,
    );
    expect(byEmail.body.data.map((contact: { id: string }) => contact.id)).toEqual([one.id]);
    const stage = standIn.get('deals', made.deals[0]!)!.properties.dealstage!;
    const deals = await read(`/api/hubspot/deals?stage=${stage}`);
    expect(deals.body.data.every((deal: { stage: string }) => deal.stage === stage)).toBe(true);
    const companies = await read('/api/hubspot/companies?status=active');
    expect(companies.body.data[0]).toMatchObject({
      websiteDomain: expect.stringMatching(/\.example$/),
      status: 'ACTIVE',
    });
    expect((await read('/api/hubspot/contacts?status=archived')).body.pagination.totalCount).toBe(0);
    expect((await read('/api/hubspot/contacts?bogus=1')).status).toBe(400);
    expect((await read('/api/hubspot/contacts?limit=0')).body.error).toBe('INVALID_LIMIT');
    expect((await read('/api/hubspot/contacts?limit=501')).body.error).toBe('LIMIT_EXCEEDED');
    expect((await read('/api/hubspot/contacts?updatedFrom=yesterday')).status).toBe(400);
    const window = await read('/api/hubspot/contacts?updatedFrom=2024-01-01&updatedTo=2024-01-01');
    expect(window.body.pagination.totalCount).toBe(30);
  });

  it('shows one record with its association summaries, every type and label', async () => {
    const contact = await read(`/api/hubspot/contacts/${made.contacts[0]}`);
    expect(contact.status).toBe(200);
    expect(contact.body.data).toMatchObject({
      id: made.contacts[0],
      status: 'ACTIVE',
      companies: [
        {
          id: made.companies[0],
          name: standIn.get('companies', made.companies[0]!)!.properties.name,
          types: expect.arrayContaining([
            { category: 'HUBSPOT_DEFINED', typeId: 1, label: 'Primary' },
            { category: 'HUBSPOT_DEFINED', typeId: 279, label: null },
          ]),
        },
      ],
      deals: [
        expect.objectContaining({ id: made.deals[0] }),
        expect.objectContaining({
          id: made.deals[1],
          types: [{ category: 'USER_DEFINED', typeId: 101, label: 'Decision maker' }],
        }),
      ],
    });
    const company = await read(`/api/hubspot/companies/${made.companies[0]}`);
    expect(company.body.data.contacts.length).toBe(10);
    const deal = await read(`/api/hubspot/deals/${made.deals[1]}`);
    expect(deal.body.data).toMatchObject({
      amount: expect.stringMatching(/^\d+(\.\d+)?$/),
      closeDate: expect.any(String),
    });
    expect(deal.body.data.contacts.map((c: { id: string }) => c.id)).toContain(made.contacts[0]);
    expect((await read('/api/hubspot/contacts/999')).status).toBe(404);
    expect((await read('/api/hubspot/contacts/not-a-number')).status).toBe(404);
  });
});

describe('the CLI and the scheduled job', () => {
  function io() {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: {
        env: { ...env, DATABASE_URL: db.url, NODE_ENV: 'test', LOG_LEVEL: 'silent' } as Record<
          string,
          string
        >,
        stdout: (text: string) => out.push(text),
        stderr: (text: string) => err.push(text),
      },
    };
  }

  it('runs a job with a progress line per page on stderr; exit codes tell failures', async () => {
    standIn.generate({ contacts: 250 });
    const ok = io();
    expect(await runCli(['contacts'], ok.io)).toBe(0);
    expect(ok.err.filter((line) => line.startsWith('[contacts] page ')).length).toBeGreaterThanOrEqual(3);
    expect(ok.out.join('')).toMatch(/^contacts: success \(run \d+\)/);

    const unknown = io();
    expect(await runCli(['everything'], unknown.io)).toBe(1);
    expect(unknown.err.join('')).toContain('unknown command: everything');
    expect(await runCli(['contacts', '--execute'], io().io)).toBe(1);

    const dry = io();
    expect(await runCli(['push'], dry.io)).toBe(0);
    expect(dry.out.join('')).toContain('dry run: nothing was sent');

    standIn.fault({ route: 'POST /crm/v3/objects/contacts/search', count: 20, response: 500 });
    const failing = io();
    failing.io.env = { ...failing.io.env, HUBSPOT_MAX_RETRIES: '0' };
    expect(await runCli(['contacts'], failing.io)).toBe(1);
    expect(failing.out.join('')).toContain('contacts: failed');
    standIn.clearFaults();

    const noToken = io();
    noToken.io.env = { ...noToken.io.env, HUBSPOT_TOKEN: '' };
    expect(await runCli(['all'], noToken.io)).toBe(1);
    expect(noToken.err.join('')).toContain('HUBSPOT_TOKEN');
  });

  it('is scheduled only when HUBSPOT_TOKEN is set, every HUBSPOT_SYNC_INTERVAL_MINUTES, and runs every sync job', async () => {
    const logger = createLogger({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
    const names = (extra: Record<string, string>) => {
      const config = loadConfig({ NODE_ENV: 'test', ...extra });
      return builtInJobs({ config, phase2: phase2FromConfig(db.pool, config, logger) }).map((job) => [
        job.name,
        job.schedule,
      ]);
    };
    expect(names({}).map(([name]) => name)).not.toContain('hubspot-sync');
    expect(names({ HUBSPOT_TOKEN: 'x', HUBSPOT_SYNC_INTERVAL_MINUTES: '10' })).toContainEqual([
      'hubspot-sync',
      '*/10 * * * *',
    ]);
    expect(syncSchedule(120)).toBe('0 */2 * * *');
    expect(() => loadConfig({ SCHEDULER_JOBS: 'hubspot-sync' })).not.toThrow();

    const config = loadConfig({ NODE_ENV: 'test', ...env });
    const counts = await runHubspotSync({
      pool: db.pool,
      config,
      logger,
      signal: new AbortController().signal,
      instanceId: 'test',
    });
    expect(counts.skipped).toBe(0);
    const { rows } = await db.pool.query<{ job: string; outcome: string }>(
      `SELECT job, outcome FROM hubspot_sync_runs WHERE trigger = 'schedule' ORDER BY id`,
    );
    expect(rows.map((row) => row.job)).toEqual([
      'companies',
      'companies:deleted',
      'contacts',
      'contacts:deleted',
      'deals',
      'deals:deleted',
      'associations:contacts',
    ]);
    expect(rows.every((row) => row.outcome === 'success')).toBe(true);
  });
});
