import { deferredProcessor } from '../src/ingest/processor';
import { createLogger } from '../src/logger';
import type { Pool } from '../src/db/pool';
import type { HubspotClientOptions, JobName, RunnerDeps, SyncSettings } from '../src/sources/hubspot';
import { HubspotClient, RunInProgressError, runToEnd, startRun } from '../src/sources/hubspot';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import type { HubspotStandIn, ObjectType } from './helpers/hubspot-standin';
import { ASSOCIATION_TYPES, startHubspotStandIn, testClientOptions } from './helpers/hubspot-standin';

const logger = createLogger({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
const TABLE: Record<ObjectType, string> = {
  contacts: 'hubspot_contacts',
  companies: 'hubspot_companies',
  deals: 'hubspot_deals',
};
const SETTINGS: SyncSettings = {
  pageSize: 100,
  batchSize: 1000,
  lookbackMinutes: 5,
  searchCap: 10_000,
  phase2Concurrency: 4,
};

let db: TestDatabase;
let standIn: HubspotStandIn;

beforeAll(async () => {
  db = await createTestDatabase();
  standIn = await startHubspotStandIn({ seed: 7, limits: { tenSecondly: null, searchSecondly: null } });
});

afterAll(async () => {
  await standIn.close();
  await db.drop();
});

beforeEach(async () => {
  standIn.reset();
  standIn.limits = { ...standIn.limits, tenSecondly: null, searchSecondly: null, retryAfterSeconds: null };
  standIn.associationPageSize = 500;
  standIn.searchCap = 10_000;
  standIn.stepMs = 1000;
  await resetMirror(db.pool);
});

async function resetMirror(pool: Pool): Promise<void> {
  await pool.query(`TRUNCATE hubspot_contacts, hubspot_companies, hubspot_deals, hubspot_associations,
                             hubspot_sync_checkpoints, hubspot_push_log, hubspot_sync_runs`);
  await pool.query(`DELETE FROM observations WHERE source = 'hubspot'`);
}

function deps(
  clientOverrides: Partial<HubspotClientOptions> = {},
  settings: Partial<SyncSettings> = {},
): RunnerDeps {
  return {
    pool: db.pool,
    client: new HubspotClient(testClientOptions(standIn, clientOverrides)),
    processor: deferredProcessor,
    settings: { ...SETTINGS, ...settings },
    logger,
  };
}

async function run(job: JobName, runner: RunnerDeps = deps()) {
  return runToEnd(runner, job, { trigger: 'cli' });
}

/** The local table holds exactly what HubSpot holds: same ids, archived flags, modified dates and properties. */
async function expectMirrorExact(type: ObjectType): Promise<void> {
  const { rows } = await db.pool.query<{
    id: string;
    archived: boolean;
    updated_at: Date;
    archived_at: Date | null;
    properties: Record<string, string | null>;
  }>(
    `SELECT hubspot_id::text AS id, archived, updated_at, archived_at, raw -> 'properties' AS properties
       FROM ${TABLE[type]} ORDER BY hubspot_id`,
  );
  const expected = standIn.all(type);
  expect(rows.map((row) => row.id)).toEqual(expected.map((record) => record.id));
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const record of expected) {
    const row = byId.get(record.id)!;
    expect({ id: row.id, archived: row.archived, updatedAt: row.updated_at.getTime() }).toEqual({
      id: record.id,
      archived: record.archived,
      updatedAt: record.updatedAt,
    });
    if (record.archived) expect(row.archived_at?.getTime()).toBe(record.archivedAt);
    for (const [name, value] of Object.entries(record.properties)) {
      if (name in row.properties)
        expect([record.id, name, row.properties[name]]).toEqual([record.id, name, value]);
    }
  }
}

async function checkpoint(job: string) {
  const { rows } = await db.pool.query<{
    phase: string;
    last_modified: Date | null;
    last_id: number | null;
    list_after: string | null;
  }>('SELECT phase, last_modified, last_id, list_after FROM hubspot_sync_checkpoints WHERE job = $1', [job]);
  return rows[0] ?? null;
}

describe('incremental sync of contacts, companies and deals', () => {
  it('lists everything on the first run, then searches from the checkpoint; edits, new records and archives arrive', async () => {
    standIn.generate({ contacts: 250, companies: 20, deals: 30 });
    // Without a lookback, the search after the listing reads only what changed since the listing began: nothing
    // but the newest record, the one that gave the starting point (the filter is >=).
    const first = await run('contacts', deps({}, { lookbackMinutes: 0 }));
    expect(first).toMatchObject({ outcome: 'success', counts: { records: 251, inserted: 250 } });
    const calls = standIn.requests.map((request) => request.route);
    // The newest modified date first (where the search phase will start), then the listing, then one search.
    expect(calls[0]).toBe('POST /crm/v3/objects/contacts/search');
    expect(standIn.requests[0]!.body).toMatchObject({
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'DESCENDING' }],
      limit: 1,
    });
    expect(calls.filter((route) => route === 'GET /crm/v3/objects/contacts')).toHaveLength(3);
    expect(calls[calls.length - 1]).toBe('POST /crm/v3/objects/contacts/search');
    await expectMirrorExact('contacts');
    expect(await checkpoint('contacts')).toMatchObject({ phase: 'search', list_after: null });

    await run('companies');
    await run('deals');
    await expectMirrorExact('companies');
    await expectMirrorExact('deals');

    const contacts = standIn.all('contacts');
    for (const record of contacts.slice(10, 15))
      standIn.update('contacts', record.id, { jobtitle: 'Head of Data' });
    standIn.generate({ contacts: 3 });
    standIn.archive('contacts', contacts[20]!.id);
    standIn.archive('contacts', contacts[21]!.id);
    standIn.clearRequests();

    const second = await run('contacts');
    expect(second.outcome).toBe('success');
    expect(
      standIn.requests.every((request) => request.route === 'POST /crm/v3/objects/contacts/search'),
    ).toBe(true);
    // Contacts are searched on lastmodifieddate (hs_lastmodifieddate is not set on contacts), from the checkpoint
    // minus the lookback, ascending.
    const search = standIn.requests[0]!.body as { filterGroups: { filters: object[] }[]; sorts: object[] };
    expect(search.sorts).toEqual([{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }]);
    expect(search.filterGroups[0]!.filters[0]).toMatchObject({
      propertyName: 'lastmodifieddate',
      operator: 'GTE',
    });
    const { rows: edited } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM hubspot_contacts WHERE jobtitle = 'Head of Data'`,
    );
    expect(edited[0]!.n).toBe(5);

    // Search never returns archived records: only the archived listing marks them.
    const archivedRun = await run('contacts:deleted');
    expect(archivedRun).toMatchObject({ outcome: 'success', counts: { archived: 2 } });
    expect(standIn.requests.some((request) => request.query.archived?.[0] === 'true')).toBe(true);
    await expectMirrorExact('contacts');
  });

  it('turns every version of an active contact into one observation; re-syncing a version adds nothing', async () => {
    standIn.generate({ contacts: 40 });
    await run('contacts');
    const count = async () =>
      (
        await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM observations WHERE source = 'hubspot' AND kind = 'contact'`,
        )
      ).rows[0]!.n;
    expect(await count()).toBe(40);
    await run('contacts');
    await run('contacts');
    expect(await count()).toBe(40);
    const target = standIn.all('contacts')[3]!;
    standIn.update('contacts', target.id, { firstname: 'Renamed' });
    await run('contacts');
    expect(await count()).toBe(41);
    const { rows } = await db.pool.query<{
      event_key: string;
      event_time: Date;
      payload: { hubspot: { id: string } };
    }>(
      `SELECT event_key, event_time, payload FROM observations WHERE source = 'hubspot' ORDER BY id DESC LIMIT 1`,
    );
    expect(rows[0]!.payload.hubspot.id).toBe(target.id);
    expect(rows[0]!.event_key).toBe(
      `hubspot:contact:${target.id}:${new Date(target.updatedAt).toISOString()}`,
    );
    expect(rows[0]!.event_time.getTime()).toBe(target.updatedAt);
  });

  it('finds a record HubSpot indexed late thanks to the lookback', async () => {
    standIn.generate({ contacts: 5 });
    await run('contacts');
    standIn.indexingLagMs = 3_600_000;
    const late = standIn.create('contacts', { email: 'late@indexed.example', firstname: 'Late' });
    standIn.indexingLagMs = 0;
    standIn.create('contacts', { email: 'prompt@indexed.example', firstname: 'Prompt' });
    await run('contacts');
    const has = async (id: string) =>
      (await db.pool.query('SELECT 1 FROM hubspot_contacts WHERE hubspot_id = $1', [id])).rowCount === 1;
    expect(await has(late.id)).toBe(false);
    standIn.flushIndex();
    // Its modified date is older than the checkpoint now: without a lookback it is never searched for again.
    await run('contacts', deps({}, { lookbackMinutes: 0 }));
    expect(await has(late.id)).toBe(false);
    await run('contacts', deps({}, { lookbackMinutes: 5 }));
    expect(await has(late.id)).toBe(true);
    await expectMirrorExact('contacts');
  });

  it('reads a modified date shared by more records than one search can page through in id order', async () => {
    standIn.searchCap = 50;
    standIn.generate({ contacts: 30 });
    await run('contacts', deps({}, { searchCap: 50, pageSize: 20 }));
    standIn.stepMs = 0; // a bulk import: every write gets the same modified date
    standIn.advanceClock(60_000);
    const updated = standIn.generate({ contacts: 130 });
    standIn.stepMs = 1000;
    standIn.generate({ contacts: 7 });
    standIn.clearRequests();
    const result = await run('contacts', deps({}, { searchCap: 50, pageSize: 20 }));
    expect(result.outcome).toBe('success');
    expect(result.counts.ties).toBeGreaterThanOrEqual(1);
    expect(updated.contacts).toHaveLength(130);
    const byId = standIn.requests.filter((request) =>
      JSON.stringify((request.body as { sorts?: unknown })?.sorts ?? '').includes('hs_object_id'),
    );
    expect(byId.length).toBeGreaterThan(0);
    expect(standIn.requests.every((request) => request.status === 200)).toBe(true);
    await expectMirrorExact('contacts');
  });
});

