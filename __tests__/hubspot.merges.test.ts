import type { Express } from 'express';
import request from 'supertest';
import type { ObservationProcessor } from '../src/ingest/processor';
import { createLogger } from '../src/logger';
import type { JobName, RunnerDeps } from '../src/sources/hubspot';
import { HubspotClient, runToEnd } from '../src/sources/hubspot';
import { mergeClaimsOf } from '../src/sources/hubspot/merges';
import type { HubspotRecord } from '../src/sources/hubspot/objects';
import { mergedContactIds, OBJECTS, rowOf } from '../src/sources/hubspot/objects';
import { writePage } from '../src/sources/hubspot/store';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { fixture } from './helpers/fixtures';
import type { HubspotStandIn } from './helpers/hubspot-standin';
import { startHubspotStandIn, testClientOptions } from './helpers/hubspot-standin';

jest.setTimeout(60_000);

const DANA_EMAIL = 'dana@whitfield.example';

let db: TestDatabase;
let standIn: HubspotStandIn;
let app: Express;
let processor: ObservationProcessor;

beforeAll(async () => {
  standIn = await startHubspotStandIn({ seed: 5, limits: { tenSecondly: null, searchSecondly: null } });
});

afterAll(async () => {
  await standIn.close();
});

beforeEach(() => {
  standIn.reset();
  standIn.mergedLingerMs = 0;
});

/** The stand-in starts its ids and clock again for every test: people and observations must start again too. */
function freshDatabasePerTest(): void {
  beforeEach(async () => {
    db = await createTestDatabase();
    const built = buildTestApp(db, { READ_RATE_LIMIT: '0' }, { phase2: true });
    app = built.app;
    processor = built.context.processor;
  });
  afterEach(async () => {
    await db.drop();
  });
}

function deps(pageSize = 100): RunnerDeps {
  return {
    pool: db.pool,
    client: new HubspotClient(testClientOptions(standIn)),
    processor,
    settings: { pageSize, batchSize: 1000, lookbackMinutes: 5, searchCap: 10_000, phase2Concurrency: 4 },
    logger: createLogger({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }),
  };
}

async function run(job: JobName, options: { execute?: boolean; pageSize?: number } = {}) {
  const result = await runToEnd(deps(options.pageSize), job, { trigger: 'cli', execute: options.execute });
  expect([job, result.outcome, result.error]).toEqual([job, expect.stringMatching(/success|partial/), null]);
  return result;
}

async function syncAll(): Promise<void> {
  for (const job of ['companies', 'contacts', 'deals', 'associations:contacts'] as const) await run(job);
}

async function read(path: string) {
  const res = await request(app).get(path);
  return res;
}

async function personOfContact(contactId: string): Promise<string> {
  const res = await read(`/api/people/by-alias/${contactId}`);
  expect(res.status).toBe(200);
  return res.body.person.id as string;
}

async function mergePairs(): Promise<{ merged_id: string; survivor_id: string; merged_at: Date | null }[]> {
  const { rows } = await db.pool.query<{ merged_id: string; survivor_id: string; merged_at: Date | null }>(
    `SELECT merged_id::text, survivor_id::text, merged_at FROM hubspot_contact_merges ORDER BY merged_id`,
  );
  return rows;
}

