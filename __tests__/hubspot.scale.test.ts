import { deferredProcessor } from '../src/ingest/processor';
import { createLogger } from '../src/logger';
import type { RunnerDeps } from '../src/sources/hubspot';
import { HubspotClient, runToEnd } from '../src/sources/hubspot';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import type { HubspotStandIn } from './helpers/hubspot-standin';
import { startHubspotStandIn, testClientOptions } from './helpers/hubspot-standin';

const CONTACTS = 25_000;
const EDITED = 12_000;

let db: TestDatabase;
let standIn: HubspotStandIn;
let deps: RunnerDeps;

beforeAll(async () => {
  db = await createTestDatabase();
  standIn = await startHubspotStandIn({ seed: 25, limits: { tenSecondly: null, searchSecondly: null } });
  deps = {
    pool: db.pool,
    client: new HubspotClient(testClientOptions(standIn)),
    // Phase 2 deferred (PHASE2_MODE=deferred): the observations wait for the sweeper; this file is about the mirror.
    processor: deferredProcessor,
    settings: { pageSize: 200, batchSize: 1000, lookbackMinutes: 5, searchCap: 10_000, phase2Concurrency: 4 },
    logger: createLogger({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }),
  };
});

afterAll(async () => {
  await standIn.close();
  await db.drop();
});

/** Same ids, modified dates, archived flags and e-mails as the stand-in holds. */
async function expectContactsExact(): Promise<void> {
  const { rows } = await db.pool.query<{
    id: string;
    updated: string;
    archived: boolean;
    email: string | null;
  }>(
    `SELECT hubspot_id::text AS id, (extract(epoch FROM updated_at) * 1000)::bigint::text AS updated, archived,
            raw -> 'properties' ->> 'email' AS email
       FROM hubspot_contacts ORDER BY hubspot_id`,
  );
  const expected = standIn.all('contacts').map((record) => ({
    id: record.id,
    updated: String(record.updatedAt),
    archived: record.archived,
    email: record.properties.email ?? null,
  }));
  expect(rows.length).toBe(expected.length);
  expect(rows).toEqual(expected);
}

describe(`${CONTACTS} contacts, past the 10 000 search cap`, () => {
  it('the first run lists them all; an incremental run over more than 10 000 changes restarts its search window', async () => {
    standIn.generate({ contacts: CONTACTS });
    const first = await runToEnd(deps, 'contacts', { trigger: 'cli' });
    expect(first).toMatchObject({ outcome: 'success', counts: { inserted: CONTACTS } });
    const listed = standIn.requestsTo('GET /crm/v3/objects/contacts');
    expect(listed).toHaveLength(CONTACTS / 100);
    await expectContactsExact();

    standIn.clearRequests();
    const contacts = standIn.all('contacts');
    for (let i = 0; i < EDITED; i += 1) {
      const record = contacts[(i * 2) % CONTACTS]!;
      standIn.update('contacts', record.id, { lifecyclestage: 'customer', jobtitle: `Edited ${i}` });
    }
    standIn.archive('contacts', contacts[1]!.id);
    const second = await runToEnd(deps, 'contacts', { trigger: 'cli' });
    expect(second.outcome).toBe('success');
    expect(second.counts.windows).toBeGreaterThanOrEqual(1);
    const searches = standIn.requestsTo('POST /crm/v3/objects/contacts/search');
    expect(searches.every((request) => request.status === 200)).toBe(true);
    const offsets = searches.map((request) => Number((request.body as { after: string }).after));
    expect(Math.max(...offsets)).toBeLessThan(10_000);
    expect(offsets.filter((offset) => offset === 0).length).toBeGreaterThanOrEqual(2);
    expect(standIn.requestsTo('GET /crm/v3/objects/contacts')).toHaveLength(0);

    await runToEnd(deps, 'contacts:deleted', { trigger: 'cli' });
    await expectContactsExact();
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM observations WHERE source = 'hubspot'`,
    );
    // One observation per contact version: the first sync's, and the edited versions.
    expect(rows[0]!.n).toBe(CONTACTS + EDITED);
  });
});