describe('rate limits and faults', () => {
  it('a run interrupted by 429s of both policies (with and without Retry-After), 5xx and timeouts ends complete and exact', async () => {
    standIn.generate({ contacts: 600, companies: 5 });
    await run('contacts');
    for (const record of standIn.all('contacts').slice(0, 450)) {
      standIn.update('contacts', record.id, { jobtitle: `Title ${record.id}` });
    }
    const list = 'GET /crm/v3/objects/companies';
    const search = 'POST /crm/v3/objects/contacts/search';
    standIn.fault({ route: search, skip: 1, count: 1, response: 'secondly' });
    standIn.fault({ route: search, skip: 1, count: 1, response: 'ten_secondly', retryAfterSeconds: 1 });
    standIn.fault({ route: search, skip: 1, count: 2, response: 500 });
    standIn.fault({ route: search, skip: 1, count: 1, response: 502 });
    standIn.fault({ route: search, skip: 1, count: 1, response: 'timeout', delayMs: 5_000 });
    standIn.fault({ route: list, count: 2, response: 'ten_secondly' });
    const waits: number[] = [];
    const runner = deps({
      timeoutMs: 1000,
      sleep: (ms) => {
        waits.push(ms);
        return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5)));
      },
    });
    const contacts = await run('contacts', runner);
    const companies = await run('companies', runner);
    expect(contacts.outcome).toBe('success');
    expect(companies.outcome).toBe('success');
    const faults = standIn.requests
      .filter((request) => request.fault !== null)
      .map((request) => request.fault);
    expect(faults.sort()).toEqual(
      [500, 500, 502, 'secondly', 'ten_secondly', 'ten_secondly', 'ten_secondly', 'timeout'].sort(),
    );
    // One wait per fault: Retry-After honoured exactly, the others jittered backoffs under the cap.
    expect(waits).toContain(1000);
    expect(waits.filter((ms) => ms !== 1000).every((ms) => ms >= 0 && ms <= 40)).toBe(true);
    expect(waits.length).toBeGreaterThanOrEqual(8); // more only if the machine is so loaded that a call timed out
    await expectMirrorExact('contacts');
    await expectMirrorExact('companies');
  });

  it('stays within the real limits: ten-secondly and search-secondly 429s are waited out', async () => {
    standIn.limits = {
      ...standIn.limits,
      tenSecondly: 4,
      tenSecondlyWindowMs: 300,
      searchSecondly: 2,
      searchWindowMs: 200,
    };
    standIn.generate({ contacts: 900 });
    const runner = deps({
      maxRetries: 30,
      backoff: { baseDelayMs: 20, tenSecondlyBaseDelayMs: 60, secondlyBaseDelayMs: 40, maxDelayMs: 300 },
    });
    const first = await run('contacts', runner);
    expect(first.outcome).toBe('success');
    const limited = standIn.requests.filter((request) => request.status === 429);
    expect(limited.some((request) => request.route === 'GET /crm/v3/objects/contacts')).toBe(true);
    await expectMirrorExact('contacts');
  });

  it('gives up on a daily limit at once, with a typed error naming the call but never the token', async () => {
    standIn.generate({ contacts: 10 });
    standIn.fault({ route: '*', count: 1, response: 'daily' });
    const result = await run('contacts');
    expect(result.outcome).toBe('failed');
    expect(result.error).toContain('daily limit');
    expect(result.error).not.toContain(standIn.token);
    expect(standIn.requests).toHaveLength(1);
  });

  it('a run that fails for good keeps the pages it saved; the next run resumes from the checkpoint', async () => {
    standIn.generate({ contacts: 520 });
    const route = 'GET /crm/v3/objects/contacts';
    standIn.fault({ route, skip: 3, count: 100, response: 500 });
    const failed = await run('contacts');
    expect(failed.outcome).toBe('failed');
    expect(failed.error).toMatch(/HubSpot GET \/crm\/v3\/objects\/contacts failed after 6 attempts: 500/);
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM hubspot_contacts');
    expect(rows[0]!.n).toBe(300);
    const saved = await checkpoint('contacts');
    expect(saved).toMatchObject({ phase: 'list' });
    expect(saved!.list_after).not.toBeNull();

    standIn.clearFaults();
    standIn.clearRequests();
    const resumed = await run('contacts');
    expect(resumed).toMatchObject({ outcome: 'success', counts: { inserted: 220 } });
    const listed = standIn.requestsTo(route);
    expect(listed[0]!.query.after).toEqual([saved!.list_after]);
    expect(listed).toHaveLength(3);
    await expectMirrorExact('contacts');

    // The same in the search phase: the watermark of the last saved page survives the failure.
    for (const record of standIn.all('contacts').slice(0, 500))
      standIn.update('contacts', record.id, { city: 'Oslo' });
    standIn.fault({ route: 'POST /crm/v3/objects/contacts/search', skip: 2, count: 100, response: 503 });
    const failedSearch = await run('contacts', deps({}, { lookbackMinutes: 0 }));
    expect(failedSearch.outcome).toBe('failed');
    const watermark = (await checkpoint('contacts'))!.last_modified!;
    const records = standIn.all('contacts');
    // Two pages of 100 were saved: the record at the old watermark (>=), then the first 199 edited ones.
    expect(watermark.getTime()).toBe(records[198]!.updatedAt);
    standIn.clearFaults();
    standIn.clearRequests();
    await run('contacts', deps({}, { lookbackMinutes: 0 }));
    const firstSearch = standIn.requests[0]!.body as { filterGroups: { filters: { value: string }[] }[] };
    expect(firstSearch.filterGroups[0]!.filters[0]!.value).toBe(String(watermark.getTime()));
    await expectMirrorExact('contacts');
  });
});