async function observationsOf(contactId: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM observations WHERE source = 'hubspot' AND payload -> 'hubspot' ->> 'id' = $1`,
    [contactId],
  );
  return rows[0]!.n;
}

describe('the stand-in merges contacts as HubSpot does', () => {
  it('POST /crm/v3/objects/contacts/merge answers the primary; the loser is gone from list, search and batch read, a GET of it answers the primary', async () => {
    const [primary, loser, other] = standIn.generate({ contacts: 3 }).contacts as [string, string, string];
    const { companies } = standIn.generate({ companies: 1 });
    standIn.associate('contacts', loser, 'companies', companies[0]!, [279, 1]);
    const before = standIn.get('contacts', primary)!.updatedAt;
    const call = async (method: 'GET' | 'POST', path: string, body?: object) => {
      const pending =
        method === 'GET'
          ? request(standIn.baseUrl).get(path)
          : request(standIn.baseUrl).post(path).send(body);
      const res = await pending.set('Authorization', `Bearer ${standIn.token}`);
      return { status: res.status, body: res.body };
    };

    const merged = await call('POST', '/crm/v3/objects/contacts/merge', {
      primaryObjectId: primary,
      objectIdToMerge: loser,
    });
    expect(merged.status).toBe(200);
    expect(merged.body.id).toBe(primary);
    expect(merged.body.properties.hs_merged_object_ids).toBe(loser);
    expect(merged.body.properties.hs_calculated_merged_vids).toMatch(new RegExp(`^${loser}:\\d{13}$`));
    expect(Date.parse(merged.body.updatedAt)).toBeGreaterThan(before);

    const listed = await call('GET', '/crm/v3/objects/contacts?limit=100');
    expect(listed.body.results.map((record: { id: string }) => record.id)).toEqual([primary, other]);
    const searched = await call('POST', '/crm/v3/objects/contacts/search', { limit: 100 });
    expect(searched.body.results.map((record: { id: string }) => record.id).sort()).toEqual([primary, other]);
    const batch = await call('POST', '/crm/v3/objects/contacts/batch/read', { inputs: [{ id: loser }] });
    expect(batch.status).toBe(207);
    expect(batch.body.errors[0].context.ids).toEqual([loser]);
    const archived = await call('GET', '/crm/v3/objects/contacts?archived=true');
    expect(archived.body.results).toEqual([]);
    const byLoserId = await call('GET', `/crm/v3/objects/contacts/${loser}?properties=hs_merged_object_ids`);
    expect(byLoserId.body).toMatchObject({ id: primary, properties: { hs_merged_object_ids: loser } });
    expect(standIn.linksOf('contacts', primary, 'companies')).toEqual([
      { toId: companies[0], typeIds: [1, 279] },
    ]);
    expect(standIn.linksOf('companies', companies[0]!, 'contacts')).toEqual([
      { toId: primary, typeIds: [2, 280] },
    ]);

    // What was merged into the loser follows it into the primary.
    standIn.merge(other, primary);
    const last = standIn.get('contacts', other)!.properties;
    expect(last.hs_merged_object_ids!.split(';').sort()).toEqual([loser, primary].sort());
    expect(
      last
        .hs_calculated_merged_vids!.split(';')
        .map((pair) => pair.split(':')[0])
        .sort(),
    ).toEqual([loser, primary].sort());
    expect((await call('GET', `/crm/v3/objects/contacts/${loser}`)).body.id).toBe(other);
    expect((await call('POST', '/crm/v3/objects/contacts/merge', { primaryObjectId: other })).status).toBe(
      400,
    );
    expect(
      (
        await call('POST', '/crm/v3/objects/contacts/merge', {
          primaryObjectId: other,
          objectIdToMerge: loser,
        })
      ).status,
    ).toBe(404);
  });
});

describe('merged ids, from the two properties', () => {
  it('unites hs_merged_object_ids and hs_calculated_merged_vids, keeps merge times, skips garbage and the own id', () => {
    expect(
      mergedContactIds(
        {
          hs_merged_object_ids: '101; 102;;abc;100',
          hs_calculated_merged_vids: '102:1704067200000;103:1704070800000;104;x:1',
        },
        '100',
      ),
    ).toEqual(
      new Map([
        ['102', 1_704_067_200_000],
        ['103', 1_704_070_800_000],
        ['104', null],
        ['101', null],
      ]),
    );
    expect(mergedContactIds({}, '1')).toEqual(new Map());
  });

  it('a page naming a chain (C absorbed B, which had absorbed A) points every merged id at the last survivor', () => {
    const contact = (id: string, modified: string, merged: string): HubspotRecord => ({
      id,
      properties: { hs_object_id: id, lastmodifieddate: modified, hs_merged_object_ids: merged },
    });
    const rows = [
      contact('2', '2024-01-01T00:00:00.000Z', '1'),
      contact('3', '2024-01-02T00:00:00.000Z', '2'),
    ].map((record) => rowOf(OBJECTS.contacts, record)!);
    expect(mergeClaimsOf(rows).map(({ mergedId, survivorId }) => [mergedId, survivorId])).toEqual([
      ['1', '3'],
      ['2', '3'],
    ]);
  });
});

describe('merged contacts in the mirror', () => {
  freshDatabasePerTest();

  it('after a merge in HubSpot, the incremental sync marks the loser merged, moves its links, hides it from lists; the person shows one contact', async () => {
    const { companies, deals } = standIn.generate({ companies: 2, deals: 1 });
    const survivor = standIn.create('contacts', {
      email: 'sam.reyes@northwind.example',
      firstname: 'Sam',
      lastname: 'Reyes',
    }).id;
    const loser = standIn.create('contacts', {
      email: 'sam@reyes-home.example',
      firstname: 'Samuel',
      lastname: 'Reyes',
    }).id;
    standIn.associate('contacts', survivor, 'companies', companies[0]!, [279]);
    standIn.associate('contacts', loser, 'companies', companies[1]!, [279, 1]);
    standIn.associate('contacts', loser, 'deals', deals[0]!, [4, 101]);
    await syncAll();
    const survivorPerson = await personOfContact(survivor);
    const loserPerson = await personOfContact(loser);
    // Two e-mails, nothing shared: two people until HubSpot says otherwise.
    expect(loserPerson).not.toBe(survivorPerson);
    const loserObservations = await observationsOf(loser);

    const merged = standIn.merge(survivor, loser);
    const mergedAt = Number(merged.properties.hs_calculated_merged_vids!.split(':')[1]);
    const contacts = await run('contacts');
    expect(contacts.counts).toMatchObject({ merges: 1 });
    expect(await mergePairs()).toEqual([
      { merged_id: loser, survivor_id: survivor, merged_at: new Date(mergedAt) },
    ]);
    // The loser's links moved with it at once, before any association pass.
    const links = async (id: string) =>
      (
        await db.pool.query<{ to: string }>(
          `SELECT to_type || ':' || to_id || ':' || association_type_id AS to FROM hubspot_associations
            WHERE from_type = 'contacts' AND from_id = $1`,
          [id],
        )
      ).rows
        .map((row) => row.to)
        .sort();
    const complete = [
      `companies:${companies[0]}:279`,
      `companies:${companies[1]}:1`,
      `companies:${companies[1]}:279`,
      `deals:${deals[0]}:101`,
      `deals:${deals[0]}:4`,
    ].sort();
    expect(await links(survivor)).toEqual(complete);
    expect(await links(loser)).toEqual([]);
    await run('associations:contacts');
    expect(await links(survivor)).toEqual(complete);
    expect(await links(loser)).toEqual([]);

    const loserView = await read(`/api/hubspot/contacts/${loser}`);
    expect(loserView.status).toBe(200);
    expect(loserView.body.data).toMatchObject({ id: loser, status: 'MERGED', mergedInto: survivor });
    const survivorView = await read(`/api/hubspot/contacts/${survivor}`);
    expect(survivorView.body.data).toMatchObject({
      id: survivor,
      status: 'ACTIVE',
      mergedInto: null,
      mergedFrom: [loser],
      companies: [
        expect.objectContaining({ id: companies[0] }),
        expect.objectContaining({
          id: companies[1],
          types: expect.arrayContaining([
            { category: 'HUBSPOT_DEFINED', typeId: 1, label: 'Primary' },
            { category: 'HUBSPOT_DEFINED', typeId: 279, label: null },
          ]),
        }),
      ],
      deals: [expect.objectContaining({ id: deals[0] })],
    });

    const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((contact) => contact.id);
    expect(ids(await read('/api/hubspot/contacts'))).toEqual([survivor]);
    expect(ids(await read('/api/hubspot/contacts?status=active'))).toEqual([survivor]);
    const mergedList = await read('/api/hubspot/contacts?status=merged');
    expect(mergedList.body.data).toEqual([
      expect.objectContaining({ id: loser, status: 'MERGED', mergedInto: survivor }),
    ]);
    expect(mergedList.body.pagination.totalCount).toBe(1);
    expect((await read('/api/hubspot/companies?status=merged')).status).toBe(400);
    const company = await read(`/api/hubspot/companies/${companies[1]}`);
    expect(company.body.data.contacts.map((contact: { id: string }) => contact.id)).toEqual([survivor]);

    // HubSpot says they are one person: the people merged, and both contact ids name the survivor's person.
    const person = await personOfContact(survivor);
    expect(await personOfContact(loser)).toBe(person);
    const view = await read(`/api/people/${loserPerson}`);
    expect(view.status).toBe(200);
    expect(view.body.person.id).toBe(person);
    expect(view.body.person.hubspot.contacts.map((contact: { id: string }) => contact.id)).toEqual([
      survivor,
    ]);
    expect(view.body.person.aliases).toEqual(
      expect.arrayContaining([
        { type: 'hubspot_contact_id', value: survivor },
        { type: 'hubspot_contact_id', value: loser },
      ]),
    );
    expect(await observationsOf(loser)).toBe(loserObservations);
  });

  it('catches a merged id named only in hs_calculated_merged_vids, and one named only in hs_merged_object_ids', async () => {
    const [a, b, c, d] = standIn.generate({ contacts: 4 }).contacts as [string, string, string, string];
    await run('contacts');
    standIn.merge(a, b, { omitFrom: 'hs_merged_object_ids' });
    standIn.merge(c, d, { omitFrom: 'hs_calculated_merged_vids' });
    expect(standIn.get('contacts', a)!.properties.hs_merged_object_ids ?? null).toBeNull();
    expect(standIn.get('contacts', c)!.properties.hs_calculated_merged_vids ?? null).toBeNull();
    await run('contacts');
    expect(
      (await mergePairs()).map(({ merged_id, survivor_id, merged_at }) => [
        merged_id,
        survivor_id,
        merged_at !== null,
      ]),
    ).toEqual([
      [b, a, true],
      [d, c, false],
    ]);
    const listed = await read('/api/hubspot/contacts');
    expect(listed.body.data.map((contact: { id: string }) => contact.id).sort()).toEqual([a, c].sort());
  });

  it('is idempotent, and a loser that search still returns after the merge stays merged and makes no observation', async () => {
    standIn.mergedLingerMs = 60_000;
    const [a, b, other] = standIn.generate({ contacts: 3 }).contacts as [string, string, string];
    await run('contacts');
    const loserObservations = await observationsOf(b);
    // The loser changes, then is merged before we read that change: search still returns that version.
    standIn.update('contacts', b, { jobtitle: 'Last title before the merge' });
    standIn.merge(a, b);
    const first = await run('contacts');
    expect(first.counts).toMatchObject({ records: 3, merges: 1 });
    const pairs = await mergePairs();
    expect(pairs.map(({ merged_id, survivor_id }) => [merged_id, survivor_id])).toEqual([[b, a]]);
    // Its page named it merged: the stale version is not news about a person.
    expect(await observationsOf(b)).toBe(loserObservations);

    // Again: the loser comes back as a normal record after its survivor was recorded, and nothing changes.
    const again = await run('contacts');
    expect(again.counts).toMatchObject({ records: 3, merges: 0 });
    expect(await mergePairs()).toEqual(pairs);
    expect(await observationsOf(b)).toBe(loserObservations);
    const loserView = await read(`/api/hubspot/contacts/${b}`);
    expect(loserView.body.data).toMatchObject({ status: 'MERGED', mergedInto: a });
    const listed = await read('/api/hubspot/contacts');
    expect(listed.body.data.map((contact: { id: string }) => contact.id).sort()).toEqual([a, other].sort());
  });

  it('a loser written after its survivor (same page or a later one) ends merged; a loser never seen has a pair and no row', async () => {
    const version = (id: string, modified: string, merged?: string): HubspotRecord => ({
      id,
      properties: {
        hs_object_id: id,
        email: `c${id}@merge-order.example`,
        lastmodifieddate: modified,
        ...(merged ? { hs_merged_object_ids: merged } : {}),
      },
    });
    const page = async (records: HubspotRecord[]) =>
      writePage(db.pool, {
        definition: OBJECTS.contacts,
        rows: records.map((record) => rowOf(OBJECTS.contacts, record)!),
        checkpoint: {
          job: 'merge-order',
          phase: 'search',
          lastModified: null,
          lastId: null,
          listAfter: null,
        },
        runId: 0,
        counts: {},
      });
    // Same page, survivor first.
    const samePage = await page([
      version('9001', '2024-03-01T00:00:00.000Z', '9002'),
      version('9002', '2024-02-01T00:00:00.000Z'),
    ]);
    expect(samePage.merges).toBe(1);
    expect(
      samePage.observations.map(
        (observation) => (observation.payload as { hubspot: { id: string } }).hubspot.id,
      ),
    ).toEqual(['9001']);
    // A later page.
    await page([version('9101', '2024-03-01T00:00:00.000Z', '9102;9103')]);
    const laterPage = await page([version('9102', '2024-02-01T00:00:00.000Z')]);
    expect(laterPage.observations).toEqual([]);
    // Written once more: nothing recorded again.
    expect((await page([version('9101', '2024-03-01T00:00:00.000Z', '9102;9103')])).merges).toBe(0);

    const status = async (id: string) => (await read(`/api/hubspot/contacts/${id}`)).body.data?.status;
    expect([await status('9002'), await status('9102')]).toEqual(['MERGED', 'MERGED']);
    const neverSeen = await read('/api/hubspot/contacts/9103');
    expect(neverSeen.status).toBe(404);
    expect(neverSeen.body).toMatchObject({ error: 'NOT_FOUND', details: { mergedInto: '9101' } });
    const { rows } = await db.pool.query('SELECT 1 FROM hubspot_contacts WHERE hubspot_id = 9103');
    expect(rows).toEqual([]);
  });
});

describe('push and merged contacts', () => {
  freshDatabasePerTest();

  it('never sends the merged id: dry run and execute target the survivor', async () => {
    const visit = await request(app).post('/api/webhook').send(fixture(0));
    expect(visit.body).toMatchObject({ processed: true });
    const dana = visit.body.person_id as string;
    const survivor = standIn.create('contacts', {
      email: 'd.whitfield@orchard-cyber.example',
      firstname: 'Dana',
      jobtitle: 'Security',
    }).id;
    const loser = standIn.create('contacts', {
      email: DANA_EMAIL,
      firstname: 'Dana',
      jobtitle: 'Security',
    }).id;
    await syncAll();
    expect(await personOfContact(loser)).toBe(dana);
    const targets = (result: unknown) =>
      (result as { entries: { contactId: string }[] }).entries.map((entry) => entry.contactId);
    // Before the merge the loser is Dana's contact, and the push would write to it.
    expect(targets((await run('push')).result)).toEqual([loser]);

    standIn.merge(survivor, loser);
    await run('contacts');
    expect(await personOfContact(survivor)).toBe(dana);
    standIn.clearRequests();
    const dry = await run('push');
    expect(targets(dry.result)).toEqual([survivor]);
    expect(standIn.requests).toHaveLength(0);

    const executed = await run('push', { execute: true });
    expect(executed.outcome).toBe('success');
    const sent = standIn
      .requestsTo('POST /crm/v3/objects/contacts/batch/update')
      .flatMap((entry) => (entry.body as { inputs: { id: string }[] }).inputs.map((input) => input.id));
    expect(sent).toEqual([survivor]);
    expect(JSON.stringify(standIn.requests.map((entry) => [entry.path, entry.body]))).not.toContain(loser);
    expect(standIn.get('contacts', survivor)!.properties.jobtitle).toBe('Chief Information Security Officer');
  });
});