describe('associations', () => {
  it('keeps every association type and label, follows per-input paging, handles "no associations", removes links gone from HubSpot', async () => {
    standIn.associationPageSize = 2;
    const { contacts, companies, deals } = standIn.generate({ contacts: 12, companies: 4, deals: 3 });
    for (const company of companies.slice(1))
      standIn.associate('contacts', contacts[0]!, 'companies', company, [279]);
    standIn.associate('contacts', contacts[0]!, 'deals', deals[0]!, [4, 101]);
    standIn.associate('contacts', contacts[1]!, 'companies', companies[0]!, [279, 1]);
    await run('contacts');
    await run('companies');
    await run('deals');

    const first = await run('associations:contacts', deps({}, { batchSize: 5 }));
    expect(first).toMatchObject({ outcome: 'success', counts: { contacts: 12 } });
    expect(standIn.requests.some((request) => request.status === 207)).toBe(true);
    const paged = standIn.requests.filter((request) =>
      ((request.body as { inputs?: { after?: string }[] })?.inputs ?? []).some((input) => input.after),
    );
    expect(paged.length).toBeGreaterThan(0);
    await expectLinksExact();
    const { rows: labelled } = await db.pool.query(
      `SELECT association_type_id, category, label FROM hubspot_associations
        WHERE from_id = $1 AND to_type = 'deals' ORDER BY association_type_id`,
      [contacts[0]],
    );
    expect(labelled).toEqual([
      { association_type_id: 4, category: 'HUBSPOT_DEFINED', label: null },
      { association_type_id: 101, category: 'USER_DEFINED', label: 'Decision maker' },
    ]);

    standIn.dissociate('contacts', contacts[0]!, 'companies', companies[1]!);
    standIn.dissociate('contacts', contacts[1]!, 'companies', companies[0]!);
    standIn.associate('contacts', contacts[5]!, 'deals', deals[2]!);
    const second = await run('associations:contacts', deps({}, { batchSize: 5 }));
    expect(second.counts.removed).toBeGreaterThanOrEqual(3);
    expect(second.counts.added).toBe(1);
    await expectLinksExact();

    // Archiving a company hides its links in HubSpot; the archived sync drops them here at once.
    standIn.archive('companies', companies[2]!);
    await run('companies:deleted');
    const { rows } = await db.pool.query('SELECT 1 FROM hubspot_associations WHERE to_id = $1', [
      companies[2],
    ]);
    expect(rows).toHaveLength(0);
    await run('associations:contacts');
    await expectLinksExact();
  });

  it('resumes an interrupted association pass after the last batch saved', async () => {
    standIn.generate({ contacts: 30, companies: 3, deals: 2, associate: true });
    await run('contacts');
    standIn.fault({
      route: 'POST /crm/v4/associations/contacts/deals/batch/read',
      skip: 2,
      count: 50,
      response: 500,
    });
    const failed = await run('associations:contacts', deps({}, { batchSize: 10 }));
    expect(failed.outcome).toBe('failed');
    expect((await checkpoint('associations:contacts'))!.last_id).toBe(
      Number(standIn.all('contacts')[19]!.id),
    );
    standIn.clearFaults();
    standIn.clearRequests();
    await run('associations:contacts', deps({}, { batchSize: 10 }));
    const inputs = standIn.requests.map(
      (request) => (request.body as { inputs: { id: string }[] }).inputs[0]!.id,
    );
    expect(inputs[0]).toBe(standIn.all('contacts')[20]!.id);
    expect((await checkpoint('associations:contacts'))!.last_id).toBeNull();
    await expectLinksExact();
  });
});

describe('runs', () => {
  it('never overlaps two runs of one job; a run left running by a dead process is closed', async () => {
    standIn.generate({ contacts: 20 });
    await db.pool.query(`INSERT INTO hubspot_sync_runs (job, trigger) VALUES ('contacts', 'cli')`);
    standIn.fault({
      route: 'POST /crm/v3/objects/contacts/search',
      count: 1,
      response: 'slow',
      delayMs: 400,
    });
    const runner = deps();
    const started = await startRun(runner, 'contacts', { trigger: 'http' });
    await expect(startRun(runner, 'contacts', { trigger: 'cli' })).rejects.toEqual(
      expect.objectContaining({ runId: started.runId }),
    );
    await expect(startRun(runner, 'contacts', { trigger: 'cli' })).rejects.toBeInstanceOf(RunInProgressError);
    // Another job is not held back.
    const companies = await run('companies', runner);
    expect(companies.outcome).toBe('success');
    const finished = await started.finished;
    expect(finished).toMatchObject({ outcome: 'success', trigger: 'http', counts: { inserted: 20 } });
    const { rows } = await db.pool.query<{ outcome: string; error: string | null }>(
      `SELECT outcome, error FROM hubspot_sync_runs WHERE job = 'contacts' ORDER BY id`,
    );
    expect(rows[0]).toMatchObject({ outcome: 'failed', error: expect.stringContaining('abandoned') });
    expect(rows[1]!.outcome).toBe('success');
    expect((await run('contacts', runner)).outcome).toBe('success');
  });
});

async function expectLinksExact(): Promise<void> {
  const { rows } = await db.pool.query<{ from_id: string; to_type: string; to_id: string; types: number[] }>(
    `SELECT from_id::text, to_type, to_id::text, array_agg(association_type_id ORDER BY association_type_id) AS types
       FROM hubspot_associations WHERE from_type = 'contacts'
      GROUP BY from_id, to_type, to_id ORDER BY from_id, to_type, to_id`,
  );
  const expected: typeof rows = [];
  for (const contact of standIn.all('contacts')) {
    for (const toType of ['companies', 'deals'] as const) {
      for (const link of standIn.linksOf('contacts', contact.id, toType)) {
        expected.push({ from_id: contact.id, to_type: toType, to_id: link.toId, types: link.typeIds });
      }
    }
  }
  expected.sort((a, b) =>
    a.from_id === b.from_id
      ? a.to_type === b.to_type
        ? Number(a.to_id) - Number(b.to_id)
        : a.to_type < b.to_type
          ? -1
          : 1
      : Number(a.from_id) - Number(b.from_id),
  );
  expect(rows).toEqual(expected);
  for (const typeId of rows.flatMap((row) => row.types)) expect(ASSOCIATION_TYPES[typeId]).toBeDefined();
}
